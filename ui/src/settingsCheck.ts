// Settings validation, mirroring auren-desktop's settings::validate (max HR 100–240; exactly 4
// zone bounds, each 30–99 %, strictly rising; folders non-empty absolute paths) so the form can
// point at a bad field before saving; the app still validates (invalid_settings) and its word is final.

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
export const ZONE_PCT_MIN = 30;
export const ZONE_PCT_MAX = 99;

/** Whether the platform's file-system paths are Windows ones (drive letters, UNC). */
export function windowsPaths(userAgent: string = typeof navigator === "undefined" ? "" : navigator.userAgent): boolean {
  return /Windows/i.test(userAgent);
}

/** Rust's `Path::is_absolute` on the trimmed text: a leading "/" on Unix; on Windows a drive with
 * a separator ("C:\\…", "C:/…") or a UNC/verbatim prefix ("\\\\server\\…"). */
export function isAbsolutePath(path: string, windows: boolean): boolean {
  const p = path.trim();
  if (!windows) return p.startsWith("/");
  return /^[A-Za-z]:[\\/]/.test(p) || /^[\\/]{2}[^\\/]/.test(p);
}

export function checkSettings(s: SettingsLike, windows: boolean = windowsPaths()): FieldProblem[] {
  const out: FieldProblem[] = [];
  if (!["system", "light", "dark"].includes(s.theme)) out.push({ field: "theme", message: "Theme must be system, light or dark." });
  if (!["ms", "s"].includes(s.rr_unit)) out.push({ field: "rr_unit", message: "RR unit must be ms or s." });
  if (!Number.isInteger(s.max_hr) || s.max_hr < MAX_HR_MIN || s.max_hr > MAX_HR_MAX) {
    out.push({ field: "max_hr", message: `Max HR must be a whole number from ${MAX_HR_MIN} to ${MAX_HR_MAX} bpm.` });
  }
  const z = s.zones_pct;
  if (z.length !== 4) {
    out.push({ field: "zones_pct", message: "There must be exactly 4 zone boundaries." });
  } else if (z.some((v) => !Number.isInteger(v) || v < ZONE_PCT_MIN || v > ZONE_PCT_MAX)) {
    out.push({ field: "zones_pct", message: `Zone boundaries are whole percentages from ${ZONE_PCT_MIN} to ${ZONE_PCT_MAX} of max HR.` });
  } else if (z.some((v, i) => i > 0 && v <= z[i - 1])) {
    out.push({ field: "zones_pct", message: "Zone boundaries must rise from zone 1 to zone 4." });
  }
  const folders = [["data_dir", "data folder", s.data_dir], ["export_dir", "export folder", s.export_dir]] as const;
  for (const [field, name, dir] of folders) {
    if (dir.trim() === "") out.push({ field, message: `The ${name} cannot be empty.` });
    else if (!isAbsolutePath(dir, windows)) out.push({ field, message: `The ${name} must be a full path from the root (like ${windows ? "C:\\Users\\you\\Auren" : "/home/you/Auren"}).` });
  }
  return out;
}
