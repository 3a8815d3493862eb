/**
 * Request and response types of the creditgate HTTP API as the client sees them. Field names
 * are the wire's (snake_case) so a body can be logged or compared with the API schemas as is.
 * Types shared with the service are imported type-only, so no server code is loaded at runtime.
 */
import type { AuditKind, AuditRecord } from "../audit/chain.js";
import type { DecisionResponse } from "../decision/types.js";
import type { Action, Balances, CreditClass, Obligations, Reason } from "../policy/types.js";
import type { CreditgateClientError } from "./errors.js";

export type {
  Action,
  AuditKind,
  AuditRecord,
  Balances,
  CreditClass,
  DecisionResponse,
  Obligations,
  Reason,
};

/** A fixed bearer token, or a function asked before every attempt (so rotated tokens apply). */
export type TokenSource = string | (() => string | Promise<string>);

export interface RetryInfo {
  /** The attempt that just failed (1-based). */
  readonly attempt: number;
  /** How long the client sleeps before the next attempt. */
  readonly delayMs: number;
  readonly error: CreditgateClientError;
  readonly method: string;
  readonly path: string;
}

export interface ClientOptions {
  /** Where the service listens, e.g. `http://creditgate:8080` (a path prefix is kept). */
  readonly baseUrl: string | URL;
  readonly token?: TokenSource;
  /** Per-attempt timeout; default `defaultTimeoutMs`. */
  readonly timeoutMs?: number;
  /** Retries after the first attempt; default `defaultRetries`. */
  readonly retries?: number;
  /** First backoff step; default `defaultRetryBaseDelayMs`. */
  readonly retryBaseDelayMs?: number;
  /** Longest retry-after waited out before giving up; default `maxRetryAfterMs`. */
  readonly maxRetryAfterMs?: number;
  /** A fetch implementation (tests, proxies); default the global fetch. */
  readonly fetch?: typeof fetch;
  /** Called before each retry sleep, e.g. for logging or metrics. */
  readonly onRetry?: (info: RetryInfo) => void;
}

export interface CallOptions {
  /** Cancels the call, including any retry sleep; an aborted call is never retried. */
  readonly signal?: AbortSignal;
}

export interface EnforceOptions extends CallOptions {
  /**
   * Makes the call safe to repeat: the server applies it once and answers a repeat with the
   * same response. Generated when absent; pass your own to stay idempotent across processes.
   */
  readonly idempotencyKey?: string;
}

export interface DecideOptions extends EnforceOptions {
  /** Quote only: no debit, hold or audit record; no idempotency key is needed. */
  readonly dryRun?: boolean;
}

// --- requests ----------------------------------------------------------------------------

export interface DecisionRequestBody {
  readonly action: Action;
  readonly dry_run?: boolean;
}

export interface HoldCommitRequestBody {
  /** Credits actually used; what was held beyond it is released (0 releases everything). */
  readonly amount: number;
}

export interface GrantRequest {
  readonly tenant: string;
  readonly class: CreditClass;
  readonly amount: number;
  /** RFC 3339. */
  readonly effective_at?: string;
  /** RFC 3339. */
  readonly expires_at?: string;
  readonly priority?: number;
  readonly source?: string;
  readonly reference?: string;
}

export interface ReversalRequest {
  readonly tenant: string;
  readonly transfer_id: string;
  /** Omit to reverse what is left of the transfer. */
  readonly amount?: number;
  readonly reason: string;
}

export type RevocationKind = "principal" | "token" | "tenant" | "task" | "grant";

export interface RevocationRequest {
  readonly tenant: string;
  readonly kind: RevocationKind;
  readonly subject: string;
  readonly reason: string;
}

/** GET /v1/audit filters; all optional. Page with `after: page.next_after`. */
export interface AuditQuery {
  readonly tenant?: string;
  readonly principal?: string;
  readonly decision_id?: string;
  readonly kind?: AuditKind;
  /** RFC 3339 string or Date (sent as ISO 8601 UTC). */
  readonly from?: string | Date;
  readonly to?: string | Date;
  /** Records with seq greater than this. */
  readonly after?: number;
  readonly limit?: number;
}

// --- responses ---------------------------------------------------------------------------

export interface HoldCommitResponse {
  readonly hold_id: string;
  readonly transfer_id: string;
  readonly committed: number;
  readonly released: number;
  readonly balances: Balances;
}

export interface HoldReleaseResponse {
  readonly hold_id: string;
  readonly released: number;
  readonly balances: Balances;
}

export interface GrantResponse {
  readonly grant_id: string;
  readonly tenant: string;
  readonly class: CreditClass;
  readonly amount: number;
  readonly effective_at: string;
  readonly expires_at: string | null;
}

