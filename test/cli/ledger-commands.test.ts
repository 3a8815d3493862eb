/**
 * `creditgate grant | balances | audit | token`, in-process through main() with a temporary
 * cwd and configuration (nothing touches ./data), plus one run as a real process.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { parseJsonLines } from "../../src/audit/export.js";
import { verifyChain } from "../../src/audit/verify.js";
import { createIdentityVerifier, devIssuers } from "../../src/identity/index.js";
import { packageRoot } from "../../src/paths.js";
import { createDatabase } from "../helpers/postgres.js";
import { type CliRun, runCli } from "./helpers.js";

const root = mkdtempSync(join(tmpdir(), "creditgate-cli-ledger-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const sqliteYaml =
  "store:\n  kind: sqlite\n  sqlite:\n    path: ledger/test.db\n    synchronous: FULL\n";

let cwd: string;
let dbPath: string;

/** A fresh cwd per test, with creditgate.yaml naming ledger/test.db (relative to the file). */
beforeEach(() => {
  cwd = mkdtempSync(join(root, "case-"));
  writeFileSync(join(cwd, "creditgate.yaml"), sqliteYaml);
  dbPath = join(cwd, "ledger", "test.db");
});

function cli(...argv: string[]): Promise<CliRun> {
  return runCli([...argv, "--config", "creditgate.yaml"], { cwd });
}

function parse<T = Record<string, unknown>>(run: CliRun): T {
  return JSON.parse(run.stdout) as T;
}

interface BalancesOut {
  tenant: string;
  at: string;
  available: Record<string, number>;
  posted: Record<string, number>;
  held: Record<string, number>;
}

const zero = { trial: 0, paid: 0, promo: 0, admin: 0 };

async function grant(...extra: string[]): Promise<CliRun> {
  return cli("grant", "--tenant", "acme", "--class", "paid", "--amount", "1500", ...extra);
}

