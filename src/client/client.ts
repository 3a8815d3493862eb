/**
 * createClient: the typed creditgate API for services. Enforcing calls (decide, commit,
 * release, admin writes) get one idempotency key per logical call, reused by every retry, so
 * a retry after a timeout or a 503 can never debit twice.
 */
import { randomUUID } from "node:crypto";
import {
  defaultRetries,
  defaultRetryBaseDelayMs,
  defaultTimeoutMs,
  idempotencyKeyCharsMax,
  maxRetries,
  maxRetryAfterMs,
  maxRetryDelayMs,
  maxTimeoutMs,
} from "./limits.js";
import { type CallSpec, isObject, send, type TransportConfig } from "./transport.js";
import type {
  Action,
  AuditPage,
  AuditQuery,
  AuditVerification,
  BalancesResponse,
  CallOptions,
  ClientOptions,
  CreditgateClient,
  DecideOptions,
  DecisionResponse,
  EnforceOptions,
  GrantRequest,
  GrantResponse,
  HealthResponse,
  HoldCommitResponse,
  HoldReleaseResponse,
  ReversalRequest,
  ReversalResponse,
  RevocationRequest,
  RevocationResponse,
  TenantResponse,
} from "./types.js";

/** The server's idempotency-key alphabet (schemas/api/idempotency-headers.schema.json). */
const idempotencyKeyPattern = /^[A-Za-z0-9._:@/-]+$/;

/** A fresh key for one logical call; `cg-` marks keys the client made up. */
export function newIdempotencyKey(): string {
  return `cg-${randomUUID()}`;
}

