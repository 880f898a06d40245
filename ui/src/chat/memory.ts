// The memory panel's pure logic ("What Auren knows about me"): memories grouped by kind in a fixed order,
// and the words shown for provenance, validity, proposals and hypothesis status. The types mirror the
// generated DTOs (MemoryPanelDto and friends) so this module and its tests need no Tauri.

export type MemoryKind = "fact" | "preference" | "goal" | "milestone" | "insight" | "hypothesis";
export type MemoryState = "active" | "superseded" | "retracted";
export type Provenance =
  | { kind: "message"; message: number }
  | { kind: "other_device"; device: string; message: number }
  | { kind: "receipt"; receipt: string }
  | { kind: "person" };
export type HypothesisStatus = "open" | "supported" | "refuted" | "inconclusive";
export type ProposalOp = "add" | "supersede" | "retract";

export interface Memory {
  id: number;
  kind: MemoryKind;
  text: string;
  provenance: Provenance;
  importance: number | null;
  importance_label: string;
  valid_from: string;
  valid_to: string | null;
  recorded: string;
  state: MemoryState;
  superseded_by: number | null;
  supersede_reason: string | null;
  retracted: string | null;
  retract_reason: string | null;
}

export interface Proposal {
  id: number;
  op: ProposalOp;
  target: number | null;
  kind: MemoryKind | null;
  text: string | null;
  reason: string | null;
  proposed: string;
}

export interface Hypothesis {
  id: number;
  statement: string;
  metric: string;
  exposure_tag: string;
  lag_days: number;
  direction: "lower" | "higher" | "either";
  status: HypothesisStatus;
  evidence: string[];
  last_tested: string | null;
  memory: number | null;
}

export interface MemoryPanelData {
  as_of: string;
  memories: Memory[];
  proposals: Proposal[];
  hypotheses: Hypothesis[];
}

/** What the panel asks of the Rust side. */
export interface MemoryBackend {
  panel(asOf: string | null): Promise<MemoryPanelData>;
  confirm(proposal: number): Promise<void>;
  reject(proposal: number): Promise<void>;
  edit(id: number, text: string, reason: string): Promise<void>;
  retract(id: number, reason: string): Promise<void>;
  forget(id: number): Promise<void>;
}

/** The sections in the order shown; hypothesis memories sit beside the hypotheses' own list. */
export const KIND_ORDER: MemoryKind[] = ["fact", "preference", "goal", "milestone", "insight", "hypothesis"];

export const KIND_LABELS: Record<MemoryKind, string> = {
  fact: "Facts",
  preference: "Preferences",
  goal: "Goals",
  milestone: "Milestones",
  insight: "Insights",
  hypothesis: "Hypotheses",
};

export const STATUS_LABELS: Record<HypothesisStatus, string> = {
  open: "Open — not enough data yet",
  supported: "Supported",
  refuted: "Refuted",
  inconclusive: "Inconclusive",
};

export interface MemorySection {
  kind: MemoryKind;
  label: string;
  items: Memory[];
}

/** Memories by kind in [`KIND_ORDER`], empty kinds left out, most important first within a kind. */
export function groupMemories(memories: Memory[]): MemorySection[] {
  return KIND_ORDER.map((kind) => ({
    kind,
    label: KIND_LABELS[kind],
    items: memories
      .filter((m) => m.kind === kind)
      .sort((a, b) => (b.importance ?? 0) - (a.importance ?? 0) || a.id - b.id),
  })).filter((s) => s.items.length > 0);
}

export function provenanceLabel(p: Provenance): string {
  switch (p.kind) {
    case "message": return `said in message ${p.message}`;
    // The conversation stays on the device it was held on: nothing here to open.
    case "other_device": return "said in a conversation on another device";
    case "receipt": return `computed (receipt ${p.receipt})`;
    case "person": return "told directly";
  }
}

/** "since 2026-11-02", "2026-11-02 – 2026-12-01", plus the state when not active. */
export function validityLabel(m: Memory): string {
  const span = m.valid_to ? `${m.valid_from} – ${m.valid_to}` : `since ${m.valid_from}`;
  if (m.state === "retracted") return `${span} · retracted ${m.retracted ?? ""}: ${m.retract_reason ?? ""}`.trim();
  if (m.state === "superseded") {
    const by = m.superseded_by === null ? "a forgotten memory" : `memory ${m.superseded_by}`;
    return `${span} · replaced by ${by}: ${m.supersede_reason ?? ""}`.trim();
  }
  return span;
}

/** One line saying what a proposal would change. */
export function proposalLabel(p: Proposal): string {
  const kind = p.kind ? KIND_LABELS[p.kind].replace(/s$/, "").toLowerCase() : "memory";
  switch (p.op) {
    case "add": return `Remember (${kind}): ${p.text ?? ""}`;
    case "supersede": return `Replace memory ${p.target ?? "?"} with (${kind}): ${p.text ?? ""} — ${p.reason ?? ""}`;
    case "retract": return `Withdraw memory ${p.target ?? "?"} — ${p.reason ?? ""}`;
  }
}

/** "lower next morning" / "higher 3 days later" / "either way the same day". */
export function hypothesisEffect(h: Hypothesis): string {
  const when = h.lag_days === 0 ? "the same day" : h.lag_days === 1 ? "next morning" : `${h.lag_days} days later`;
  const way = h.direction === "either" ? "changes" : h.direction;
  return `${h.metric} ${way} ${when} after ${h.exposure_tag}`;
}
