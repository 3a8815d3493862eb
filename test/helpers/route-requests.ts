/**
 * A request each route of the API table accepts (or answers with a plain 4xx, for ids that do
 * not exist), for tests that vary one part of it. Keyed by operationId: a route added to the
 * table without an entry here fails the tests that read it.
 */
import { randomUUID } from "node:crypto";
import type { ApiRoute, apiRoutes } from "../../src/server/api.js";
import type { TestService } from "./service.js";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface BaseRequest {
  readonly params?: Readonly<Record<string, string>>;
  readonly query?: Readonly<Record<string, string>>;
  readonly body?: Json;
}

export const baseRequests: Readonly<Record<keyof typeof apiRoutes, BaseRequest>> = {
  decide: {
    body: {
      action: {
        type: "model.infer",
        model: "gpt-4o-mini",
        units: { input_tokens: 10, max_output_tokens: 10 },
        workflow_id: "wf-1",
      },
    },
  },
  commitHold: { params: { id: "hld_missing" }, body: { amount: 1 } },
  releaseHold: { params: { id: "hld_missing" } },
  createTask: { body: { budget: 10, actions: ["tool.call"], tools: ["web.search"] } },
  completeTask: { params: { id: "tsk_missing" } },
  grant: { body: { tenant: "acme", class: "paid", amount: 1, source: "api", reference: "ref" } },
  reverse: { body: { tenant: "acme", transfer_id: "trf_missing", reason: "typo" } },
  revoke: {
    body: { tenant: "acme-revoked", kind: "principal", subject: "usr_revoked", reason: "left" },
  },
  balances: { params: { tenant: "acme" } },
  tenant: { params: { tenant: "acme" } },
  suspendTenant: { params: { tenant: "acme-suspended" }, body: { reason: "unpaid" } },
  reinstateTenant: { params: { tenant: "acme-suspended" }, body: { reason: "paid" } },
  audit: { query: { tenant: "acme", limit: "10" } },
  verifyAudit: {},
  healthz: {},
  readyz: {},
  metrics: {},
  jwks: {},
  openapi: {},
};

export interface RouteCall {
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: Json | undefined;
}

/** The URL path with params filled in (encoded) and a query string. */
export function routePath(
  route: ApiRoute,
  params: Readonly<Record<string, string>> = {},
  query: Readonly<Record<string, string>> = {},
): string {
  const path = route.path.replace(/\{([^}]+)\}/g, (_m, name: string) => {
    const value = params[name];
    if (value === undefined) throw new TypeError(`no value for path parameter ${name}`);
    return encodeURIComponent(value);
  });
  const search = new URLSearchParams(query).toString();
  return search === "" ? path : `${path}?${search}`;
}

export async function tokenFor(svc: TestService, route: ApiRoute): Promise<string | undefined> {
  if (route.auth === "none") return undefined;
  return route.auth === "admin" ? svc.adminToken() : svc.userToken();
}

/** Headers every call of the route needs: a fresh idempotency key where it takes one. */
export function routeHeaders(route: ApiRoute): Record<string, string> {
  return route.idempotency === undefined ? {} : { "idempotency-key": `k-${randomUUID()}` };
}
