/** `creditgate tenant suspend|reinstate|show`, in-process on a temporary SQLite store. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { SqliteLedgerStore } from "../../src/storage/sqlite/store.js";
import { type CliRun, runCli } from "./helpers.js";

const root = mkdtempSync(join(tmpdir(), "creditgate-cli-tenant-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let cwd: string;
beforeEach(() => {
  cwd = mkdtempSync(join(root, "case-"));
  writeFileSync(
    join(cwd, "creditgate.yaml"),
    "store:\n  kind: sqlite\n  sqlite:\n    path: ledger/test.db\n    synchronous: FULL\n",
  );
});

function cli(...argv: string[]): Promise<CliRun> {
  return runCli([...argv, "--config", "creditgate.yaml"], { cwd, env: { USER: "alice" } });
}

const parse = (run: CliRun) => JSON.parse(run.stdout) as Record<string, unknown>;

describe("creditgate tenant", () => {
  it("suspends and reinstates through the ledger, audited with actor and reason, read by the snapshot", async () => {
    const suspended = await cli("tenant", "suspend", "--tenant", "acme", "--reason", "fraud");
    expect(suspended.code).toBe(0);
    expect(suspended.stderr).toBe("");
    expect(parse(suspended)).toMatchObject({
      ok: true,
      code: "ok",
      tenant: "acme",
      status: "suspended",
      previous_status: "active",
      changed: true,
      reason: "fraud",
      key: expect.stringMatching(/^cli-/),
      audit_seq: 1,
    });
    expect(parse(await cli("tenant", "show", "--tenant", "acme"))).toMatchObject({
      status: "suspended",
      reason: "fraud",
    });

    const replay = await cli(
      "tenant",
      "suspend",
      "--tenant",
      "acme",
      "--reason",
      "x",
      "--key",
      "k1",
    );
    expect(parse(replay)).toMatchObject({ code: "ok", changed: false });
    const again = await cli(
      "tenant",
      "suspend",
      "--tenant",
      "acme",
      "--reason",
      "x",
      "--key",
      "k1",
    );
    expect(parse(again)).toMatchObject({ code: "exists", changed: false });
    const conflict = await cli(
      "tenant",
      "reinstate",
      "--tenant",
      "acme",
      "--reason",
      "x",
      "--key",
      "k1",
    );
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toMatch(/exists_with_different_request/);

    const reinstated = await cli("tenant", "reinstate", "--tenant", "acme", "--reason", "paid up");
    expect(parse(reinstated)).toMatchObject({ status: "active", previous_status: "suspended" });

    const store = SqliteLedgerStore.open({ path: join(cwd, "ledger", "test.db") });
    try {
      expect((await store.snapshot("acme", [])).tenantStatus).toBe("active");
      const records = (await store.queryAudit({ kind: "tenant_status", limit: 10 })).records;
      expect(records.map((r) => [r.data.status, r.data.reason, r.data.context])).toEqual([
        ["suspended", "fraud", { via: "cli", actor: { kind: "cli", id: "alice" } }],
        ["suspended", "x", { via: "cli", actor: { kind: "cli", id: "alice" } }],
        ["active", "paid up", { via: "cli", actor: { kind: "cli", id: "alice" } }],
      ]);
    } finally {
      await store.close();
    }
  });

  it("refuses a missing verb, tenant or reason as a usage error", async () => {
    expect((await cli("tenant", "pause", "--tenant", "acme", "--reason", "x")).code).toBe(2);
    expect((await cli("tenant", "suspend", "--reason", "x")).code).toBe(2);
    const noReason = await cli("tenant", "suspend", "--tenant", "acme");
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/--reason is required/);
    expect((await runCli(["tenant", "--help"], { cwd })).stdout).toMatch(/tenant suspend/);
  });
});