export function createClient(options: ClientOptions): CreditgateClient {
  const config = transportConfig(options);

  const call = <T>(spec: CallSpec<T>): Promise<T> => send(config, spec);
  const enforcing = (
    path: string,
    body: unknown,
    options: EnforceOptions | undefined,
  ): Pick<CallSpec<unknown>, "method" | "path" | "body" | "idempotencyKey" | "signal"> => ({
    method: "POST",
    path,
    body,
    // Fixed here, once, before the first attempt: every retry sends this same key.
    idempotencyKey: checkedKey(options?.idempotencyKey) ?? newIdempotencyKey(),
    signal: options?.signal,
  });

  // Methods are async so that argument errors reject like every other failure.
  return {
    async decide(action: Action, options: DecideOptions = {}): Promise<DecisionResponse> {
      const dryRun = options.dryRun === true;
      // A dry run changes nothing, so it needs no key; one passed explicitly is still sent.
      const key = checkedKey(options.idempotencyKey) ?? (dryRun ? undefined : newIdempotencyKey());
      return call({
        method: "POST",
        path: "/v1/decisions",
        body: dryRun ? { action, dry_run: true } : { action },
        idempotencyKey: key,
        signal: options.signal,
        accept: isDecisionResponse,
      });
    },

    async commitHold(holdId: string, amount: number, options?: EnforceOptions) {
      if (!Number.isSafeInteger(amount) || amount < 0) {
        throw new TypeError(`commitHold: amount must be an integer >= 0, got ${amount}`);
      }
      return call({
        ...enforcing(`/v1/holds/${segment("holdId", holdId)}/commit`, { amount }, options),
        accept: isHoldCommitResponse,
      });
    },

    async releaseHold(holdId: string, options?: EnforceOptions) {
      return call({
        ...enforcing(`/v1/holds/${segment("holdId", holdId)}/release`, {}, options),
        accept: isHoldReleaseResponse,
      });
    },

    async balances(tenant: string, options?: CallOptions) {
      return call({
        method: "GET",
        path: `/v1/tenants/${segment("tenant", tenant)}/balances`,
        signal: options?.signal,
        accept: isBalancesResponse,
      });
    },

    async tenant(tenant: string, options?: CallOptions) {
      return call({
        method: "GET",
        path: `/v1/tenants/${segment("tenant", tenant)}`,
        signal: options?.signal,
        accept: isTenantResponse,
      });
    },

    async audit(query: AuditQuery = {}, options?: CallOptions) {
      return call({
        method: "GET",
        path: "/v1/audit",
        query: auditSearchParams(query),
        signal: options?.signal,
        accept: isAuditPage,
      });
    },

    async verifyAudit(options?: CallOptions) {
      return call({
        method: "GET",
        path: "/v1/audit/verify",
        signal: options?.signal,
        accept: isAuditVerification,
      });
    },

    // Probes ask "right now?": one attempt, no backoff hiding a flapping service.
    async health(options?: CallOptions) {
      return call({
        method: "GET",
        path: "/healthz",
        signal: options?.signal,
        retries: 0,
        accept: isHealthResponse,
      });
    },

    async ready(options?: CallOptions) {
      return call({
        method: "GET",
        path: "/readyz",
        signal: options?.signal,
        retries: 0,
        accept: isHealthResponse,
        acceptStatus: [503],
      });
    },

    admin: {
      async grant(request: GrantRequest, options?: EnforceOptions): Promise<GrantResponse> {
        return call({
          ...enforcing("/v1/admin/grants", request, options),
          accept: isGrantResponse,
        });
      },
      async reverse(request: ReversalRequest, options?: EnforceOptions): Promise<ReversalResponse> {
        return call({
          ...enforcing("/v1/admin/reversals", request, options),
          accept: isReversalResponse,
        });
      },
      async revoke(
        request: RevocationRequest,
        options?: EnforceOptions,
      ): Promise<RevocationResponse> {
        return call({
          ...enforcing("/v1/admin/revocations", request, options),
          accept: isRevocationResponse,
        });
      },
      /** Every decision of the tenant is denied (TENANT_SUSPENDED) from the next one on. */
      async suspendTenant(
        tenant: string,
        request: { readonly reason: string },
        options?: EnforceOptions,
      ): Promise<TenantResponse> {
        return call({
          ...enforcing(`/v1/tenants/${segment("tenant", tenant)}/suspend`, request, options),
          accept: isTenantResponse,
        });
      },
      async reinstateTenant(
        tenant: string,
        request: { readonly reason: string },
        options?: EnforceOptions,
      ): Promise<TenantResponse> {
        return call({
          ...enforcing(`/v1/tenants/${segment("tenant", tenant)}/reinstate`, request, options),
          accept: isTenantResponse,
        });
      },
    },
  };
}

function transportConfig(options: ClientOptions): TransportConfig {
  const base = new URL(options.baseUrl);
  if (base.protocol !== "http:" && base.protocol !== "https:") {
    throw new TypeError(`createClient: baseUrl must be http(s), got ${base.protocol}`);
  }
  if (base.search !== "" || base.hash !== "") {
    throw new TypeError("createClient: baseUrl must not carry a query or fragment");
  }
  const fetchImpl = options.fetch ?? globalThis.fetch;
  if (typeof fetchImpl !== "function") {
    throw new TypeError("createClient: no fetch implementation (Node >= 20 provides one)");
  }
  return {
    // Paths are appended rather than resolved, so a prefix such as /creditgate survives.
    baseUrl: base.href.replace(/\/+$/, ""),
    token: options.token,
    timeoutMs: bounded("timeoutMs", options.timeoutMs, defaultTimeoutMs, 1, maxTimeoutMs),
    retries: bounded("retries", options.retries, defaultRetries, 0, maxRetries),
    retryBaseDelayMs: bounded(
      "retryBaseDelayMs",
      options.retryBaseDelayMs,
      defaultRetryBaseDelayMs,
      0,
      maxRetryDelayMs,
    ),
    maxRetryAfterMs: bounded(
      "maxRetryAfterMs",
      options.maxRetryAfterMs,
      maxRetryAfterMs,
      0,
      maxRetryAfterMs,
    ),
    fetch: fetchImpl,
    onRetry: options.onRetry,
  };
}

