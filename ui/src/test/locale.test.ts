import { describe, expect, it } from "vitest";
import { usableLanguage } from "../locale";

describe("usableLanguage", () => {
  it.each([
    ["en-GB", "en-GB"],
    ["de-CH", "de-CH"],
    ["C", "en-US"],
    ["", "en-US"],
    [undefined, "en-US"],
    [null, "en-US"],
  ])("%s → %s", (tag, expected) => {
    expect(usableLanguage(tag)).toBe(expected);
  });
});
