// Pair: Bluetooth state, scanning for straps, remembered straps, and the simulator.
import { h, option, replace } from "../dom";
import { call, type Bluetooth, type FoundStrap, type RememberedStrap, type Scenario } from "../ipc";
import { source, SIMULATED_LABEL } from "../state";
import { navigate, simulatedBadge } from "../shell";
import { formatDateTime, signalBars } from "../format";
import { busy, card, errorNote, pageHeader, spinner } from "./common";

const SCAN_SECONDS = 8;
const SCENARIOS: { id: Scenario; label: string }[] = [
  { id: "rest", label: "Rest — calm, seated" },
  { id: "fatigued", label: "Fatigued — low HRV" },
  { id: "exercise", label: "Exercise — ramp through zones" },
  { id: "breathing", label: "Paced breathing — 6 per minute" },
];
const SPEEDS = [1, 10, 30, 60];

function bars(rssi: number | null): HTMLElement {
  const n = signalBars(rssi);
  return h("span", { class: "rssi", title: rssi === null ? "Signal unknown" : `Signal ${rssi} dBm` },
    h("span", { class: "bars", attrs: { "aria-hidden": "true" } },
      [1, 2, 3, 4].map((i) => h("span", { class: `bar b${i}${i <= n ? " on" : ""}` }))),
    h("span", { class: "rssi-dbm" }, rssi === null ? "—" : `${rssi} dBm`));
}

type BluetoothProblem = Exclude<Bluetooth["state"], "ready">;

const BT_TITLES: Record<BluetoothProblem, string> = {
  no_adapter: "No Bluetooth adapter",
  off: "Bluetooth is off",
  permission_denied: "Bluetooth permission missing",
  unavailable: "Bluetooth unavailable",
};

const BT_HELP: Record<BluetoothProblem, string> = {
  no_adapter: "This computer has no Bluetooth adapter that Auren can use. A USB Bluetooth 4.0+ dongle works, or try Auren with the built-in simulator below.",
  off: "Bluetooth is switched off. Turn it on in your system settings (or with `bluetoothctl power on`), then scan again.",
  permission_denied: "Auren is not allowed to use Bluetooth. Grant the permission (on Linux: be in the `bluetooth` group or allow access via BlueZ policy), then scan again.",
  unavailable: "The Bluetooth service cannot be reached (is BlueZ running?). Start it with `systemctl start bluetooth`, then scan again.",
};

