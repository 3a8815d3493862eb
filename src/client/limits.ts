/**
 * The client's bounds, units last. Defaults suit a service calling creditgate on its request
 * path: short enough that a stuck call fails fast, with a few retries that the idempotency key
 * makes safe. The maxima stop a misconfiguration from turning one call into minutes of waiting.
 */

/** Time one attempt may take, from sending the request to reading the whole body. */
export const defaultTimeoutMs = 10_000;
export const maxTimeoutMs = 300_000;
/** Retries after the first attempt (so `defaultRetries + 1` attempts in all). */
export const defaultRetries = 2;
export const maxRetries = 10;
/** First backoff step; each further retry doubles it, with jitter. */
export const defaultRetryBaseDelayMs = 100;
/** No single backoff sleeps longer than this. */
export const maxRetryDelayMs = 5_000;
/**
 * The longest `retry-after` the client waits out by itself. A server asking for more gets the
 * error handed back at once (with `retryAfterMs`), so the caller decides rather than blocking.
 */
export const maxRetryAfterMs = 30_000;
/** Caller-supplied idempotency keys: the server's limit. */
export const idempotencyKeyCharsMax = 200;
/** How much of an unparseable response body an error carries, for diagnosis. */
export const badResponseExcerptCharsMax = 200;
