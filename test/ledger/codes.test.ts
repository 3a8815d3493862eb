import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { resultCodes } from "../../src/ledger/codes.js";

describe("result codes", () => {
  it("are listed in src/ledger/README.md in the same precedence order", () => {
    const readme = readFileSync(join(import.meta.dirname, "../../src/ledger/README.md"), "utf8");
    const section = readme.slice(
      readme.indexOf("## Result codes"),
      readme.indexOf("## Invariants"),
    );
    const listed = [...section.matchAll(/`([a-z_]+)`/g)]
      .map((m) => m[1]!)
      .filter((code) => (resultCodes as readonly string[]).includes(code));
    expect([...new Set(listed)]).toEqual([...resultCodes]);
  });
});