export function mountPair(root: HTMLElement): () => void {
  const status = h("p", { class: "bt-status", testid: "bluetooth-status" }, "Checking Bluetooth…");
  const btPanel = h("div");
  const scanList = h("div", { class: "list", role: "list" });
  const scanNote = h("div", { class: "muted small" });
  const remembered = h("div", { class: "list", role: "list" });
  let alive = true;

  const chooseStrap = async (address: string, name: string) => {
    source.set({ kind: "strap", address, name });
    try {
      await call("rememberStrap", address, name);
    } catch (e) {
      console.warn("rememberStrap", e);
    }
    navigate("live");
  };

  const renderRemembered = (list: RememberedStrap[]) => {
    if (list.length === 0) {
      replace(remembered, h("p", { class: "muted" }, "No remembered straps yet. Connect one from the scan list and it will be offered here first."));
      return;
    }
    replace(remembered, list.map((r) =>
      h("div", { class: "row", role: "listitem", testid: "remembered-row", data: { address: r.address } },
        h("div", { class: "row-main" }, h("strong", null, r.name || "Unnamed strap"), h("span", { class: "muted mono small" }, r.address),
          h("span", { class: "muted small" }, r.last_used_unix_ms ? `Last used ${formatDateTime(r.last_used_unix_ms)}` : "Never used")),
        h("div", { class: "row-actions" },
          h("button", { class: "btn btn-primary", testid: "connect-button", on: { click: () => void chooseStrap(r.address, r.name) } }, "Connect"),
          h("button", {
            class: "btn btn-quiet", testid: "forget-button", ariaLabel: `Forget ${r.name || r.address}`,
            on: {
              click: async () => {
                try {
                  renderRemembered(await call("forgetStrap", r.address));
                  const cur = source.get();
                  if (cur?.kind === "strap" && cur.address === r.address) source.set(null);
                } catch (e) {
                  remembered.prepend(errorNote(e));
                }
              },
            },
          }, "Forget")))));
  };

  const renderFound = (found: FoundStrap[]) => {
    if (found.length === 0) {
      replace(scanList, h("p", { class: "muted" }, "No heart-rate straps found. Wet the strap's electrodes and put it on — most straps only advertise while they feel a heartbeat."));
      return;
    }
    const sorted = [...found].sort((a, b) => (b.rssi ?? -999) - (a.rssi ?? -999));
    replace(scanList, sorted.map((f) => {
      const name = f.name ?? "Unnamed strap";
      return h("div", { class: "row", role: "listitem", testid: "strap-row", data: { address: f.address } },
        h("div", { class: "row-main" }, h("strong", null, name), h("span", { class: "muted mono small" }, f.address),
          f.remembered ? h("span", { class: "badge" }, "Remembered") : null),
        bars(f.rssi),
        h("div", { class: "row-actions" },
          h("button", { class: "btn btn-primary", testid: "connect-button", on: { click: () => void chooseStrap(f.address, name) } }, "Connect")));
    }));
  };

  const scanBtn = h("button", { class: "btn btn-primary", testid: "scan-button" }, "Scan for straps");
  scanBtn.addEventListener("click", () => {
    replace(scanNote, spinner(), ` Scanning for ${SCAN_SECONDS} seconds…`);
    void busy(scanBtn, async () => {
      try {
        const found = await call("scanStraps", SCAN_SECONDS);
        if (!alive) return;
        replace(scanNote, `Found ${found.length} strap${found.length === 1 ? "" : "s"}.`);
        renderFound(found);
      } catch (e) {
        if (!alive) return;
        replace(scanNote);
        replace(scanList, errorNote(e));
      }
    });
  });

  const scenarioSel = h("select", { testid: "simulator-scenario", id: "sim-scenario" });
  const speedSel = h("select", { testid: "simulator-speed", id: "sim-speed" });
  const cur = source.get();
  for (const s of SCENARIOS) scenarioSel.append(option(s.id, s.label, cur?.kind === "simulator" && cur.scenario === s.id));
  for (const s of SPEEDS) speedSel.append(option(String(s), s === 1 ? "Real time (1×)" : `${s}× faster`, cur?.kind === "simulator" && cur.speed === s));
  const useSim = h("button", {
    class: "btn btn-primary", testid: "use-simulator",
    on: {
      click: () => {
        source.set({ kind: "simulator", scenario: scenarioSel.value as Scenario, speed: Number(speedSel.value) });
        navigate("live");
      },
    },
  }, "Use simulator");

  const simCard = card(null,
    h("div", { class: "card-title-row" }, h("h2", { class: "card-title" }, "Built-in simulator"), simulatedBadge()),
    h("p", { class: "muted" }, `No strap at hand? The simulator produces realistic heartbeats so you can try every view. Everything it records is labelled “${SIMULATED_LABEL}”.`),
    h("div", { class: "form-row" },
      h("label", { for: "sim-scenario" }, "Scenario"), scenarioSel,
      h("label", { for: "sim-speed" }, "Speed"), speedSel, useSim));

  replace(root,
    pageHeader("Pair a strap", "Connect a Bluetooth heart-rate strap (Polar H10, Garmin HRM, Wahoo TICKR…) that sends RR intervals."),
    card("Bluetooth", status, btPanel, h("div", { class: "toolbar" }, scanBtn, scanNote), scanList),
    card("Remembered straps", remembered),
    simCard);

  call("bluetoothStatus").then((bt: Bluetooth) => {
    if (!alive) return;
    replace(status, bt.message);
    status.className = `bt-status bt-${bt.state}`;
    if (bt.state !== "ready") {
      replace(btPanel, h("div", { class: "note note-warn", role: "status" },
        h("strong", null, BT_TITLES[bt.state]),
        h("p", null, BT_HELP[bt.state]),
        h("button", { class: "btn", on: { click: () => { simCard.scrollIntoView({ behavior: "smooth" }); useSim.focus(); } } }, "Try the simulator")));
    }
  }).catch((e: unknown) => alive && replace(status, errorNote(e)));

  call("rememberedStraps").then((r) => alive && renderRemembered(r)).catch((e: unknown) => alive && replace(remembered, errorNote(e)));

  return () => { alive = false; };
}
