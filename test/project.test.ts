/** What a user checks before adopting the package: the license file says what package.json says. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { packageRoot } from "../src/paths.js";

const read = (name: string) => readFileSync(join(packageRoot, name), "utf8");

/** The SPDX id each license text announces in its opening lines. */
const licenseTitles: Readonly<Record<string, RegExp>> = {
  "Apache-2.0":
    /^\s*Apache License\s+Version 2\.0, January 2004\s+http:\/\/www\.apache\.org\/licenses\//,
};

describe("project files", () => {
  const pkg = JSON.parse(read("package.json")) as { license: string; version: string };

  it("LICENSE holds the full text of the license package.json names", () => {
    const title = licenseTitles[pkg.license];
    expect(title, `no known text for ${pkg.license}`).toBeDefined();
    const text = read("LICENSE");
    expect(text).toMatch(title as RegExp);
    // The whole text, not a stub: all nine sections and the closing line.
    for (const section of [
      "1. Definitions.",
      "4. Redistribution.",
      "9. Accepting Warranty or Additional Liability.",
      "END OF TERMS AND CONDITIONS",
    ]) {
      expect(text).toContain(section);
    }
  });

  it("CHANGELOG.md has an Unreleased section and one for the current version", () => {
    const changelog = read("CHANGELOG.md");
    expect(changelog).toMatch(/^## \[Unreleased\]$/m);
    expect(changelog).toMatch(new RegExp(`^## \\[${pkg.version.replaceAll(".", "\\.")}\\]`, "m"));
  });
});