describe("creditgate grant and balances", () => {
  it("grants through the ledger, and balances shows the amount", async () => {
    const granted = await grant();
    expect(granted.code).toBe(0);
    expect(granted.stderr).toBe("");
    expect(parse(granted)).toMatchObject({
      ok: true,
      code: "ok",
      tenant: "acme",
      key: expect.stringMatching(/^cli-/),
      grant_id: expect.stringMatching(/^grt_/),
      class: "paid",
      amount: 1500,
      expires_at: null,
      audit_seq: 1,
    });
    expect(existsSync(dbPath)).toBe(true);

    const balances = await cli("balances", "--tenant", "acme");
    expect(balances.code).toBe(0);
    expect(parse<BalancesOut>(balances)).toEqual({
      tenant: "acme",
      at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      available: { ...zero, paid: 1500 },
      posted: { ...zero, paid: 1500 },
      held: zero,
    });
    const other = await cli("balances", "--tenant", "globex");
    expect(parse<BalancesOut>(other).available).toEqual(zero);
  });

  it("applies a grant once per --key: the replay answers exists with the original grant", async () => {
    const first = await grant("--key", "topup-2026-01");
    const second = await grant("--key", "topup-2026-01");
    expect(first.code).toBe(0);
    expect(second.code).toBe(0);
    expect(parse(second)).toMatchObject({ code: "exists", key: "topup-2026-01" });
    expect(parse(second).grant_id).toBe(parse(first).grant_id);
    const balances = parse<BalancesOut>(await cli("balances", "--tenant", "acme"));
    expect(balances.posted.paid).toBe(1500);

    const changed = await cli(
      "grant",
      "--tenant",
      "acme",
      "--class",
      "paid",
      "--amount",
      "99",
      "--key",
      "topup-2026-01",
    );
    expect(changed.code).toBe(1);
    expect(changed.stderr).toContain("exists_with_different_request");
    expect(parse(changed)).toMatchObject({ ok: false, code: "exists_with_different_request" });
  });

  it("gives each grant without --key a fresh key, so two grants add up", async () => {
    const a = parse(await grant());
    const b = parse(await grant());
    expect(a.key).not.toBe(b.key);
    const balances = parse<BalancesOut>(await cli("balances", "--tenant", "acme"));
    expect(balances.available.paid).toBe(3000);
  });

  it.each([["1.5"], ["abc"], ["1e3"], ["0x10"], [""], ["12abc"], ["99999999999999999999"]])(
    "refuses --amount %j as a usage error (exit 2) before opening the store",
    async (amount) => {
      const run = await cli("grant", "--tenant", "acme", "--class", "paid", `--amount=${amount}`);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain("--amount must be an integer");
      expect(run.stderr).toContain("Usage: creditgate grant");
      expect(run.stdout).toBe("");
      expect(existsSync(dbPath)).toBe(false);
    },
  );

  it.each([
    [["--class", "gold"], "--class must be one of trial, paid, promo, admin"],
    [["--class", "paid", "--expires-at", "tomorrow"], "--expires-at must be an RFC 3339 time"],
    [["--class", "paid", "--expires-at", "2027-02-30T00:00:00Z"], "--expires-at must be an RFC"],
    [["--class", "paid", "--expires-at", "2027-01-01T24:00:00Z"], "--expires-at must be an RFC"],
    [["--class", "paid", "--expires-at", "2027-01-01"], "--expires-at must be an RFC 3339"],
    [["--class", "paid", "--effective-at", "2027-01-01T00:00:00"], "--effective-at must be"],
    [["--class", "paid", "--priority=-1"], "--priority must be between 0 and"],
    [["--class", "paid", "--priority", "2.5"], "--priority must be an integer"],
    [["--class", "paid", "--key", "k".repeat(201)], "--key must be 1 to 200 characters"],
    [["--class", "paid", "--tenant", ""], "--tenant must be 1 to 200 characters"],
    [["--class", "paid", "--amount"], "Option '--amount' argument is ambiguous"],
    [["--class", "paid", "--bogus"], "Unknown option '--bogus'"],
    [["--class", "paid", "extra"], 'unexpected argument "extra"'],
  ])("refuses %j as a usage error", async (args, message) => {
    const run = await cli("grant", "--tenant", "acme", "--amount", "5", ...args);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(existsSync(dbPath)).toBe(false);
  });

  it("requires --tenant, --class and --amount", async () => {
    for (const [args, flag] of [
      [["--class", "paid", "--amount", "5"], "--tenant"],
      [["--tenant", "acme", "--amount", "5"], "--class"],
      [["--tenant", "acme", "--class", "paid"], "--amount"],
    ] as const) {
      const run = await cli("grant", ...args);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`${flag} is required`);
    }
  });

  it.each([
    ["0", "amount_not_positive"],
    ["-5", "amount_not_positive"],
    ["1000000000001", "amount_exceeds_max"],
  ])("passes --amount=%s to the ledger, whose refusal %s exits 1", async (amount, code) => {
    const run = await cli("grant", "--tenant", "acme", "--class", "paid", `--amount=${amount}`);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`creditgate: grant refused: ${code}\n`);
    expect(parse(run)).toMatchObject({ ok: false, code });
    expect(parse<BalancesOut>(await cli("balances", "--tenant", "acme")).posted).toEqual(zero);
  });

  it("refuses an expiry in the past with the ledger's code", async () => {
    const run = await grant("--expires-at", "2020-01-01T00:00:00Z");
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("expires_in_past");
  });

  it("carries effective and expiry times, priority and source into the grant", async () => {
    const effective = new Date(Date.now() + 3_600_000);
    const run = await cli(
      "grant",
      "--tenant",
      "acme",
      "--class",
      "promo",
      "--amount",
      "40",
      "--effective-at",
      effective.toISOString().replace("Z", "+00:00"),
      "--expires-at",
      "2099-12-31T23:59:59.5+02:00",
      "--priority",
      "3",
      "--source",
      "campaign-7",
    );
    expect(run.code).toBe(0);
    expect(parse(run)).toMatchObject({
      class: "promo",
      amount: 40,
      effective_at: effective.toISOString(),
      expires_at: "2099-12-31T21:59:59.500Z",
    });
    // Not effective yet: nothing posted.
    expect(parse<BalancesOut>(await cli("balances", "--tenant", "acme")).posted.promo).toBe(0);
    const exported = await cli("audit", "export");
    const [record] = parseJsonLines(exported.stdout);
    expect(record?.data).toMatchObject({
      priority: 3,
      source: "campaign-7",
      context: { via: "cli" },
    });
  });

  it("shows past balances with --at and refuses a future --at", async () => {
    const before = new Date(Date.now() - 60_000).toISOString();
    expect((await grant()).code).toBe(0);
    const then = await cli("balances", "--tenant", "acme", "--at", before);
    expect(then.code).toBe(0);
    expect(parse<BalancesOut>(then)).toMatchObject({ at: before, posted: zero });
    const now = await cli("balances", "--tenant", "acme", "--at", new Date().toISOString());
    expect(parse<BalancesOut>(now).posted.paid).toBe(1500);
    const future = await cli("balances", "--tenant", "acme", "--at", "2999-01-01T00:00:00Z");
    expect(future.code).toBe(2);
    expect(future.stderr).toContain("--at must not be in the future");
  });
});

