/**
 * The HTTP API as data: every route's method, path, authentication, idempotency rule and schema
 * names under schemas/api. Route modules register from this table and /openapi.json is built
 * from it, so the document cannot drift from what is served.
 */
import type { ErrorCode } from "../errors.js";

/**
 * Where an admin route names the tenant it acts on, always as a `tenant` field: the body, the
 * path or the query string (absent from a query: a tenant admin's own tenant), or "global" for a
 * route that acts on no one tenant and answers with no tenant's data (plugins/tenant-scope.ts).
 */
export type TenantSource = "body" | "params" | "query" | "global";

interface RouteFields {
  readonly operationId: string;
  readonly method: "GET" | "POST";
  /** OpenAPI path syntax: /v1/holds/{id}/commit. */
  readonly path: string;
  readonly summary: string;
  readonly tag: "decisions" | "holds" | "tasks" | "admin" | "audit" | "operations";
  readonly idempotency?: "required" | "optional";
  readonly body?: string;
  readonly params?: string;
  readonly query?: string;
  /** Status → response schema name, or "text" for a plain-text body. */
  readonly responses: Readonly<Record<number, string>>;
  /** Codes this route answers with besides the ones every route may answer. */
  readonly errors: readonly ErrorCode[];
}

/** An admin route must say where its tenant is: the type refuses one that does not. */
export interface AdminRoute extends RouteFields {
  readonly auth: "admin";
  readonly tenantFrom: TenantSource;
  /**
   * Only a platform admin may call it, even on its own tenant: lifting what the platform imposed
   * (a suspension) must not be in the hands of the tenant it was imposed on.
   */
  readonly platformOnly?: true;
}

export interface OpenRoute extends RouteFields {
  readonly auth: "user" | "none";
  readonly tenantFrom?: never;
}

export type ApiRoute = AdminRoute | OpenRoute;

const authErrors: readonly ErrorCode[] = [
  "AUTH_TOKEN_MISSING",
  "AUTH_TOKEN_MALFORMED",
  "AUTH_TOKEN_TOO_LARGE",
  "AUTH_TOKEN_INVALID",
  "AUTH_TOKEN_EXPIRED",
  "AUTH_TOKEN_NOT_YET_VALID",
  "AUTH_ISSUER_UNKNOWN",
  "AUTH_AUDIENCE_MISMATCH",
  "AUTH_CLAIMS_INVALID",
  "AUTH_TOKEN_REVOKED",
  "AUTH_FORBIDDEN",
  "AUTH_JWKS_UNAVAILABLE",
  "AUTH_REVOCATION_UNAVAILABLE",
];
const writeErrors: readonly ErrorCode[] = [
  ...authErrors,
  "REQUEST_INVALID",
  "REQUEST_MALFORMED",
  "REQUEST_TOO_LARGE",
  "REQUEST_UNSUPPORTED_MEDIA_TYPE",
  "IDEMPOTENCY_KEY_MISSING",
  "IDEMPOTENCY_CONFLICT",
  "LEDGER_REFUSED",
  "STORE_UNAVAILABLE",
];

/** Every route may answer these. */
export const commonErrors: readonly ErrorCode[] = ["RATE_LIMITED", "INTERNAL", "NOT_FOUND"];

