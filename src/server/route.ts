/**
 * Turns an entry of the API table into fastify route options: path, schemas by reference,
 * the authentication hook and, on admin routes, the tenant-scope hook. Handlers read the verified principal and the idempotency key
 * through the helpers here, so no route can forget either.
 */
import type { FastifyRequest, FastifySchema, RouteOptions } from "fastify";
import { CreditgateError } from "../errors.js";
import type { VerifiedPrincipal } from "../identity/index.js";
import type { RefusalCode } from "../ledger/codes.js";
import { type ApiRoute, fastifyPath } from "./api.js";
import type { AppDeps } from "./deps.js";
import { authenticate } from "./plugins/auth.js";
import { assertTenantField, tenantScope } from "./plugins/tenant-scope.js";
import { apiSchema, requestInvalid, requestViolations } from "./validation.js";

/** What a route without a query or body in the table validates against: nothing is allowed. */
export const emptyQuerySchema = "api/empty-query";
const emptyBodySchema = "api/empty-body";

/**
 * A route that takes no body refuses one with fields, so nothing the caller sent is ignored. No
 * body or `{}` passes. A GET's body is never read, so its presence is enough to refuse it.
 */
async function refuseBody(request: FastifyRequest): Promise<void> {
  if (request.body !== undefined) {
    const violations = requestViolations(emptyBodySchema, "body", request.body);
    if (violations.length > 0) throw requestInvalid(violations);
    return;
  }
  const length = request.headers["content-length"];
  const hasBody =
    request.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
  if (hasBody) {
    throw requestInvalid([{ in: "body", path: "", message: "this route takes no body" }]);
  }
}

export function routeOptions(route: ApiRoute, deps: AppDeps): Omit<RouteOptions, "handler"> {
  const schema: FastifySchema = {
    ...(route.body === undefined ? {} : { body: apiSchema(route.body) }),
    ...(route.params === undefined ? {} : { params: apiSchema(route.params) }),
    querystring: apiSchema(route.query ?? emptyQuerySchema),
    ...(route.idempotency === undefined ? {} : { headers: apiSchema("api/idempotency-headers") }),
  };
  const auth = { identity: deps.identity, onFailure: deps.onAuthFailure };
  if (route.auth === "admin") assertTenantField(route);
  return {
    method: route.method,
    url: fastifyPath(route.path),
    schema,
    ...(route.auth === "none" ? {} : { onRequest: authenticate(route.auth, auth) }),
    ...(route.body === undefined ? { preValidation: refuseBody } : {}),
    // After validation, so the tenant checked is the tenant the handler acts on.
    ...(route.auth === "admin" ? { preHandler: tenantScope(route, auth) } : {}),
  };
}

export function principalOf(request: FastifyRequest): VerifiedPrincipal {
  if (request.principal === null) throw new TypeError("route has no authenticate hook");
  return request.principal;
}

/** The Idempotency-Key header (format already checked by the headers schema). */
export function idempotencyKey(request: FastifyRequest): string | undefined {
  const value = request.headers["idempotency-key"];
  return typeof value === "string" && value !== "" ? value : undefined;
}

export function requiredIdempotencyKey(request: FastifyRequest): string {
  const key = idempotencyKey(request);
  if (key === undefined) throw new CreditgateError("IDEMPOTENCY_KEY_MISSING");
  return key;
}

/** A ledger refusal as an API error: unknown ids are 404s, key reuse a conflict, the rest 409. */
export function ledgerRefusal(code: RefusalCode): CreditgateError {
  if (code === "exists_with_different_request") {
    return new CreditgateError("IDEMPOTENCY_CONFLICT", {
      details: { reason: "different_request", ledger_code: code },
    });
  }
  // Another principal's hold answers as if there were none: a hold is disclosed only to its owner.
  if (code === "hold_not_owned") {
    return new CreditgateError("NOT_FOUND", {
      message: "no such hold",
      details: { ledger_code: "hold_not_found" },
    });
  }
  if (code === "hold_not_found" || code === "transfer_not_found") {
    return new CreditgateError("NOT_FOUND", {
      message: code === "hold_not_found" ? "no such hold" : "no such transfer",
      details: { ledger_code: code },
    });
  }
  return new CreditgateError("LEDGER_REFUSED", {
    message: `the ledger refused the operation: ${code}`,
    details: { ledger_code: code },
  });
}
