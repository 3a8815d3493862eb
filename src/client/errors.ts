/** The one error type the client throws for a failed call (server-side or client-side). */
import type { ErrorCode } from "../errors.js";

/** Failures the client detects itself; never sent by the server. */
export const clientErrorCodes = [
  "CLIENT_TIMEOUT",
  "CLIENT_NETWORK",
  "CLIENT_BAD_RESPONSE",
  "CLIENT_ABORTED",
] as const;
export type ClientSideErrorCode = (typeof clientErrorCodes)[number];

/**
 * A server code from src/errors.ts, a client-side code, or a code this client version does not
 * know yet (a newer server may add codes; they are still passed through verbatim).
 */
export type ClientErrorCode = ErrorCode | ClientSideErrorCode | (string & Record<never, never>);

export interface CreditgateClientErrorInit {
  readonly code: ClientErrorCode;
  readonly message: string;
  readonly status?: number | undefined;
  readonly details?: Readonly<Record<string, unknown>> | undefined;
  readonly retryable: boolean;
  readonly attempts: number;
  readonly retryAfterMs?: number | undefined;
  readonly cause?: unknown;
}

export class CreditgateClientError extends Error {
  /** The server's stable code, or CLIENT_* for failures detected by the client. */
  readonly code: ClientErrorCode;
  /** HTTP status, when a response arrived. */
  readonly status: number | undefined;
  readonly details: Readonly<Record<string, unknown>>;
  /** Whether the same call (same idempotency key) may succeed if retried later. */
  readonly retryable: boolean;
  /** Attempts made before giving up (0 when the caller's signal was aborted before the first). */
  readonly attempts: number;
  /** What the server's retry-after asked for, when it sent one. */
  readonly retryAfterMs: number | undefined;

  constructor(init: CreditgateClientErrorInit) {
    super(init.message, init.cause === undefined ? {} : { cause: init.cause });
    this.name = "CreditgateClientError";
    this.code = init.code;
    this.status = init.status;
    this.details = init.details ?? {};
    this.retryable = init.retryable;
    this.attempts = init.attempts;
    this.retryAfterMs = init.retryAfterMs;
  }
}

export function isCreditgateClientError(
  value: unknown,
  code?: ClientErrorCode,
): value is CreditgateClientError {
  return value instanceof CreditgateClientError && (code === undefined || value.code === code);
}
