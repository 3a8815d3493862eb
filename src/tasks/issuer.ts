/**
 * The task issuer on the verifying side: an issuer entry built from the `tasks` configuration,
 * and a key resolver that looks kids up in the live task key set, so a rotation (here or by
 * another process) is honoured without a restart.
 */
import { errors as joseErrors } from "jose";
import type { TasksConfig } from "../config/types.js";
import {
  createKeyResolver,
  type IssuerConfig,
  type KeyResolver,
  type KeyResolverFactory,
  taskTokenType,
} from "../identity/index.js";
import { limits } from "../limits.js";
import type { TaskKeyStore } from "./key-store.js";

/** The verifier's entry for task tokens: EdDSA only, the task typ only, one audience. */
export function taskIssuerConfig(config: TasksConfig): IssuerConfig {
  return Object.freeze({
    issuer: config.issuer,
    audiences: Object.freeze([config.audience]),
    algorithms: Object.freeze(["EdDSA"] as const),
    principal_kind: "task",
    typ: taskTokenType,
    max_token_age_seconds: config.ttl_seconds_max,
    clock_tolerance_seconds: limits.taskTokenClockToleranceSeconds,
  });
}

/** Resolves a task token's kid among the keys published now; unknown kids are refused. */
export function taskKeyResolver(store: TaskKeyStore): KeyResolver {
  return async (header) => {
    const key = typeof header.kid === "string" ? await store.publicKey(header.kid) : undefined;
    // Translated by the verifier into AUTH_TOKEN_INVALID ("no key matches").
    if (key === undefined) throw new joseErrors.JWKSNoMatchingKey();
    return key;
  };
}

/** Task-kind issuers resolve through the key store; every other issuer through `fallback`. */
export function taskKeyResolverFactory(
  store: TaskKeyStore,
  fallback: KeyResolverFactory = createKeyResolver,
): KeyResolverFactory {
  return async (issuer, options) =>
    issuer.principal_kind === "task" ? taskKeyResolver(store) : fallback(issuer, options);
}
