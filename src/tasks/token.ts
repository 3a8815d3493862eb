/**
 * Task tokens: short-lived JWTs creditgate signs for one agent task, naming the task's hold and
 * budget and the principal that started it (`act`, RFC 8693). They verify through the task
 * issuer (src/tasks/issuer.ts) like any other token, into principals of kind "task".
 */
import { randomUUID } from "node:crypto";
import { SignJWT } from "jose";
import { type PrincipalKind, taskTokenType } from "../identity/index.js";
import { limits } from "../limits.js";
import type { TaskKeyStore } from "./key-store.js";

export interface TaskTokenRequest {
  /** The task id: the token's `sub` and `task.id`. */
  readonly taskId: string;
  readonly tenant: string;
  readonly plan: string;
  /** Scopes the task may use; each a name without spaces. */
  readonly scopes: readonly string[];
  /** The principal that starts the task. */
  readonly parent: {
    readonly id: string;
    readonly kind: PrincipalKind;
    readonly issuer: string;
    /** The parent token's jti, carried so that revoking it also stops the task. */
    readonly jti?: string;
  };
  /** The hold that reserves the budget. */
  readonly holdId: string;
  /** Credits the task may spend: an integer from 1 to limits.creditAmountMax. */
  readonly budget: number;
  /** Lifetime; default tasks.ttl_seconds_default, at most tasks.ttl_seconds_max. */
  readonly ttlSeconds?: number;
  /** The token id; default a random UUID. */
  readonly jti?: string;
}

export interface SignedTaskToken {
  /** The compact JWT. */
  readonly token: string;
  readonly jti: string;
  readonly kid: string;
  /** `iat` in epoch milliseconds (whole seconds). */
  readonly issuedAtMs: number;
  /** `exp` in epoch milliseconds (whole seconds). */
  readonly expiresAtMs: number;
}

/** Claim values bounded as the verifier bounds them, so a signed token always verifies. */
function name(value: string, what: string): string {
  if (typeof value !== "string" || value.length === 0 || value.length > limits.claimValueCharsMax) {
    throw new TypeError(`${what} must be a string of 1 to ${limits.claimValueCharsMax} characters`);
  }
  return value;
}

/**
 * Signs a task token with the key that signs at `nowMs`. Invalid requests are TypeErrors: the
 * caller (the /v1/tasks route) has validated its input, so a bad value here is a bug.
 */
export async function signTaskToken(
  store: TaskKeyStore,
  request: TaskTokenRequest,
  nowMs: number,
): Promise<SignedTaskToken> {
  const { config } = store;
  const ttlSeconds = request.ttlSeconds ?? config.ttl_seconds_default;
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > config.ttl_seconds_max) {
    throw new TypeError(`ttlSeconds must be an integer from 1 to ${config.ttl_seconds_max}`);
  }
  const { budget } = request;
  if (!Number.isSafeInteger(budget) || budget < 1 || budget > limits.creditAmountMax) {
    throw new TypeError(`budget must be an integer from 1 to ${limits.creditAmountMax}`);
  }
  if (request.scopes.length > limits.claimListItemsMax) {
    throw new TypeError(`at most ${limits.claimListItemsMax} scopes`);
  }
  for (const scope of request.scopes) {
    if (name(scope, "a scope").includes(" ")) throw new TypeError("a scope contains a space");
  }
  if (!["user", "workload", "task"].includes(request.parent.kind)) {
    throw new TypeError("parent.kind must be user, workload or task");
  }
  const jti = name(request.jti ?? randomUUID(), "jti");
  const taskId = name(request.taskId, "taskId");
  const key = await store.signingKey(nowMs);
  const iat = Math.floor(nowMs / 1_000);
  const exp = iat + ttlSeconds;
  const token = await new SignJWT({
    tenant: name(request.tenant, "tenant"),
    plan: name(request.plan, "plan"),
    scope: request.scopes.join(" "),
    act: {
      sub: name(request.parent.id, "parent.id"),
      kind: request.parent.kind,
      iss: name(request.parent.issuer, "parent.issuer"),
      ...(request.parent.jti === undefined ? {} : { jti: name(request.parent.jti, "parent.jti") }),
    },
    task: { id: taskId, hold_id: name(request.holdId, "holdId"), budget },
  })
    .setProtectedHeader({ alg: "EdDSA", kid: key.kid, typ: taskTokenType })
    .setIssuer(config.issuer)
    .setAudience(config.audience)
    .setSubject(taskId)
    .setJti(jti)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .sign(key.privateKey);
  return { token, jti, kid: key.kid, issuedAtMs: iat * 1_000, expiresAtMs: exp * 1_000 };
}
