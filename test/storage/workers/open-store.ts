/** Opens a store in a child process from argv: `sqlite <path>` or `postgres <url>`. */
import type { LedgerStore } from "../../../src/ledger/port.js";
import { PostgresLedgerStore } from "../../../src/storage/postgres/store.js";
import { SqliteLedgerStore } from "../../../src/storage/sqlite/store.js";

export async function openStoreFromArgs(kind: string, target: string): Promise<LedgerStore> {
  if (kind === "sqlite") return SqliteLedgerStore.open({ path: target });
  if (kind === "postgres") return PostgresLedgerStore.open({ connectionString: target });
  throw new TypeError(`unknown store kind ${kind}`);
}

/** Resolves when the parent writes a line to stdin: every child starts together. */
export function waitForGo(): Promise<void> {
  return new Promise((resolve) => {
    process.stdin.once("data", () => resolve());
  });
}
