/** docs/architecture.md cannot go stale: every `src/...` path it names exists. */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { packageRoot } from "../../src/paths.js";

const doc = readFileSync(join(packageRoot, "docs", "architecture.md"), "utf8");
const named = [...new Set([...doc.matchAll(/`(src\/[^`\s]*)`/g)].map((m) => m[1] as string))];

describe("docs/architecture.md", () => {
  it("names the decision flow's files", () => {
    expect(named).toEqual(
      expect.arrayContaining([
        "src/server/routes/decisions.ts",
        "src/server/plugins/auth.ts",
        "src/decision/engine.ts",
        "src/policy/evaluator.ts",
        "src/ledger/engine.ts",
        "src/storage/batched-store.ts",
        "src/storage/group-commit.ts",
        "src/audit/chain.ts",
      ]),
    );
  });

  it("names only paths that exist", () => {
    expect(named.filter((path) => !existsSync(join(packageRoot, path)))).toEqual([]);
  });
});
