/**
 * What a store adapter offers the rest of creditgate, keyed by `store.kind`: opening its ledger
 * store and, where the database can push, the revocation feed. Each adapter registers its own
 * driver (`sqlite/driver.ts`, `postgres/driver.ts`), so a new store is a new folder here and
 * its configuration section, and nothing outside `src/storage/` names a database.
 */
import type { Clock } from "../clock.js";
import type { Config } from "../config/types.js";
import type { LedgerStore } from "../ledger/port.js";
import type { Revocation } from "../ledger/types.js";

/** What every adapter is opened with, besides its own configuration section. */
export interface DriverOpenOptions {
  readonly clock?: Clock;
  readonly maskFields?: readonly string[];
}

export type RevocationNotice = Pick<Revocation, "tenant" | "kind" | "subject">;

/**
 * Revocations pushed between instances sharing one database. A notice is a hint to re-read
 * that tenant's revocations from the store, never a revocation by itself.
 */
export interface RevocationFeed {
  /** Tells every listening instance (this one included). */
  publish(notice: RevocationNotice): Promise<void>;
  close(): Promise<void>;
}

export interface RevocationFeedHandlers {
  readonly onNotice: (notice: RevocationNotice) => void;
  readonly onError?: (error: Error) => void;
}

export interface StoreDriver {
  /** The migrated store; its section missing is CONFIG_INVALID, unreachable STORE_UNAVAILABLE. */
  open(config: Config, options: DriverOpenOptions): Promise<LedgerStore>;
  /** Absent for stores without push (one writer per file); undefined when not configured. */
  feed?(config: Config, handlers: RevocationFeedHandlers): Promise<RevocationFeed | undefined>;
}

export type StoreKind = Config["store"]["kind"];

const drivers = new Map<string, StoreDriver>();

export function registerStoreDriver(kind: StoreKind, driver: StoreDriver): void {
  if (drivers.has(kind)) throw new TypeError(`store driver "${kind}" is registered twice`);
  drivers.set(kind, driver);
}

/** The kinds registered, for messages. */
export function storeKinds(): readonly string[] {
  return [...drivers.keys()].sort();
}

/** The registered driver, or undefined for a kind no adapter registered. */
export function storeDriver(kind: string): StoreDriver | undefined {
  return drivers.get(kind);
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparseable URL)";
  }
}
