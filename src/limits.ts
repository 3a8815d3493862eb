/**
 * Every bound creditgate enforces, in one place, units last. Each boundary (HTTP body, bundle
 * reader, token verifier, batch APIs) reads its limit from here; the assertions at the bottom
 * keep related limits consistent and run at import time.
 */
import assert from "node:assert/strict";

const KiB = 1024;
const MiB = 1024 * KiB;

export const limits = {
  /** A compressed bundle file as read from disk. */
  bundleSizeBytesMax: 16 * MiB,
  /** All files of a bundle after gunzip: caps gzip bombs. */
  bundleUncompressedBytesMax: 64 * MiB,
  /** Number of entries in a bundle archive. */
  bundleFilesMax: 1024,
  /** Wasm linear memory pages (64 KiB each) one policy instance may grow to. */
  policyMemoryPagesInitial: 8,
  policyMemoryPagesMax: 1024,
  /** One policy data YAML file. */
  policyDataFileBytesMax: 4 * MiB,
  /** Serialised decision input handed to the policy. */
  decisionInputBytesMax: 64 * KiB,
  /** Time an `opa` child process may run during build or test. */
  opaCommandTimeoutMs: 300_000,
  /** Largest credit amount in any single operation: keeps sums far from 2^53. */
  creditAmountMax: 1_000_000_000_000,

  // --- identifiers -----------------------------------------------------------------------
  // One limit per kind of id. The API schemas name theirs ("x-limit", checked by a test), the
  // token verifier and the ledger read the same, and keys derived from ids are hashed when long
  // (src/ledger/bounded-key.ts), so no valid input makes a key over ledgerKeyCharsMax.
  /** A tenant id: in bodies, paths, queries and the token's tenant claim. */
  tenantIdCharsMax: 200,
  /** A principal id (the token's sub). */
  principalIdCharsMax: 200,
  /** A token id (the token's jti). */
  tokenIdCharsMax: 200,
  /** Ids the ledger hands out and callers pass back. */
  holdIdCharsMax: 200,
  taskIdCharsMax: 200,
  transferIdCharsMax: 200,
  decisionIdCharsMax: 200,
  /** What a revocation names: a principal, token, tenant, task or grant id. */
  revocationSubjectCharsMax: 200,
  /** The Idempotency-Key header. */
  idempotencyKeyCharsMax: 200,
  /** A workflow id in a decision's action (the policy input's own bound). */
  workflowIdCharsMax: 256,
  /** A grant's source and reference, a task's name: labels for people. */
  labelCharsMax: 200,
  /** The reason of a reversal or revocation. */
  reasonCharsMax: 500,
  /** An RFC 3339 date-time in a body or query. */
  dateTimeCharsMax: 64,
  /**
   * A path parameter as the router reads it (fastify's maxParamLength). Above every id limit, so
   * an over-long id reaches its schema and answers REQUEST_INVALID like any other field.
   */
  routeParamCharsMax: 1_024,

  // --- ledger ----------------------------------------------------------------------------
  /** Operations executed in one group-commit write transaction. */
  ledgerBatchOpsMax: 512,
  /** Whole-batch retries after serialization failures, deadlocks or busy databases. */
  ledgerBatchRetriesMax: 8,
  /** Every identifier the ledger stores or looks up: ids, keys, usage scopes, hold owners. */
  ledgerKeyCharsMax: 200,
  /** A hold's time to live. */
  holdTtlMsMin: 1,
  holdTtlMsMax: 7 * 24 * 3_600_000,
  /** Open (non-exhausted, non-expired) grants of one tenant loaded into a transaction. */
  tenantOpenGrantsMax: 10_000,
  /** Usage counters incremented by one operation. */
  usageIncrementsMax: 16,
  /** Priority of a grant within its class (lower draws first). */
  grantPriorityMax: 1_000_000,
  /** How long a SQLite writer waits for another process's write lock. */
  sqliteBusyTimeoutMs: 10_000,
  /**
   * WAL pages before SQLite checkpoints into the database file (its default is 1,000). Rarer
   * checkpoints copy each hot page once instead of many times; durability is unchanged because
   * synchronous=FULL syncs the WAL at every commit. Costs up to ~40 MiB of WAL on disk.
   */
  sqliteWalAutocheckpointPages: 10_000,
  /** Connections in one PostgreSQL store's pool. */
  postgresPoolSizeMax: 16,

  // --- audit -----------------------------------------------------------------------------
  /** Serialised caller-supplied audit context carried by one record. */
  auditContextBytesMax: 16 * KiB,
  /** Records read per page when verifying or exporting the chain. */
  auditPageRecords: 1_000,
  /** Records one audit query (`GET /v1/audit`) returns per page; larger limits are capped. */
  auditQueryRecordsMax: 1_000,
  /** Digits of an audit query's `limit` and `after` (a seq stays below 2^53). */
  auditQueryLimitDigitsMax: 4,
  auditSeqDigitsMax: 15,
  /** A principal id or decision id an audit query filters on. */
  auditQueryValueCharsMax: 256,
  /**
   * A principal id or decision id longer than this (UTF-8) is not copied into its indexed column
   * (a btree entry must stay well under PostgreSQL's ~2.7 KB row limit); any queryable value fits.
   */
  auditIndexValueBytesMax: 1_024,

  // --- identity --------------------------------------------------------------------------
  /** A bearer token, checked before any decoding: caps parsing work on hostile input. */
  tokenBytesMax: 8 * KiB,
  /** Clock skew tolerated on exp, nbf and iat; more would stretch every token's lifetime. */
  tokenClockToleranceSecondsMax: 60,
  /** Oldest token (by iat) any issuer may be configured to accept. */
  tokenMaxAgeSecondsMax: 24 * 3_600,
  /** Verified tokens kept in the claims cache (LRU). */
  verifiedTokensCachedMax: 10_000,
  /** Trusted issuers in one configuration. */
  trustedIssuersMax: 64,
  /** Keys in one issuer's JWKS, and a jwks_file's size on disk. */
  jwksKeysMax: 64,
  jwksFileBytesMax: 256 * KiB,
  /** A key id in the task issuer's published JWKS (an RFC 7638 thumbprint is 43). */
  jwksKeyIdCharsMax: 128,
  /** Remote JWKS: fetch timeout, minimum gap between refetches on an unknown kid, max cache age. */
  jwksTimeoutMs: 5_000,
  jwksCooldownMs: 30_000,
  jwksCacheMaxAgeMs: 600_000,
  /** Plan, and each role or scope: the decision input's own bounds (ids have theirs above). */
  claimValueCharsMax: 256,
  /** Roles or scopes on one principal. */
  claimListItemsMax: 64,
  // --- end identity ----------------------------------------------------------------------

  // --- service ---------------------------------------------------------------------------
  /** A request body; the configured server.body_limit_bytes may only be lower. */
  requestBodyBytesMax: 1 * MiB,
  /** Client addresses the rate limiter remembers (least recently seen forgotten first). */
  rateLimitClientsMax: 100_000,
  /** How long a tenant's revocations are trusted before they are read again from the store. */
  revocationRefreshMs: 1_000,
  /** Tenants whose revocations are kept in memory. */
  revocationTenantsCachedMax: 100_000,
  /** A revocation notice on the PostgreSQL channel (NOTIFY payloads are at most 8000 bytes). */
  revocationNoticeBytesMax: 1_024,
  /** Longest wait between reconnects of the revocation listener. */
  revocationFeedRetryMsMax: 5_000,
  /** How often the service applies due grant activations, grant expiries and hold expiries. */
  sweepIntervalMs: 5_000,
  /**
   * How often the service reconciles the ledger with the audit trail (src/service/ledger-watch.ts):
   * a whole walk of the chain, so minutes, not seconds; it also runs at start-up.
   */
  ledgerReconcileIntervalMs: 300_000,
  /** Tenants one sweep matures; the next sweep continues. */
  sweepTenantsMax: 1_000,
  /** How long /readyz waits for the store to answer. */
  readinessStoreTimeoutMs: 2_000,

  // Connections: the defaults of the server.* settings of the same names (config/load.ts).
  /** Headers and body of one request must arrive within this (server.request_timeout_ms). */
  requestTimeoutMs: 30_000,
  /** Headers of one request, counted from its first byte (server.headers_timeout_ms). */
  headersTimeoutMs: 10_000,
  /**
   * An idle kept-alive connection between two requests (server.keep_alive_timeout_ms). Above the
   * common 60 s idle timeout of load balancers, so they close first and never reuse a dead one.
   */
  keepAliveTimeoutMs: 72_000,
  /** Silence on a connection with a request in flight, e.g. a client that stops reading. */
  idleTimeoutMs: 120_000,
  /** Open connections (server.connections_max); below the common 1,024 open-file limit. */
  connectionsMax: 1_000,
  /** How often the server looks for requests past their timeouts: they are cut at most this late. */
  connectionsCheckIntervalMsMax: 1_000,
  connectionsCheckIntervalMsMin: 10,
  /** After the shutdown grace: how long the store may take to flush its pending batch. */
  shutdownFlushTimeoutMs: 2_000,
  // --- end service -----------------------------------------------------------------------

  // --- tasks -----------------------------------------------------------------------------
  /** Keys in the task-signing key set; retired keys leave once their last token has expired. */
  taskKeysMax: 16,
  /** The task key file on disk (each key is well under 1 KiB). */
  taskKeysFileBytesMax: 64 * KiB,
  /** Least time between two checks of the task key file for another process's rotation. */
  taskKeyReloadMinMs: 1_000,
  /** An action type or a tool a task request names. */
  taskActionCharsMax: 64,
  taskToolCharsMax: 128,
  /** Clock skew tolerated on task tokens; also how long past expiry their keys stay published. */
  taskTokenClockToleranceSeconds: 5,
  // --- end tasks -------------------------------------------------------------------------
} as const;