describe("configuration", () => {
  it("uses SQLite at ./data/creditgate.db under the cwd when given no configuration", async () => {
    const run = await runCli(["grant", "--tenant", "t", "--class", "trial", "--amount", "5"], {
      cwd,
    });
    expect(run.code).toBe(0);
    expect(existsSync(join(cwd, "data", "creditgate.db"))).toBe(true);
    expect(existsSync(dbPath)).toBe(false);
  });

  it("takes $CREDITGATE_CONFIG when --config is absent, and --config over it", async () => {
    writeFileSync(
      join(cwd, "other.yaml"),
      "store:\n  kind: sqlite\n  sqlite:\n    path: other.db\n    synchronous: NORMAL\n",
    );
    const env = { CREDITGATE_CONFIG: "other.yaml" };
    const args = ["grant", "--tenant", "t", "--class", "trial", "--amount", "5"];
    expect((await runCli(args, { cwd, env })).code).toBe(0);
    expect(existsSync(join(cwd, "other.db"))).toBe(true);
    expect(existsSync(dbPath)).toBe(false);
    expect((await runCli([...args, "--config", "creditgate.yaml"], { cwd, env })).code).toBe(0);
    expect(existsSync(dbPath)).toBe(true);
  });

  it("reports an invalid configuration as CONFIG_INVALID, exit 1", async () => {
    writeFileSync(join(cwd, "creditgate.yaml"), "store:\n  kind: oracle\n");
    const run = await cli("balances", "--tenant", "t");
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("CONFIG_INVALID");
  });
});

describe("creditgate audit", () => {
  async function threeGrants(): Promise<void> {
    for (const amount of ["10", "11", "12"]) {
      expect(
        (await cli("grant", "--tenant", "t", "--class", "paid", "--amount", amount)).code,
      ).toBe(0);
    }
  }

  it("verifies the chain after grants", async () => {
    await threeGrants();
    const run = await cli("audit", "verify");
    expect(run.code).toBe(0);
    expect(parse(run)).toMatchObject({
      ok: true,
      count: 3,
      head: { seq: 3, hash: expect.stringMatching(/^[0-9a-f]{64}$/) },
    });
  });

  it("verifies an empty store", async () => {
    const run = await cli("audit", "verify");
    expect(run.code).toBe(0);
    expect(parse(run)).toMatchObject({ ok: true, count: 0 });
  });

  it("exports one JSON line per record, which verifies as exported", async () => {
    await threeGrants();
    const run = await cli("audit", "export");
    expect(run.code).toBe(0);
    const lines = run.stdout.split("\n").filter((line) => line !== "");
    expect(lines).toHaveLength(3);
    const records = parseJsonLines(run.stdout);
    expect(records.map((r) => [r.seq, r.kind, r.tenant, r.data.amount])).toEqual([
      [1, "grant", "t", 10],
      [2, "grant", "t", 11],
      [3, "grant", "t", 12],
    ]);
    expect((await verifyChain(records)).ok).toBe(true);
  });

  it("exports to --out FILE the same lines", async () => {
    await threeGrants();
    const toStdout = await cli("audit", "export");
    const run = await cli("audit", "export", "--out", "audit.jsonl");
    expect(run.code).toBe(0);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain("exported 3 audit records");
    expect(readFileSync(join(cwd, "audit.jsonl"), "utf8")).toBe(toStdout.stdout);
  });

  it("exits 1 naming the first broken record after tampering", async () => {
    await threeGrants();
    // The store refuses UPDATE of audit records with a trigger; a tamperer drops it first.
    const db = new Database(dbPath);
    db.exec("DROP TRIGGER audit_no_update");
    const changed = db
      .prepare(
        "UPDATE audit_records SET data = replace(data, '\"amount\":11', '\"amount\":99') WHERE seq = 2",
      )
      .run();
    db.close();
    expect(changed.changes).toBe(1);

    const run = await cli("audit", "verify");
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("AUDIT_CHAIN_BROKEN");
    expect(run.stderr).toContain("seq 2 (hash_mismatch)");
    expect(parse(run)).toEqual({ ok: false, verified: 1, broken_seq: 2, reason: "hash_mismatch" });

    // The export still writes every record, then fails on the broken chain.
    const exported = await cli("audit", "export", "--out", "audit.jsonl");
    expect(exported.code).toBe(1);
    expect(exported.stderr).toContain("AUDIT_CHAIN_BROKEN");
    const records = parseJsonLines(readFileSync(join(cwd, "audit.jsonl"), "utf8"));
    expect(records).toHaveLength(3);
    expect(records[1]?.data.amount).toBe(99);
  });

  it("refuses an unknown audit command and stray options", async () => {
    expect((await cli("audit", "repair")).code).toBe(2);
    expect((await cli("audit", "verify", "--out", "x")).code).toBe(2);
    const bare = await runCli(["audit"], { cwd });
    expect(bare.code).toBe(2);
    expect(bare.stdout).toContain("Usage: creditgate audit");
  });
});

