/**
 * Opens what the configuration's `store.kind` names, through the driver its adapter registered
 * (`driver.ts`): the ledger store, migrated and ready, with audit records masked by
 * `audit.mask_fields`; and the revocation feed, where the store has one. Failing to reach the
 * store is STORE_UNAVAILABLE; the stores' own codes pass through.
 */
import type { Clock } from "../clock.js";
import type { Config } from "../config/types.js";
import { CreditgateError } from "../errors.js";
import type { LedgerStore } from "../ledger/port.js";
import {
  type RevocationFeed,
  type RevocationFeedHandlers,
  type StoreDriver,
  storeDriver,
  storeKinds,
} from "./driver.js";
// The built-in adapters, each registering its driver.
import "./postgres/driver.js";
import "./sqlite/driver.js";

export interface OpenStoreOptions {
  readonly clock?: Clock;
}

function driverFor(config: Config): StoreDriver {
  const kind: string = config.store.kind;
  const driver = storeDriver(kind);
  if (driver === undefined) {
    throw new CreditgateError("CONFIG_INVALID", {
      message: `store.kind must be one of ${storeKinds().join(", ")}, got "${kind}"`,
    });
  }
  return driver;
}

export async function openStore(
  config: Config,
  options: OpenStoreOptions = {},
): Promise<LedgerStore> {
  return driverFor(config).open(config, {
    ...(options.clock ? { clock: options.clock } : {}),
    ...(config.audit.mask_fields.length > 0 ? { maskFields: config.audit.mask_fields } : {}),
  });
}

/** The configured store's revocation feed, or undefined when it has none (SQLite). */
export async function openRevocationFeed(
  config: Config,
  handlers: RevocationFeedHandlers,
): Promise<RevocationFeed | undefined> {
  return driverFor(config).feed?.(config, handlers);
}

export type { RevocationFeed, RevocationNotice } from "./driver.js";