assert.ok(limits.bundleUncompressedBytesMax >= limits.bundleSizeBytesMax);
assert.ok(limits.policyMemoryPagesMax >= limits.policyMemoryPagesInitial);
assert.ok(limits.creditAmountMax * 8192 < Number.MAX_SAFE_INTEGER, "sums of amounts stay exact");
assert.ok(limits.holdTtlMsMax >= limits.holdTtlMsMin);
assert.ok(limits.ledgerBatchOpsMax >= 1);
assert.ok(limits.auditQueryRecordsMax >= 1);
assert.ok(
  10 ** limits.auditQueryLimitDigitsMax > limits.auditQueryRecordsMax,
  "any page size fits",
);
assert.ok(10 ** limits.auditSeqDigitsMax <= Number.MAX_SAFE_INTEGER, "a seq parses exactly");
assert.ok(
  limits.auditQueryValueCharsMax >= limits.claimValueCharsMax,
  "any principal id can be queried",
);
// --- identifiers ---
// Ids the ledger stores as they are fit its identifier limit; any id can be revoked and queried.
for (const name of [
  "tenantIdCharsMax",
  "principalIdCharsMax",
  "tokenIdCharsMax",
  "holdIdCharsMax",
  "taskIdCharsMax",
  "transferIdCharsMax",
  "revocationSubjectCharsMax",
  "idempotencyKeyCharsMax",
  "labelCharsMax",
] as const) {
  assert.ok(limits[name] <= limits.ledgerKeyCharsMax, `${name} fits a ledger key`);
  assert.ok(limits[name] <= limits.routeParamCharsMax, `${name} passes the router`);
}
for (const name of [
  "tenantIdCharsMax",
  "principalIdCharsMax",
  "tokenIdCharsMax",
  "taskIdCharsMax",
] as const) {
  assert.ok(limits.revocationSubjectCharsMax >= limits[name], `any ${name} can be revoked`);
}
assert.ok(
  limits.principalIdCharsMax <= limits.claimValueCharsMax,
  "a principal is a valid policy input",
);
assert.ok(limits.tenantIdCharsMax <= limits.claimValueCharsMax, "a tenant is a valid policy input");
assert.ok(
  limits.auditQueryValueCharsMax >= limits.principalIdCharsMax,
  "any principal can be queried",
);
// --- end identifiers ---
assert.ok(limits.auditIndexValueBytesMax >= 4 * limits.auditQueryValueCharsMax, "and is indexed");
// --- identity ---
assert.ok(limits.tokenMaxAgeSecondsMax > limits.tokenClockToleranceSecondsMax);
assert.ok(limits.jwksCacheMaxAgeMs >= limits.jwksCooldownMs);
// --- end identity ---
// --- service ---
// Node refuses a header timeout longer than the request timeout (the request includes them).
assert.ok(limits.headersTimeoutMs <= limits.requestTimeoutMs);
// A kept-alive client waiting for its next request is not held longer than a silent one.
assert.ok(limits.keepAliveTimeoutMs <= limits.idleTimeoutMs);
assert.ok(limits.connectionsCheckIntervalMsMax <= limits.headersTimeoutMs);
assert.ok(limits.connectionsCheckIntervalMsMin <= limits.connectionsCheckIntervalMsMax);
assert.ok(limits.connectionsMax >= 1);
// --- end service ---
// --- tasks ---
assert.ok(limits.taskKeysMax >= 2, "a rotation needs room for the old and the new key");
assert.ok(limits.taskKeysFileBytesMax >= limits.taskKeysMax * 1_024);
assert.ok(limits.taskTokenClockToleranceSeconds <= limits.tokenClockToleranceSecondsMax);
// A rotation another process wrote is picked up well within the tolerance it is published for.
assert.ok(limits.taskKeyReloadMinMs < limits.taskTokenClockToleranceSeconds * 1_000);
// --- end tasks ---
