/** `creditgate revoke`: recorded on the configured store; on PostgreSQL, running instances are told. */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { defaultConfig } from "../../src/config/load.js";
import type { Config } from "../../src/config/types.js";
import { openRevocationFeed } from "../../src/storage/open.js";
import { createDatabase } from "../helpers/postgres.js";
import { runCli } from "./helpers.js";

const root = mkdtempSync(join(tmpdir(), "creditgate-cli-revoke-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const args = [
  "revoke",
  ...["--config", "creditgate.yaml", "--tenant", "acme", "--kind", "principal", "--subject", "p1"],
];

describe("creditgate revoke", () => {
  it("records the revocation on SQLite, where there is no one to notify", async () => {
    const cwd = mkdtempSync(join(root, "sqlite-"));
    writeFileSync(
      join(cwd, "creditgate.yaml"),
      "store:\n  kind: sqlite\n  sqlite:\n    path: ledger.db\n    synchronous: FULL\n",
    );
    const run = await runCli([...args, "--reason", "leaked", "--key", "k1"], { cwd });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, code: "ok", kind: "principal" });
    expect(existsSync(join(cwd, "ledger.db"))).toBe(true);
  });

  it("tells every instance listening on PostgreSQL", async () => {
    const url = await createDatabase("cli_revoke");
    const cwd = mkdtempSync(join(root, "postgres-"));
    writeFileSync(
      join(cwd, "creditgate.yaml"),
      `store:\n  kind: postgres\n  postgres:\n    url: "${url}"\n    pool_size: 2\n`,
    );
    const config: Config = {
      ...defaultConfig,
      store: { kind: "postgres", postgres: { url, pool_size: 1 } },
    };
    const heard: unknown[] = [];
    const listener = await openRevocationFeed(config, { onNotice: (n) => heard.push(n) });
    try {
      const run = await runCli([...args, "--reason", "leaked", "--key", "k1"], { cwd });
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      await expect
        .poll(() => heard, { timeout: 5000 })
        .toEqual([{ tenant: "acme", kind: "principal", subject: "p1" }]);
    } finally {
      await listener?.close();
    }
  });
});