describe("creditgate token", () => {
  it("mints a development token that the identity verifier accepts with the given claims", async () => {
    const run = await cli(
      "token",
      "--sub",
      "usr_42",
      "--tenant",
      "acme",
      "--plan",
      "pro",
      "--roles",
      "member, billing",
      "--scopes",
      "prompt.submit,model.infer",
      "--ttl",
      "600",
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const verifier = await createIdentityVerifier({ issuers: [...devIssuers] });
    const principal = await verifier.authenticate(run.stdout.trim());
    expect(principal).toMatchObject({
      kind: "user",
      id: "usr_42",
      tenant: "acme",
      plan: "pro",
      roles: ["member", "billing"],
      scopes: ["prompt.submit", "model.infer"],
    });
    const lifetime = principal.expMs - Date.now();
    expect(lifetime).toBeGreaterThan(590_000);
    expect(lifetime).toBeLessThanOrEqual(600_000);
  });

  it("mints workload and admin tokens from their issuers", async () => {
    const verifier = await createIdentityVerifier({ issuers: [...devIssuers] });
    const workload = await cli(
      "token",
      "--sub",
      "svc_a",
      "--tenant",
      "acme",
      "--plan",
      "pro",
      "--kind",
      "workload",
    );
    expect(await verifier.authenticate(workload.stdout.trim())).toMatchObject({
      kind: "workload",
      id: "svc_a",
    });
    const admin = await cli(
      "token",
      "--sub",
      "ops",
      "--tenant",
      "acme",
      "--plan",
      "pro",
      "--admin",
    );
    expect(admin.code).toBe(0);
    const tenantAdmin = await verifier.authenticateAdmin(admin.stdout.trim());
    expect(tenantAdmin).toMatchObject({ id: "ops" });
    expect(verifier.adminScope(tenantAdmin)).toEqual({ kind: "tenant", tenant: "acme" });
    await expect(verifier.authenticate(admin.stdout.trim())).rejects.toMatchObject({
      code: "AUTH_FORBIDDEN",
    });
    const platform = await cli(
      "token",
      "--sub",
      "ops",
      "--tenant",
      "acme",
      "--plan",
      "pro",
      "--admin",
      "--platform",
    );
    expect(platform.code).toBe(0);
    const platformAdmin = await verifier.authenticateAdmin(platform.stdout.trim());
    expect(verifier.adminScope(platformAdmin)).toEqual({ kind: "platform" });
  });

  it("adds the configured platform admin role with --platform", async () => {
    writeFileSync(
      join(cwd, "creditgate.yaml"),
      `${sqliteYaml}identity:\n  platform_admin_role: "ops:all"\n`,
    );
    const run = await cli(
      "token",
      "--sub",
      "ops",
      "--tenant",
      "acme",
      "--plan",
      "pro",
      "--admin",
      "--platform",
    );
    expect(run.code).toBe(0);
    const verifier = await createIdentityVerifier({
      issuers: [...devIssuers],
      platformAdminRole: "ops:all",
    });
    const admin = await verifier.authenticateAdmin(run.stdout.trim());
    expect(admin.roles).toContain("ops:all");
    expect(verifier.adminScope(admin)).toEqual({ kind: "platform" });
  });

  it("refuses with DEV_ISSUER_DISABLED when the configuration does not trust the dev issuer", async () => {
    writeFileSync(join(cwd, "creditgate.yaml"), `${sqliteYaml}identity:\n  dev_issuer: false\n`);
    const run = await cli("token", "--sub", "u", "--tenant", "acme", "--plan", "pro");
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain("DEV_ISSUER_DISABLED");

    const byEnv = await runCli(["token", "--sub", "u", "--tenant", "acme", "--plan", "pro"], {
      cwd,
      env: { CREDITGATE_DEV_ISSUER: "false" },
    });
    expect(byEnv.code).toBe(1);
    expect(byEnv.stderr).toContain("DEV_ISSUER_DISABLED");
  });

  it.each([
    [["--tenant", "acme", "--plan", "pro"], "--sub is required"],
    [["--sub", "u", "--tenant", "acme", "--plan", "pro", "--kind", "robot"], "--kind must be"],
    [["--sub", "u", "--tenant", "acme", "--plan", "pro", "--ttl", "0"], "--ttl must be between"],
    [["--sub", "u", "--tenant", "acme", "--plan", "pro", "--ttl", "1h"], "--ttl must be an"],
    [["--sub", "u", "--tenant", "a", "--plan", "p", "--kind", "workload", "--admin"], "user"],
    [["--sub", "u", "--tenant", "a", "--plan", "p", "--platform"], "--platform needs --admin"],
  ])("refuses %j as a usage error", async (args, message) => {
    const run = await cli("token", ...args);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
  });
});

describe("help", () => {
  it("lists the ledger commands and answers --help for each", async () => {
    const overview = await runCli(["--help"], { cwd });
    for (const command of ["token", "grant", "balances", "audit verify|export"]) {
      expect(overview.stdout).toContain(`  ${command}`);
    }
    for (const command of ["token", "grant", "balances", "audit"]) {
      const run = await runCli([command, "--help"], { cwd });
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`Usage: creditgate ${command}`);
      expect(run.stdout).toContain("--config FILE");
    }
  });
});

