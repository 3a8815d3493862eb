/**
 * A failing test fails the run: `npm test` (and so CI) exits non-zero. The PostgreSQL the global
 * setup starts comes with exit hooks that once turned every run into exit 0; this runs vitest,
 * with that setup, on one failing test and on one passing test.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { packageRoot } from "../src/paths.js";

const dir = mkdtempSync(join(tmpdir(), "creditgate-exit-code-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runVitest(body: string): number | null {
  const file = join(dir, `case-${Math.random().toString(36).slice(2)}.test.ts`);
  writeFileSync(file, `import { expect, it } from "vitest";\nit("case", () => { ${body} });\n`);
  const config = `${file}.config.ts`;
  writeFileSync(
    config,
    `export default { test: { root: ${JSON.stringify(dir)}, include: [${JSON.stringify(file)}], globalSetup: [${JSON.stringify(join(packageRoot, "test", "helpers", "postgres-global-setup.ts"))}] } };\n`,
  );
  const result = spawnSync(
    process.execPath,
    [join(packageRoot, "node_modules", "vitest", "vitest.mjs"), "run", "--config", config],
    { cwd: packageRoot, encoding: "utf8", timeout: 120_000 },
  );
  return result.status;
}

describe("the test run's exit code", () => {
  it("is 1 when a test fails and 0 when all pass, with the PostgreSQL global setup", () => {
    expect(runVitest("expect(1).toBe(2);")).toBe(1);
    expect(runVitest("expect(1).toBe(1);")).toBe(0);
  }, 240_000);
});
