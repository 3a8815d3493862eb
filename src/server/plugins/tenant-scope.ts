/**
 * Tenant scope for admin routes: a tenant admin acts only on its token's tenant, a platform
 * admin on every tenant. The one check every admin route passes (routeOptions installs it from
 * the route table's `tenantFrom`); it runs as a preHandler, after the schemas have validated the
 * body, path and query, so the tenant it reads is the one the handler will act on. A refusal is
 * 403 AUTH_FORBIDDEN, reported like a refused authentication, before the handler has any effect.
 */
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from "fastify";
import { CreditgateError } from "../../errors.js";
import { validatorFor } from "../../schema-registry.js";
import type { AdminRoute, TenantSource } from "../api.js";
import type { AuthOptions } from "./auth.js";

/** The request part that carries the tenant, by source. */
const parts = { body: "body", params: "params", query: "query" } as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Start-up check that the route's schema has the `tenant` field its `tenantFrom` names (required
 * in a body or path, optional in a query), so a table entry cannot point the check at nothing.
 */
export function assertTenantField(route: AdminRoute): void {
  if (route.tenantFrom === "global") return;
  const name = route[route.tenantFrom];
  if (name === undefined) {
    throw new TypeError(`${route.operationId}: tenantFrom "${route.tenantFrom}" but no schema`);
  }
  const schema = validatorFor(name).schema as { properties?: object; required?: string[] };
  const declared = isRecord(schema.properties) && Object.hasOwn(schema.properties, "tenant");
  const required = schema.required?.includes("tenant") === true;
  if (!declared || (route.tenantFrom !== "query" && !required)) {
    throw new TypeError(`${route.operationId}: ${name} must declare a required "tenant"`);
  }
}

export function tenantScope(route: AdminRoute, options: AuthOptions): preHandlerAsyncHookHandler {
  const source: TenantSource = route.tenantFrom;
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    const admin = request.principal;
    if (admin === null) throw new TypeError("tenantScope runs after authenticate");
    const scope = options.identity.adminScope(admin);
    if (scope.kind === "platform") return;
    if (route.platformOnly === true) {
      await refused(request, options, source === "global" ? null : tenantOf(request, source));
      throw new CreditgateError("AUTH_FORBIDDEN", {
        message: "only a platform admin may do this",
        details: { tenant: scope.tenant },
      });
    }
    // A global route acts on no one tenant and shows none of its data: any admin may call it.
    if (source === "global") return;
    const part = request[parts[source]];
    if (!isRecord(part)) throw new TypeError(`the ${source} of an admin route is not an object`);
    let target = part.tenant;
    if (target === undefined && source === "query") {
      // No tenant filter from a tenant admin means its own tenant, never every tenant.
      part.tenant = scope.tenant;
      target = scope.tenant;
    }
    if (typeof target !== "string") throw new TypeError(`the ${source} has no tenant`);
    if (target === scope.tenant) return;
    await refused(request, options, target);
    throw new CreditgateError("AUTH_FORBIDDEN", {
      message: "this admin token acts only on its own tenant",
      details: { tenant: scope.tenant },
    });
  };
}

/** The tenant a request names in `source`, when it names one. */
function tenantOf(request: FastifyRequest, source: Exclude<TenantSource, "global">): string | null {
  const part = request[parts[source]];
  return isRecord(part) && typeof part.tenant === "string" ? part.tenant : null;
}

/** A refusal is reported like a refused authentication, with who asked and for which tenant. */
async function refused(
  request: FastifyRequest,
  options: AuthOptions,
  target: string | null,
): Promise<void> {
  const admin = request.principal;
  if (admin === null) throw new TypeError("tenantScope runs after authenticate");
  await options.onFailure({
    code: "AUTH_FORBIDDEN",
    audience: "admin",
    method: request.method,
    route: request.routeOptions.url ?? request.url,
    ip: request.ip,
    requestId: request.id,
    tokenHash: admin.tokenHash,
    principal: { kind: admin.kind, id: admin.id, tenant: admin.tenant },
    ...(target === null ? {} : { targetTenant: target }),
  });
}