describe("with PostgreSQL", () => {
  it("grants, shows balances and verifies the audit chain on the configured database", async () => {
    const url = await createDatabase("cli");
    writeFileSync(
      join(cwd, "creditgate.yaml"),
      `store:\n  kind: postgres\n  postgres:\n    url: "${url}"\n    pool_size: 2\n`,
    );
    expect((await grant("--key", "k1")).code).toBe(0);
    expect(parse(await grant("--key", "k1"))).toMatchObject({ code: "exists" });
    expect(parse<BalancesOut>(await cli("balances", "--tenant", "acme")).available.paid).toBe(1500);
    expect(parse(await cli("audit", "verify"))).toMatchObject({ ok: true, count: 1 });
    expect(existsSync(join(cwd, "data"))).toBe(false);
  });
});

describe("as a real process", () => {
  it("grants and reads balances with the process's cwd, env and exit code", async () => {
    const run = promisify(execFile);
    // The process runs in the temporary cwd, so the tsx loader is resolved from the package.
    const tsx = pathToFileURL(createRequire(join(packageRoot, "package.json")).resolve("tsx"));
    const mainUrl = pathToFileURL(join(packageRoot, "src", "cli", "main.ts"));
    const script = `const { main } = await import(${JSON.stringify(mainUrl.href)}); process.exitCode = await main(process.argv.slice(1));`;
    const node = (...argv: string[]) =>
      run(process.execPath, ["--import", tsx.href, "--input-type=module", "-e", script, ...argv], {
        cwd,
        env: { ...process.env, CREDITGATE_CONFIG: "creditgate.yaml" },
      });
    const granted = await node("grant", "--tenant", "acme", "--class", "paid", "--amount", "7");
    expect(JSON.parse(granted.stdout)).toMatchObject({ ok: true, amount: 7 });
    const balances = await node("balances", "--tenant", "acme");
    expect(JSON.parse(balances.stdout).available.paid).toBe(7);
    await expect(
      node("grant", "--tenant", "acme", "--class", "paid", "--amount", "1.5"),
    ).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining("--amount must be") });
  });
});
