// What a Settings save sends when values from another device arrived while the form was being edited.

/** A touched form is not refilled when another device's values arrive (the person's typing would be lost),
 * but a value set there since the form was filled must not go back as this save's edit: each field the
 * person left as it was shown takes the latest value; each field they changed keeps theirs. */
export function withPulled<T extends object>(form: T, filledFrom: T | null, latest: T | null): T {
  if (filledFrom === null || latest === null) return form;
  const out = { ...form };
  for (const key of Object.keys(form) as (keyof T)[]) {
    if (JSON.stringify(form[key]) === JSON.stringify(filledFrom[key])) out[key] = latest[key];
  }
  return out;
}
