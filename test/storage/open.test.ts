/** openStore: the configured store, migrated, with the configuration's durability and masking. */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock.js";
import { defaultConfig, loadConfig } from "../../src/config/load.js";
import type { Config } from "../../src/config/types.js";
import { isCreditgateError } from "../../src/errors.js";
import { openRevocationFeed, openStore } from "../../src/storage/open.js";
import { PostgresLedgerStore } from "../../src/storage/postgres/store.js";
import { SqliteLedgerStore } from "../../src/storage/sqlite/store.js";
import { createDatabase } from "../helpers/postgres.js";

const dir = mkdtempSync(join(tmpdir(), "creditgate-open-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sqliteConfig(path: string, extra: Partial<Config> = {}): Config {
  return {
    ...defaultConfig,
    store: { kind: "sqlite", sqlite: { path, synchronous: "FULL" } },
    ...extra,
  };
}

describe("openStore with SQLite", () => {
  it("creates the file's directory, migrates, and reports the schema version", async () => {
    const path = join(dir, "nested", "deeper", "ledger.db");
    const store = await openStore(sqliteConfig(path));
    try {
      expect(store).toBeInstanceOf(SqliteLedgerStore);
      expect(await store.schemaVersion()).toBe(5);
      expect(existsSync(path)).toBe(true);
      expect((store as SqliteLedgerStore).synchronous).toBe("FULL");
      expect((store as SqliteLedgerStore).pragmas()).toEqual({
        journalMode: "wal",
        synchronous: 1,
      });
    } finally {
      await store.close();
    }
  });

  it("opens the path a loaded configuration names, relative to the configuration file", async () => {
    const configDir = join(dir, "conf");
    const file = join(dir, "creditgate.yaml");
    writeFileSync(
      file,
      "store:\n  kind: sqlite\n  sqlite:\n    path: conf/db/x.db\n    synchronous: NORMAL\n",
    );
    const config = await loadConfig({ file, env: {}, cwd: "/" });
    const store = await openStore(config);
    try {
      expect(existsSync(join(configDir, "db", "x.db"))).toBe(true);
      expect((store as SqliteLedgerStore).synchronous).toBe("NORMAL");
      expect((store as SqliteLedgerStore).pragmas().synchronous).toBe(1);
    } finally {
      await store.close();
    }
  });

  it("keeps what it wrote across a reopen and uses the given clock", async () => {
    const path = join(dir, "reopen.db");
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const first = await openStore(sqliteConfig(path), { clock });
    const granted = await first.grant({
      tenant: "t",
      key: "k",
      class: "paid",
      amount: 7,
      source: "s",
    });
    expect(granted).toMatchObject({ ok: true, value: { effectiveAtMs: Date.UTC(2026, 5, 1) } });
    await first.close();
    const second = await openStore(sqliteConfig(path), { clock });
    try {
      expect((await second.balances("t")).available.paid).toBe(7);
    } finally {
      await second.close();
    }
  });

  it("masks the configured audit fields before hashing", async () => {
    const store = await openStore(
      sqliteConfig(join(dir, "mask.db"), {
        audit: { ...defaultConfig.audit, mask_fields: ["context.secret"] },
      }),
    );
    try {
      await store.grant({
        tenant: "t",
        key: "k",
        class: "paid",
        amount: 1,
        source: "s",
        audit: { secret: "hunter2", kept: "yes" },
      });
      const [record] = await store.auditRecords(0, 10);
      expect(record?.data).toMatchObject({ context: { secret: "[masked]", kept: "yes" } });
      expect((await store.verifyAudit()).ok).toBe(true);
    } finally {
      await store.close();
    }
  });

  it("answers STORE_UNAVAILABLE when the file cannot be opened", async () => {
    const blocker = join(dir, "not-a-directory");
    writeFileSync(blocker, "");
    const error = await openStore(sqliteConfig(join(blocker, "x.db"))).catch((e: unknown) => e);
    expect(isCreditgateError(error, "STORE_UNAVAILABLE")).toBe(true);
  });
});

describe("store drivers", () => {
  it("answers CONFIG_INVALID for a kind no adapter registered", async () => {
    const config = { ...defaultConfig, store: { kind: "oracle" } } as unknown as Config;
    const error = await openStore(config).catch((e: unknown) => e);
    expect(isCreditgateError(error, "CONFIG_INVALID")).toBe(true);
    expect((error as Error).message).toBe(
      'store.kind must be one of postgres, sqlite, got "oracle"',
    );
    const feedError = await openRevocationFeed(config, { onNotice: () => undefined }).catch(
      (e: unknown) => e,
    );
    expect(isCreditgateError(feedError, "CONFIG_INVALID")).toBe(true);
  });

  it("gives SQLite no revocation feed", async () => {
    const feed = await openRevocationFeed(sqliteConfig(join(dir, "feedless.db")), {
      onNotice: () => undefined,
    });
    expect(feed).toBeUndefined();
  });

  it("gives PostgreSQL a feed whose notices reach every listener", async () => {
    const url = await createDatabase("open_feed");
    const config: Config = {
      ...defaultConfig,
      store: { kind: "postgres", postgres: { url, pool_size: 1 } },
    };
    const heard: unknown[] = [];
    const listener = await openRevocationFeed(config, { onNotice: (n) => heard.push(n) });
    const publisher = await openRevocationFeed(config, { onNotice: () => undefined });
    try {
      expect(listener).toBeDefined();
      const notice = { tenant: "t", kind: "principal", subject: "p" } as const;
      await publisher?.publish(notice);
      await expect.poll(() => heard, { timeout: 5000 }).toEqual([notice]);
    } finally {
      await listener?.close();
      await publisher?.close();
    }
  });
});

describe("openStore with PostgreSQL", () => {
  it("migrates the configured database and reports the schema version", async () => {
    const url = await createDatabase("open");
    const config: Config = {
      ...defaultConfig,
      store: { kind: "postgres", postgres: { url, pool_size: 2 } },
    };
    const store = await openStore(config);
    try {
      expect(store).toBeInstanceOf(PostgresLedgerStore);
      expect(await store.schemaVersion()).toBe(5);
      expect(
        await store.grant({ tenant: "t", key: "k", class: "promo", amount: 3, source: "s" }),
      ).toMatchObject({ ok: true });
      expect((await store.balances("t")).available.promo).toBe(3);
    } finally {
      await store.close();
    }
  });

  it("answers STORE_UNAVAILABLE, without the password, when the server cannot be reached", async () => {
    const config: Config = {
      ...defaultConfig,
      store: {
        kind: "postgres",
        postgres: { url: "postgres://u:sekrit@127.0.0.1:1/none", pool_size: 1 },
      },
    };
    const error = await openStore(config).catch((e: unknown) => e);
    expect(isCreditgateError(error, "STORE_UNAVAILABLE")).toBe(true);
    expect((error as Error).message).not.toContain("sekrit");
  });
});
