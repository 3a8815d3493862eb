/**
 * Attenuation: what a task credential may carry, derived from its parent and the request, never
 * more. Scopes are the requested actions and tools, each of which the parent must hold itself
 * when the parent is scoped (workloads; users are governed by their plan, and the policy still
 * checks the plan for every action). The lifetime is the request's, capped by configuration and
 * by the parent token's own expiry. Task principals cannot mint credentials at all.
 */
import { CreditgateError } from "../errors.js";
import type { VerifiedPrincipal } from "../identity/index.js";

export interface TaskRequest {
  readonly actions: readonly string[];
  readonly tools?: readonly string[] | undefined;
  readonly budget: number;
  readonly ttlSeconds?: number | undefined;
}

export interface TaskGrant {
  readonly scopes: readonly string[];
  readonly budget: number;
  readonly ttlSeconds: number;
}

export interface AttenuationLimits {
  readonly ttlSecondsDefault: number;
  readonly ttlSecondsMax: number;
}

/** Scoped parents can delegate only scopes they hold; `tool.call` covers every tool. */
export function parentAllows(parent: VerifiedPrincipal, scope: string): boolean {
  if (parent.kind === "user") return true;
  if (parent.scopes.includes(scope)) return true;
  const [action, target] = scope.split(":", 2);
  return target !== undefined && parent.scopes.includes(action as string);
}

export function attenuate(
  parent: VerifiedPrincipal,
  request: TaskRequest,
  nowMs: number,
  limits: AttenuationLimits,
): TaskGrant {
  if (parent.kind === "task") {
    throw new CreditgateError("AUTH_FORBIDDEN", {
      message: "a task credential cannot mint further credentials",
    });
  }
  const scopes = [
    ...new Set([
      ...request.actions.filter((a) => a !== "tool.call" || (request.tools ?? []).length === 0),
      ...(request.tools ?? []).map((tool) => `tool.call:${tool}`),
    ]),
  ].sort();
  const excess = scopes.filter((scope) => !parentAllows(parent, scope));
  if (excess.length > 0) {
    throw new CreditgateError("TASK_SCOPE_EXCEEDS_PARENT", {
      details: { scopes: excess },
    });
  }
  // A credential never outlives the token that asked for it.
  const parentLeftSeconds = Math.floor((parent.expMs - nowMs) / 1000);
  const ttlSeconds = Math.min(
    request.ttlSeconds ?? limits.ttlSecondsDefault,
    limits.ttlSecondsMax,
    parentLeftSeconds,
  );
  if (ttlSeconds < 1) {
    throw new CreditgateError("AUTH_TOKEN_EXPIRED", {
      message: "the parent token expires before a task credential could be used",
    });
  }
  return { scopes, budget: request.budget, ttlSeconds };
}