export interface ReversalResponse {
  readonly transfer_id: string;
  readonly reversed_transfer_id: string;
  readonly amount: number;
}

export interface RevocationResponse {
  readonly revocation_id: string;
}

export type TenantStatus = "active" | "suspended";

/** GET /v1/tenants/{tenant}; a suspension or reinstatement also answers the last two fields. */
export interface TenantResponse {
  readonly tenant: string;
  readonly status: TenantStatus;
  /** RFC 3339: when the status last changed; null: never. */
  readonly since: string | null;
  readonly reason: string | null;
  readonly previous_status?: TenantStatus;
  /** False when the tenant already had the status (the request was still audited). */
  readonly changed?: boolean;
}

export interface BalancesResponse {
  readonly tenant: string;
  /** RFC 3339: when the balances were read. */
  readonly at: string;
  /** Granted minus spent. */
  readonly posted: Balances;
  /** Reserved by open holds. */
  readonly held: Balances;
  /** Posted minus held. */
  readonly available: Balances;
}

export interface AuditPage {
  readonly records: readonly AuditRecord[];
  /** Pass as `after` for the next page; null on the last page. */
  readonly next_after: number | null;
}

export type AuditVerification =
  | {
      readonly ok: true;
      readonly count: number;
      readonly head: { readonly seq: number; readonly hash: string };
    }
  | {
      readonly ok: false;
      readonly count: number;
      readonly broken_seq: number;
      readonly reason:
        | "seq_gap"
        | "prev_hash_mismatch"
        | "hash_mismatch"
        | "index_mismatch"
        | "ledger_mismatch";
      /** For index_mismatch and ledger_mismatch: the first row that disagrees with the chain. */
      readonly row?: string;
    };

export interface HealthResponse {
  readonly status: "ok" | "unavailable";
  readonly policy_revision?: string;
  readonly bundle_digest?: string;
  readonly checks?: Readonly<Record<string, string>>;
}

/** Every error response body. */
export interface ErrorEnvelope {
  readonly error: {
    readonly code: string;
    readonly message: string;
    readonly details: Readonly<Record<string, unknown>>;
  };
}

// --- the client --------------------------------------------------------------------------

export interface CreditgateAdminClient {
  /** POST /v1/admin/grants. */
  grant(request: GrantRequest, options?: EnforceOptions): Promise<GrantResponse>;
  /** POST /v1/admin/reversals. */
  reverse(request: ReversalRequest, options?: EnforceOptions): Promise<ReversalResponse>;
  /** POST /v1/admin/revocations. */
  revoke(request: RevocationRequest, options?: EnforceOptions): Promise<RevocationResponse>;
  /** POST /v1/tenants/{tenant}/suspend: every decision of the tenant is denied from the next on. */
  suspendTenant(
    tenant: string,
    request: { readonly reason: string },
    options?: EnforceOptions,
  ): Promise<TenantResponse>;
  /** POST /v1/tenants/{tenant}/reinstate. */
  reinstateTenant(
    tenant: string,
    request: { readonly reason: string },
    options?: EnforceOptions,
  ): Promise<TenantResponse>;
}

export interface CreditgateClient {
  /** POST /v1/decisions. A deny resolves (allow: false); only failures reject. */
  decide(action: Action, options?: DecideOptions): Promise<DecisionResponse>;
  /** POST /v1/holds/{holdId}/commit. */
  commitHold(holdId: string, amount: number, options?: EnforceOptions): Promise<HoldCommitResponse>;
  /** POST /v1/holds/{holdId}/release. */
  releaseHold(holdId: string, options?: EnforceOptions): Promise<HoldReleaseResponse>;
  /** GET /v1/tenants/{tenant}/balances. */
  balances(tenant: string, options?: CallOptions): Promise<BalancesResponse>;
  /** GET /v1/audit: one page. */
  audit(query?: AuditQuery, options?: CallOptions): Promise<AuditPage>;
  /** GET /v1/audit/verify. */
  verifyAudit(options?: CallOptions): Promise<AuditVerification>;
  /** GET /healthz, one attempt. */
  health(options?: CallOptions): Promise<HealthResponse>;
  /** GET /readyz, one attempt; a not-ready 503 resolves with status "unavailable". */
  ready(options?: CallOptions): Promise<HealthResponse>;
  /** Admin routes; the client's token must be an admin token. */
  /** GET /v1/tenants/{tenant}: its status (active or suspended). */
  tenant(tenant: string, options?: CallOptions): Promise<TenantResponse>;
  readonly admin: CreditgateAdminClient;
}
