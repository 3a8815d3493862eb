/** creditgate/client: the typed HTTP client for services calling creditgate. */
export { auditSearchParams, createClient, newIdempotencyKey } from "./client.js";
export {
  type ClientErrorCode,
  type ClientSideErrorCode,
  CreditgateClientError,
  type CreditgateClientErrorInit,
  clientErrorCodes,
  isCreditgateClientError,
} from "./errors.js";
export {
  defaultRetries,
  defaultRetryBaseDelayMs,
  defaultTimeoutMs,
  idempotencyKeyCharsMax,
  maxRetries,
  maxRetryAfterMs,
  maxRetryDelayMs,
  maxTimeoutMs,
} from "./limits.js";
export type * from "./types.js";
