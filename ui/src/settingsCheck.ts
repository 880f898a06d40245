// Settings validation, mirroring the app's checks so the form can point at a bad field before
// saving; the app still validates (invalid_settings) and its word is final.

export interface SettingsLike {
  theme: string;
  rr_unit: string;
  max_hr: number;
  zones_pct: number[];
  data_dir: string;
  export_dir: string;
}

export interface FieldProblem {
  field: keyof SettingsLike;
  message: string;
}

export const MAX_HR_MIN = 100;
export const MAX_HR_MAX = 240;

export function checkSettings(s: SettingsLike): FieldProblem[] {
  const out: FieldProblem[] = [];
  if (!["system", "light", "dark"].includes(s.theme)) out.push({ field: "theme", message: "Theme must be system, light or dark." });
  if (!["ms", "s"].includes(s.rr_unit)) out.push({ field: "rr_unit", message: "RR unit must be ms or s." });
  if (!Number.isInteger(s.max_hr) || s.max_hr < MAX_HR_MIN || s.max_hr > MAX_HR_MAX) {
    out.push({ field: "max_hr", message: `Max HR must be a whole number from ${MAX_HR_MIN} to ${MAX_HR_MAX} bpm.` });
  }
  const z = s.zones_pct;
  if (z.length !== 4) {
    out.push({ field: "zones_pct", message: "There must be exactly 4 zone boundaries." });
  } else if (z.some((v) => !Number.isInteger(v) || v < 1 || v > 100)) {
    out.push({ field: "zones_pct", message: "Zone boundaries are whole percentages from 1 to 100." });
  } else if (z.some((v, i) => i > 0 && v <= z[i - 1])) {
    out.push({ field: "zones_pct", message: "Zone boundaries must rise from zone 1 to zone 4." });
  }
  if (s.data_dir.trim() === "") out.push({ field: "data_dir", message: "The data folder cannot be empty." });
  if (s.export_dir.trim() === "") out.push({ field: "export_dir", message: "The export folder cannot be empty." });
  return out;
}
