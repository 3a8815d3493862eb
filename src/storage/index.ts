export { PostgresLedgerStore, type PostgresStoreOptions } from "./postgres/store.js";
export { SqliteLedgerStore, type SqliteStoreOptions } from "./sqlite/store.js";
