/**
 * Opens the ledger store the configuration names, migrated and ready: SQLite at
 * `store.sqlite.path` (its directory created) with the configured `synchronous` level, or a
 * PostgreSQL pool from `store.postgres`. Audit records are masked by `audit.mask_fields`.
 * Failing to reach the store is STORE_UNAVAILABLE; the stores' own codes pass through.
 */
import { mkdir } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { Clock } from "../clock.js";
import type { Config } from "../config/types.js";
import { CreditgateError, isCreditgateError } from "../errors.js";
import type { LedgerStore } from "../ledger/port.js";
import { PostgresLedgerStore } from "./postgres/store.js";
import { SqliteLedgerStore } from "./sqlite/store.js";

export interface OpenStoreOptions {
  readonly clock?: Clock;
}

/** The URL without its password, for messages. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparseable URL)";
  }
}

export async function openStore(
  config: Config,
  options: OpenStoreOptions = {},
): Promise<LedgerStore> {
  const common = {
    ...(options.clock ? { clock: options.clock } : {}),
    ...(config.audit.mask_fields.length > 0 ? { maskFields: config.audit.mask_fields } : {}),
  };
  const { store } = config;
  if (store.kind === "sqlite") {
    if (store.sqlite === undefined) {
      throw new CreditgateError("CONFIG_INVALID", {
        message: "store.kind is sqlite but store.sqlite is not configured",
      });
    }
    const path = resolve(store.sqlite.path);
    try {
      await mkdir(dirname(path), { recursive: true });
      return SqliteLedgerStore.open({ path, synchronous: store.sqlite.synchronous, ...common });
    } catch (cause) {
      if (isCreditgateError(cause)) throw cause;
      throw new CreditgateError("STORE_UNAVAILABLE", {
        message: `cannot open the SQLite store at ${path}: ${(cause as Error).message}`,
        cause,
      });
    }
  }
  if (store.postgres === undefined) {
    throw new CreditgateError("CONFIG_INVALID", {
      message: "store.kind is postgres but store.postgres is not configured",
    });
  }
  try {
    return await PostgresLedgerStore.open({
      connectionString: store.postgres.url,
      poolSize: store.postgres.pool_size,
      ...common,
    });
  } catch (cause) {
    if (isCreditgateError(cause)) throw cause;
    throw new CreditgateError("STORE_UNAVAILABLE", {
      message: `cannot open the PostgreSQL store at ${redactUrl(store.postgres.url)}: ${(cause as Error).message}`,
      cause,
    });
  }
}
