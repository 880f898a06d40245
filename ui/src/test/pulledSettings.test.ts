// A save from a touched Settings form keeps the person's changes and the values another device set meanwhile.
import { describe, expect, it } from "vitest";
import { withPulled } from "../sync/pulledSettings";

const filled = { theme: "dark", max_hr: 190, zones_pct: [60, 70, 80, 90] };

describe("withPulled", () => {
  it.each<[string, typeof filled, typeof filled | null, typeof filled]>([
    ["the person changed max HR while another device set the theme",
      { ...filled, max_hr: 181 }, { ...filled, theme: "light" }, { ...filled, theme: "light", max_hr: 181 }],
    ["both changed the same field: the person's save wins",
      { ...filled, max_hr: 181 }, { ...filled, max_hr: 175 }, { ...filled, max_hr: 181 }],
    ["nothing arrived", { ...filled, zones_pct: [55, 70, 80, 90] }, filled, { ...filled, zones_pct: [55, 70, 80, 90] }],
    ["no settings known yet", { ...filled, max_hr: 181 }, null, { ...filled, max_hr: 181 }],
  ])("%s", (_, form, latest, want) => expect(withPulled(form, filled, latest)).toEqual(want));
});
