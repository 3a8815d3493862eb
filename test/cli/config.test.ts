/**
 * `creditgate config check` and `config docs` as real processes: the configuration `serve`
 * would load, printed with defaults applied and secrets redacted, or every problem in it.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { renderConfigReference } from "../../src/config/reference.js";
import { packageRoot } from "../../src/paths.js";
import { spawnCli } from "./helpers.js";

const cwd = mkdtempSync(join(tmpdir(), "creditgate-cli-config-"));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

function write(name: string, text: string): string {
  writeFileSync(join(cwd, name), text);
  return name;
}

describe("creditgate config check", () => {
  it("prints the effective configuration with defaults applied and exits 0", async () => {
    const file = write(
      "sqlite.yaml",
      "server:\n  port: 9090\nstore:\n  kind: sqlite\n  sqlite:\n    path: ledger.db\n",
    );
    const run = await spawnCli(["config", "check", "--config", file], {
      cwd,
      env: { CREDITGATE_HOST: "0.0.0.0" },
    });
    expect(run.stderr).toBe("configuration is valid\n");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^# creditgate effective configuration: sqlite\.yaml/);
    const effective = parse(run.stdout) as {
      server: { host: string; port: number; shutdown_grace_ms: number };
      store: { sqlite: { path: string; synchronous: string } };
      policy: { bundle: string };
    };
    expect(effective.server).toMatchObject({
      host: "0.0.0.0",
      port: 9090,
      shutdown_grace_ms: 10_000,
    });
    // Paths as serve resolves them: relative to the file, the bundle from the package.
    expect(effective.store.sqlite).toEqual({ path: join(cwd, "ledger.db"), synchronous: "FULL" });
    expect(effective.policy.bundle).toBe(join(packageRoot, "bundles", "creditgate.tar.gz"));
  });

  it("redacts the password of a PostgreSQL URL, from the file and from the environment", async () => {
    const file = write(
      "postgres.yaml",
      "store:\n  kind: postgres\n  postgres:\n    url: postgres://creditgate:hunter2-file@db.internal:5432/creditgate?sslmode=require\n",
    );
    const fromFile = await spawnCli(["config", "check", "--config", file], { cwd });
    expect(fromFile.code).toBe(0);
    expect(fromFile.stdout).not.toContain("hunter2");
    const store = (
      parse(fromFile.stdout) as { store: { postgres: { url: string; pool_size: number } } }
    ).store;
    expect(store.postgres).toEqual({
      url: "postgres://creditgate:[redacted]@db.internal:5432/creditgate?sslmode=require",
      pool_size: 10,
    });

    const fromEnv = await spawnCli(["config", "check"], {
      cwd,
      env: {
        CREDITGATE_STORE: "postgres",
        CREDITGATE_POSTGRES_URL: "postgresql://ops:p%40ss:w0rd@10.0.0.5/ledger?password=again",
      },
    });
    expect(fromEnv.code).toBe(0);
    expect(fromEnv.stdout).not.toMatch(/p%40ss|w0rd|again/);
    expect(fromEnv.stdout).toContain(
      "postgresql://ops:[redacted]@10.0.0.5/ledger?password=[redacted]",
    );
  });

  it("lists every problem, one per line, and exits 1", async () => {
    const file = write("bad.yaml", "server:\n  port: 70000\nstore:\n  kind: mysql\nbogus: 1\n");
    const run = await spawnCli(["config", "check", "--config", file], {
      cwd,
      env: { CREDITGATE_DEV_ISSUER: "maybe" },
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    const lines = run.stderr.trimEnd().split("\n");
    expect(lines[0]).toMatch(
      /^creditgate: CONFIG_INVALID: \d+ problems in the configuration \(bad\.yaml\):$/,
    );
    expect(lines.slice(1)).toEqual(
      expect.arrayContaining([
        '  $CREDITGATE_DEV_ISSUER: must be true or false, got "maybe"',
        '  /: has unknown property "bogus"',
        "  /server/port: must be <= 65535",
        expect.stringMatching(/^ {2}\/store\/kind: must be one of \["sqlite","postgres"\]$/),
      ]),
    );
  });

  it("is a usage error without a subcommand (exit 2)", async () => {
    const run = await spawnCli(["config"], { cwd });
    expect(run.code).toBe(2);
    expect(run.stdout).toContain("creditgate config <command>");
  });
});

describe("creditgate config docs", () => {
  it("prints the reference docs/config.md holds", async () => {
    const run = await spawnCli(["config", "docs"], { cwd });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(renderConfigReference());
  });
});
