/**
 * Claims mapping: turns a verified claims set into the principal fields the policy reads,
 * according to the issuer's `claims` configuration. Missing or ill-typed values refuse the
 * token rather than defaulting, because a wrong tenant or plan would charge the wrong account.
 */
import { CreditgateError } from "../errors.js";
import { limits } from "../limits.js";
import type { Issuer } from "./issuer-config.js";
import type { JsonObject } from "./token-format.js";
import type { Principal, PrincipalKind, TaskCredential } from "./types.js";

function claimsInvalid(message: string): CreditgateError {
  return new CreditgateError("AUTH_CLAIMS_INVALID", { message });
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Reads a claim by name: the whole name as a top-level claim first (URL-style names such as
 * "https://example.com/tenant" contain dots), then as a dotted path into nested objects.
 * Own properties only, so "constructor" or "__proto__" never reach Object.prototype.
 */
export function readClaim(claims: JsonObject, path: string): unknown {
  if (Object.hasOwn(claims, path)) return claims[path];
  let current: unknown = claims;
  for (const segment of path.split(".")) {
    if (!isObject(current) || !Object.hasOwn(current, segment)) return undefined;
    current = current[segment];
  }
  return current;
}

/** Ids are bounded by their kind's limit (they become ledger keys), the plan like any name. */
function readName(
  claims: JsonObject,
  path: string,
  field: string,
  charsMax: number = limits.claimValueCharsMax,
): string {
  const value = readClaim(claims, path);
  if (value === undefined) throw claimsInvalid(`the token has no ${field} claim ("${path}")`);
  if (typeof value !== "string" || value.length === 0 || value.length > charsMax) {
    throw claimsInvalid(
      `the token's ${field} claim ("${path}") must be a string of 1 to ${charsMax} characters`,
    );
  }
  return value;
}

/** Roles and scopes: a JSON array of strings or one space-separated string (OAuth `scope`). */
function readNames(claims: JsonObject, path: string, field: string): readonly string[] {
  const value = readClaim(claims, path);
  if (value === undefined) return Object.freeze([]);
  let items: readonly unknown[];
  if (typeof value === "string") items = value.split(" ").filter((item) => item.length > 0);
  else if (Array.isArray(value)) items = value;
  else
    throw claimsInvalid(
      `the token's ${field} claim ("${path}") must be an array or a space-separated string`,
    );
  const names: string[] = [];
  for (const item of items) {
    if (typeof item !== "string" || item.length === 0 || item.length > limits.claimValueCharsMax) {
      throw claimsInvalid(
        `the token's ${field} claim ("${path}") holds a value that is not a valid name`,
      );
    }
    if (!names.includes(item)) names.push(item);
  }
  if (names.length > limits.claimListItemsMax) {
    throw claimsInvalid(
      `the token's ${field} claim ("${path}") has more than ${limits.claimListItemsMax} values`,
    );
  }
  return Object.freeze(names);
}

export function mapClaims(claims: JsonObject, issuer: Issuer): Principal {
  const mapping = issuer.claims;
  return {
    kind: issuer.principal_kind,
    id: readName(claims, mapping.id, "id", limits.principalIdCharsMax),
    tenant: readName(claims, mapping.tenant, "tenant", limits.tenantIdCharsMax),
    plan: readName(claims, mapping.plan, "plan"),
    roles: readNames(claims, mapping.roles, "roles"),
    scopes: readNames(claims, mapping.scopes, "scopes"),
  };
}

const principalKinds: readonly PrincipalKind[] = ["user", "workload", "task"];

function readString(value: unknown, what: string): string {
  if (typeof value !== "string" || value.length === 0 || value.length > limits.claimValueCharsMax) {
    throw claimsInvalid(
      `the task token's ${what} must be a string of 1 to ${limits.claimValueCharsMax} characters`,
    );
  }
  return value;
}

/**
 * The task claims of a task-issuer token: `task: { id, hold_id, budget }` and the parent in
 * `act: { sub, kind, iss }` (RFC 8693). All required and strictly typed: a task's spending is
 * bounded by exactly these values, so nothing here defaults.
 */
export function mapTaskClaims(claims: JsonObject, principalId: string): TaskCredential {
  const task = claims.task;
  const act = claims.act;
  if (!isObject(task)) throw claimsInvalid("the task token has no task claim object");
  if (!isObject(act)) throw claimsInvalid("the task token has no act claim object");
  const id = readString(task.id, "task.id");
  // The task id is the subject, so revoking the principal revokes the task.
  if (id !== principalId) throw claimsInvalid("the task token's task.id differs from its sub");
  const holdId = readString(task.hold_id, "task.hold_id");
  const budget = task.budget;
  if (
    typeof budget !== "number" ||
    !Number.isSafeInteger(budget) ||
    budget < 1 ||
    budget > limits.creditAmountMax
  ) {
    throw claimsInvalid(
      `the task token's task.budget must be an integer from 1 to ${limits.creditAmountMax}`,
    );
  }
  const kind = readString(act.kind, "act.kind");
  if (!(principalKinds as readonly string[]).includes(kind)) {
    throw claimsInvalid(`the task token's act.kind must be one of ${principalKinds.join(", ")}`);
  }
  return Object.freeze({
    id,
    holdId,
    budget,
    parent: Object.freeze({
      id: readString(act.sub, "act.sub"),
      kind: kind as PrincipalKind,
      issuer: readString(act.iss, "act.iss"),
      ...(act.jti === undefined ? {} : { jti: readString(act.jti, "act.jti") }),
    }),
  });
}