function bounded(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(`createClient: ${name} must be an integer in [${min}, ${max}]`);
  }
  return value;
}

function checkedKey(key: string | undefined): string | undefined {
  if (key === undefined) return undefined;
  if (key.length > idempotencyKeyCharsMax || !idempotencyKeyPattern.test(key)) {
    throw new TypeError(
      `idempotencyKey must be 1-${idempotencyKeyCharsMax} characters of A-Z a-z 0-9 . _ : @ / -`,
    );
  }
  return key;
}

function segment(name: string, value: string): string {
  if (typeof value !== "string" || value === "") {
    throw new TypeError(`${name} must be a non-empty string`);
  }
  return encodeURIComponent(value);
}

export function auditSearchParams(query: AuditQuery): URLSearchParams {
  const params = new URLSearchParams();
  const put = (name: string, value: string | number | Date | undefined): void => {
    if (value === undefined) return;
    params.set(name, value instanceof Date ? value.toISOString() : String(value));
  };
  put("tenant", query.tenant);
  put("principal", query.principal);
  put("decision_id", query.decision_id);
  put("kind", query.kind);
  put("from", query.from);
  put("to", query.to);
  put("after", query.after);
  put("limit", query.limit);
  return params;
}

// --- response shape checks: the fields callers rely on, not a full schema validation --------

type FieldType = "string" | "number" | "boolean" | "object" | "array" | "string|null";

function hasFields(value: unknown, fields: Readonly<Record<string, FieldType>>): boolean {
  if (!isObject(value)) return false;
  return Object.entries(fields).every(([name, type]) => {
    const field = value[name];
    switch (type) {
      case "object":
        return isObject(field);
      case "array":
        return Array.isArray(field);
      case "string|null":
        return field === null || typeof field === "string";
      default:
        return typeof field === type;
    }
  });
}

const isDecisionResponse = (v: unknown): v is DecisionResponse =>
  hasFields(v, {
    decision_id: "string",
    allow: "boolean",
    cost: "number",
    reasons: "array",
    obligations: "object",
    balances: "object",
    policy_revision: "string",
  });

const isHoldCommitResponse = (v: unknown): v is HoldCommitResponse =>
  hasFields(v, {
    hold_id: "string",
    transfer_id: "string",
    committed: "number",
    released: "number",
    balances: "object",
  });

const isHoldReleaseResponse = (v: unknown): v is HoldReleaseResponse =>
  hasFields(v, { hold_id: "string", released: "number", balances: "object" });

const isGrantResponse = (v: unknown): v is GrantResponse =>
  hasFields(v, {
    grant_id: "string",
    tenant: "string",
    class: "string",
    amount: "number",
    effective_at: "string",
    expires_at: "string|null",
  });

const isReversalResponse = (v: unknown): v is ReversalResponse =>
  hasFields(v, { transfer_id: "string", reversed_transfer_id: "string", amount: "number" });

const isRevocationResponse = (v: unknown): v is RevocationResponse =>
  hasFields(v, { revocation_id: "string" });

const isTenantResponse = (v: unknown): v is TenantResponse =>
  hasFields(v, { tenant: "string", status: "string", since: "string|null", reason: "string|null" });

const isBalancesResponse = (v: unknown): v is BalancesResponse =>
  hasFields(v, {
    tenant: "string",
    at: "string",
    posted: "object",
    held: "object",
    available: "object",
  });

const isAuditPage = (v: unknown): v is AuditPage =>
  hasFields(v, { records: "array" }) &&
  isObject(v) &&
  (v.next_after === null || typeof v.next_after === "number");

const isAuditVerification = (v: unknown): v is AuditVerification =>
  isObject(v) &&
  typeof v.count === "number" &&
  (v.ok === true
    ? hasFields(v.head, { seq: "number", hash: "string" })
    : v.ok === false && typeof v.broken_seq === "number" && typeof v.reason === "string");

const isHealthResponse = (v: unknown): v is HealthResponse => hasFields(v, { status: "string" });