export const apiRoutes = {
  decide: {
    operationId: "decide",
    method: "POST",
    path: "/v1/decisions",
    summary:
      "Decide on one metered action: allow or deny, its cost, and (when allowed) the debit or hold, enforced and audited.",
    tag: "decisions",
    auth: "user",
    idempotency: "required",
    body: "api/decision-request",
    responses: { 200: "api/decision-response" },
    errors: [...writeErrors, "IDEMPOTENCY_IN_PROGRESS"],
  },
  commitHold: {
    operationId: "commitHold",
    method: "POST",
    path: "/v1/holds/{id}/commit",
    summary: "Settle a hold at the actual cost; the rest of the hold is released.",
    tag: "holds",
    auth: "user",
    idempotency: "required",
    params: "api/hold-params",
    body: "api/hold-commit-request",
    responses: { 200: "api/hold-commit-response" },
    errors: writeErrors,
  },
  releaseHold: {
    operationId: "releaseHold",
    method: "POST",
    path: "/v1/holds/{id}/release",
    summary: "Release a hold without charging it.",
    tag: "holds",
    auth: "user",
    idempotency: "optional",
    params: "api/hold-params",
    responses: { 200: "api/hold-release-response" },
    errors: writeErrors,
  },
  createTask: {
    operationId: "createTask",
    method: "POST",
    path: "/v1/tasks",
    summary:
      "Start an agent task: the policy decides (agent.task), the budget is held for the credential's lifetime, and a short-lived task token is signed.",
    tag: "tasks",
    auth: "user",
    idempotency: "required",
    body: "api/task-request",
    responses: { 200: "api/task-response" },
    errors: [
      ...writeErrors,
      "IDEMPOTENCY_IN_PROGRESS",
      "TASK_SCOPE_EXCEEDS_PARENT",
      "TASK_SIGNING_UNAVAILABLE",
    ],
  },
  completeTask: {
    operationId: "completeTask",
    method: "POST",
    path: "/v1/tasks/{id}/complete",
    summary:
      "End a task with its own credential: what it drew stays spent, the rest of its hold is released, the credential is revoked.",
    tag: "tasks",
    auth: "user",
    params: "api/task-params",
    responses: { 200: "api/task-completion" },
    errors: writeErrors,
  },
  grant: {
    operationId: "grant",
    method: "POST",
    path: "/v1/admin/grants",
    summary: "Grant credits to one class of a tenant, with optional priority, start and expiry.",
    tag: "admin",
    auth: "admin",
    tenantFrom: "body",
    idempotency: "required",
    body: "api/grant-request",
    responses: { 201: "api/grant-response" },
    errors: writeErrors,
  },
  reverse: {
    operationId: "reverse",
    method: "POST",
    path: "/v1/admin/reversals",
    summary: "Give back all or part of a debit or committed hold.",
    tag: "admin",
    auth: "admin",
    tenantFrom: "body",
    idempotency: "required",
    body: "api/reversal-request",
    responses: { 201: "api/reversal-response" },
    errors: writeErrors,
  },
  revoke: {
    operationId: "revoke",
    method: "POST",
    path: "/v1/admin/revocations",
    summary:
      "Revoke a token (jti), principal, task or whole tenant; effective on the next request.",
    tag: "admin",
    auth: "admin",
    tenantFrom: "body",
    idempotency: "required",
    body: "api/revocation-request",
    responses: { 201: "api/revocation-response" },
    errors: writeErrors,
  },
  balances: {
    operationId: "balances",
    method: "GET",
    path: "/v1/tenants/{tenant}/balances",
    summary: "A tenant's posted, held and available credits per class.",
    tag: "admin",
    auth: "admin",
    tenantFrom: "params",
    params: "api/tenant-params",
    responses: { 200: "api/balances-response" },
    errors: [...authErrors, "REQUEST_INVALID", "STORE_UNAVAILABLE"],
  },
  tenant: {
    operationId: "tenant",
    method: "GET",
    path: "/v1/tenants/{tenant}",
    summary: "A tenant's status (active or suspended), when it last changed and why.",
    tag: "admin",
    auth: "admin",
    tenantFrom: "params",
    params: "api/tenant-params",
    responses: { 200: "api/tenant-response" },
    errors: [...authErrors, "REQUEST_INVALID", "STORE_UNAVAILABLE"],
  },
  suspendTenant: {
    operationId: "suspendTenant",
    method: "POST",
    path: "/v1/tenants/{tenant}/suspend",
    summary:
      "Suspend a tenant: from the next decision on, on every instance, every decision is denied (TENANT_SUSPENDED).",
    tag: "admin",
    auth: "admin",
    tenantFrom: "params",
    idempotency: "required",
    params: "api/tenant-params",
    body: "api/tenant-status-request",
    responses: { 200: "api/tenant-response" },
    errors: writeErrors,
  },
  reinstateTenant: {
    operationId: "reinstateTenant",
    method: "POST",
    path: "/v1/tenants/{tenant}/reinstate",
    summary:
      "Reinstate a suspended tenant: the next decision is evaluated as before. Platform admins only.",
    tag: "admin",
    auth: "admin",
    tenantFrom: "params",
    platformOnly: true,
    idempotency: "required",
    params: "api/tenant-params",
    body: "api/tenant-status-request",
    responses: { 200: "api/tenant-response" },
    errors: writeErrors,
  },
  audit: {
    operationId: "audit",
    method: "GET",
    path: "/v1/audit",
    summary:
      "Audit records filtered by tenant, principal, decision, kind and time; paginated by seq.",
    tag: "audit",
    auth: "admin",
    tenantFrom: "query",
    query: "api/audit-query",
    responses: { 200: "api/audit-page" },
    errors: [...authErrors, "REQUEST_INVALID", "STORE_UNAVAILABLE"],
  },
  verifyAudit: {
    operationId: "verifyAudit",
    method: "GET",
    path: "/v1/audit/verify",
    summary: "Walk the audit hash chain and name the first record that does not verify.",
    tag: "audit",
    auth: "admin",
    tenantFrom: "global",
    responses: { 200: "api/audit-verification" },
    errors: [...authErrors, "STORE_UNAVAILABLE"],
  },
  healthz: {
    operationId: "healthz",
    method: "GET",
    path: "/healthz",
    summary: "Liveness: the process answers.",
    tag: "operations",
    auth: "none",
    responses: { 200: "api/health-response" },
    errors: [],
  },
  readyz: {
    operationId: "readyz",
    method: "GET",
    path: "/readyz",
    summary: "Readiness: a policy bundle is active and the store answers.",
    tag: "operations",
    auth: "none",
    responses: { 200: "api/health-response", 503: "api/health-response" },
    errors: [],
  },
  metrics: {
    operationId: "metrics",
    method: "GET",
    path: "/metrics",
    summary: "Prometheus metrics.",
    tag: "operations",
    auth: "none",
    responses: { 200: "text" },
    errors: [],
  },
  jwks: {
    operationId: "jwks",
    method: "GET",
    path: "/.well-known/jwks.json",
    summary:
      "The public keys of creditgate's task tokens: the signing key, the next one, and retired ones while their tokens may be alive.",
    tag: "operations",
    auth: "none",
    responses: { 200: "api/jwks-response" },
    errors: ["TASK_KEYS_INVALID"],
  },
  openapi: {
    operationId: "openapi",
    method: "GET",
    path: "/openapi.json",
    summary: "This document.",
    tag: "operations",
    auth: "none",
    responses: { 200: "json" },
    errors: [],
  },
} as const satisfies Record<string, ApiRoute>;

/** fastify's path syntax for an OpenAPI path. */
export function fastifyPath(path: string): string {
  return path.replace(/\{([^}]+)\}/g, ":$1");
}
