// Makes navigator.language a tag Intl accepts, before anything formats numbers or dates.
//
// WebKitGTK reports the POSIX locale as the tag "C" when LANG is C or unset (minimal installs, CI,
// containers). Intl throws a RangeError on it, and uPlot builds an Intl.NumberFormat from
// navigator.language when its module loads — the whole window stayed blank. This module is imported
// first by main.ts so it runs before uPlot's module does.

/** `tag` when Intl accepts it, else "en-US". */
export function usableLanguage(tag: string | undefined | null): string {
  if (!tag) return "en-US";
  try {
    new Intl.NumberFormat(tag);
    return tag;
  } catch {
    return "en-US";
  }
}

if (typeof navigator !== "undefined") {
  const reported = navigator.language;
  const usable = usableLanguage(reported);
  if (usable !== reported) {
    Object.defineProperty(navigator, "language", { get: () => usable, configurable: true });
    Object.defineProperty(navigator, "languages", { get: () => [usable], configurable: true });
  }
}
