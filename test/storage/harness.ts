/** What the contract suite needs from a store under test: a fresh store and raw SQL access. */
import type { ManualClock } from "../../src/clock.js";
import type { LedgerStore } from "../../src/ledger/port.js";

export interface StoreUnderTest {
  readonly store: LedgerStore;
  /** Runs SQL on a separate connection, bypassing the store (to prove the database refuses). */
  raw(sql: string): Promise<unknown[]>;
  close(): Promise<void>;
}

export interface StoreFactory {
  readonly name: string;
  open(clock: ManualClock, options?: { maskFields?: readonly string[] }): Promise<StoreUnderTest>;
}
