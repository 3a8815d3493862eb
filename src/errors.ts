/**
 * The one registry of stable error codes. A code, once published, is never reused for a
 * different meaning: a retired code stays here with `retired: true` (a tombstone), and
 * docs/errors.md must list exactly these codes (a test keeps the two in step).
 *
 * Three kinds of outcome are never confused: a deny is data (`allow: false`), an operating
 * failure is a CreditgateError with one of these codes, and a programmer error is a TypeError.
 */

export interface ErrorSpec {
  /** HTTP status the service answers with. */
  readonly status: number;
  /** Default human message; callers may pass a more specific one. */
  readonly message: string;
  /** Whether the same request may succeed if retried unchanged. */
  readonly retryable: boolean;
  readonly retired?: true;
}

export const errorSpecs = {
  // --- configuration and toolchain -------------------------------------------------------
  CONFIG_INVALID: { status: 500, message: "configuration is invalid", retryable: false },
  TOOLCHAIN_MISSING: {
    status: 500,
    message: "the OPA toolchain is not installed; run `npm run toolchain`",
    retryable: false,
  },
  TOOLCHAIN_FAILED: { status: 500, message: "an OPA toolchain command failed", retryable: false },
  LISTEN_FAILED: {
    status: 500,
    message: "the service could not listen on its address",
    retryable: false,
  },

  // --- policy source and build -----------------------------------------------------------
  POLICY_DATA_INVALID: {
    status: 422,
    message: "a policy data file does not match its schema",
    retryable: false,
  },
  POLICY_CHECK_FAILED: { status: 422, message: "the policy does not compile", retryable: false },
  POLICY_FORMAT_FAILED: {
    status: 422,
    message: "the policy is not formatted (run `opa fmt -w policies`)",
    retryable: false,
  },
  POLICY_LINT_FAILED: { status: 422, message: "the policy has lint violations", retryable: false },
  POLICY_TEST_FAILED: { status: 422, message: "policy tests failed", retryable: false },
  POLICY_COVERAGE_LOW: {
    status: 422,
    message: "policy test coverage is below the threshold",
    retryable: false,
  },
  BUNDLE_OUT_OF_DATE: {
    status: 422,
    message: "the committed bundle does not match what the source builds",
    retryable: false,
  },
  BUNDLE_PROMOTE_FAILED: {
    status: 500,
    message: "the bundle could not be written to the served path",
    retryable: false,
  },
  FIXTURE_INVALID: {
    status: 422,
    message: "a golden decision fixture does not match its schema",
    retryable: false,
  },

  // --- bundle verification and loading ---------------------------------------------------
  BUNDLE_NOT_FOUND: {
    status: 503,
    message: "no policy bundle at the configured path",
    retryable: false,
  },
  BUNDLE_TOO_LARGE: { status: 422, message: "the bundle exceeds its size limit", retryable: false },
  BUNDLE_MALFORMED: {
    status: 422,
    message: "the bundle is not a valid bundle archive",
    retryable: false,
  },
  BUNDLE_UNSIGNED: { status: 422, message: "the bundle carries no signature", retryable: false },
  BUNDLE_SIGNATURE_INVALID: {
    status: 422,
    message: "the bundle signature does not verify against the configured key",
    retryable: false,
  },
  BUNDLE_DIGEST_MISMATCH: {
    status: 422,
    message: "a bundle file does not match the digest its signature covers",
    retryable: false,
  },
  BUNDLE_MANIFEST_INVALID: {
    status: 422,
    message: "the bundle manifest is invalid",
    retryable: false,
  },
  BUNDLE_INCOMPATIBLE: {
    status: 422,
    message: "the bundle's Wasm module is incompatible with this engine",
    retryable: false,
  },
  SIGNING_KEY_INVALID: {
    status: 500,
    message: "a signing or verification key is invalid",
    retryable: false,
  },

  // --- evaluation ------------------------------------------------------------------------
  POLICY_INPUT_INVALID: {
    status: 400,
    message: "the decision input does not match its schema",
    retryable: false,
  },
  POLICY_EVAL_FAILED: { status: 500, message: "policy evaluation failed", retryable: false },
  POLICY_RESULT_INVALID: {
    status: 500,
    message: "the policy returned a result that does not match its schema",
    retryable: false,
  },
  POLICY_UNDEFINED: {
    status: 500,
    message: "the policy entrypoint returned no result",
    retryable: false,
  },

  // --- HTTP requests ---------------------------------------------------------------------
  REQUEST_INVALID: {
    status: 400,
    message: "the request does not match its schema",
    retryable: false,
  },
  REQUEST_MALFORMED: {
    status: 400,
    message: "the request body is not valid JSON",
    retryable: false,
  },
  REQUEST_TOO_LARGE: {
    status: 413,
    message: "the request body exceeds its size limit",
    retryable: false,
  },
  REQUEST_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    message: "the request body must be application/json",
    retryable: false,
  },
  REQUEST_TIMEOUT: {
    status: 408,
    message: "the request did not arrive in time; the connection is closed",
    retryable: true,
  },
  REQUEST_HEADERS_TOO_LARGE: {
    status: 431,
    message: "the request headers exceed their size limit",
    retryable: false,
  },
  REQUEST_NOT_HTTP: {
    status: 400,
    message: "the request is not valid HTTP/1.1",
    retryable: false,
  },
  NOT_FOUND: { status: 404, message: "no such route or resource", retryable: false },
  RATE_LIMITED: { status: 429, message: "too many requests; retry later", retryable: true },
  SERVICE_UNAVAILABLE: { status: 503, message: "the service is not ready", retryable: true },
  INTERNAL: { status: 500, message: "internal error", retryable: true },

  // --- ledger ----------------------------------------------------------------------------
  STORE_UNAVAILABLE: {
    status: 503,
    message: "the ledger store is unavailable; retry with the same idempotency key",
    retryable: true,
  },
  STORE_DURABILITY_UNSAFE: {
    status: 500,
    message: "the ledger store does not run with the configured durability",
    retryable: false,
  },
  STORE_MIGRATION_FAILED: {
    status: 500,
    message: "a ledger store migration failed",
    retryable: false,
  },
  STORE_CLOSED: { status: 503, message: "the ledger store is closed", retryable: false },
  LEDGER_INVARIANT_VIOLATED: {
    status: 500,
    message: "a ledger invariant does not hold; the transaction was rolled back",
    retryable: false,
  },

  // --- audit -----------------------------------------------------------------------------
  AUDIT_CHAIN_BROKEN: {
    status: 500,
    message: "the audit hash chain does not verify",
    retryable: false,
  },

  // --- identity ----------------------------------------------------------------------------
  AUTH_TOKEN_MISSING: { status: 401, message: "no bearer token was presented", retryable: false },
  AUTH_TOKEN_MALFORMED: {
    status: 401,
    message: "the bearer token is not a well-formed JWT",
    retryable: false,
  },
  AUTH_TOKEN_TOO_LARGE: {
    status: 401,
    message: "the bearer token exceeds its size limit",
    retryable: false,
  },
  AUTH_TOKEN_INVALID: {
    status: 401,
    message: "the token's signature, algorithm, key or header is not acceptable",
    retryable: false,
  },
  AUTH_TOKEN_EXPIRED: {
    status: 401,
    message: "the token has expired or is too old",
    retryable: false,
  },
  AUTH_TOKEN_NOT_YET_VALID: {
    status: 401,
    message: "the token is not valid yet",
    retryable: false,
  },
  AUTH_ISSUER_UNKNOWN: {
    status: 401,
    message: "the token's issuer is not trusted",
    retryable: false,
  },
  AUTH_AUDIENCE_MISMATCH: {
    status: 401,
    message: "the token is not meant for this audience",
    retryable: false,
  },
  AUTH_CLAIMS_INVALID: {
    status: 401,
    message: "the token's claims are missing or do not map to a principal",
    retryable: false,
  },
  AUTH_TOKEN_REVOKED: {
    status: 401,
    message: "the token or its principal has been revoked",
    retryable: false,
  },
  AUTH_FORBIDDEN: {
    status: 403,
    message: "the identity is not allowed on this route",
    retryable: false,
  },
  AUTH_JWKS_UNAVAILABLE: {
    status: 503,
    message: "the issuer's signing keys could not be fetched",
    retryable: true,
  },
  AUTH_REVOCATION_UNAVAILABLE: {
    status: 503,
    message: "the revocation list could not be consulted",
    retryable: true,
  },
  // --- end identity ------------------------------------------------------------------------

  // --- decisions -------------------------------------------------------------------------
  IDEMPOTENCY_KEY_MISSING: {
    status: 400,
    message: "an Idempotency-Key header is required for enforcing calls",
    retryable: false,
  },
  IDEMPOTENCY_CONFLICT: {
    status: 409,
    message: "this Idempotency-Key was used for a different request",
    retryable: false,
  },
  IDEMPOTENCY_IN_PROGRESS: {
    status: 409,
    message: "a request with this Idempotency-Key is still being enforced; retry shortly",
    retryable: true,
  },
  LEDGER_REFUSED: { status: 409, message: "the ledger refused the operation", retryable: false },
  TASK_SCOPE_EXCEEDS_PARENT: {
    status: 403,
    message: "a task credential cannot carry scopes its parent does not hold",
    retryable: false,
  },

  // --- cli -------------------------------------------------------------------------------
  DEV_ISSUER_DISABLED: {
    status: 403,
    message:
      "the configuration does not trust the development issuer (identity.dev_issuer is false); no development token was minted",
    retryable: false,
  },
  // --- end cli ---------------------------------------------------------------------------

  // --- tasks -----------------------------------------------------------------------------
  TASK_KEYS_INVALID: {
    status: 500,
    message: "the task-signing key file is unreadable, corrupt or cannot be written",
    retryable: false,
  },
  TASK_SIGNING_UNAVAILABLE: {
    status: 503,
    message:
      "no task credential could be signed; nothing was charged and nothing is held: start the task again with a new idempotency key",
    retryable: false,
  },
  TASK_KEYS_FULL: {
    status: 409,
    message: "the task-signing key set is full; retry once retired keys have expired",
    retryable: true,
  },
  // --- end tasks -------------------------------------------------------------------------
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof errorSpecs;

export interface CreditgateErrorOptions {
  readonly message?: string;
  readonly details?: Readonly<Record<string, unknown>>;
  readonly cause?: unknown;
}

/** An operating failure with a stable code; never used for denies or programmer errors. */
export class CreditgateError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, options: CreditgateErrorOptions = {}) {
    const spec: ErrorSpec = errorSpecs[code];
    super(
      options.message ?? spec.message,
      options.cause === undefined ? {} : { cause: options.cause },
    );
    this.name = "CreditgateError";
    this.code = code;
    this.status = spec.status;
    this.retryable = spec.retryable;
    this.details = options.details ?? {};
  }
}

export function isCreditgateError(value: unknown, code?: ErrorCode): value is CreditgateError {
  return value instanceof CreditgateError && (code === undefined || value.code === code);
}
