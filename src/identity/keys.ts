/**
 * Key resolution: one resolver per issuer that picks the verification key for a token by its
 * `kid` (and `alg`) from that issuer's JWKS only. Keys never come from the token itself.
 * Local sets (inline or file) are loaded once at start-up; remote sets are fetched with a
 * timeout, cached, and refetched on an unknown kid at most once per cooldown.
 */
import { readFile, stat } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
  errors as joseErrors,
} from "jose";
import { CreditgateError } from "../errors.js";
import { limits } from "../limits.js";
import { formatViolations, validate } from "../schema-registry.js";
import type { Issuer, Jwks } from "./issuer-config.js";

/** jose's key-lookup callback: given the protected header, the key to verify with. */
export type KeyResolver = JWTVerifyGetKey;

export interface KeyResolverOptions {
  /** Directory that relative `jwks_file` paths are resolved against (the config file's). */
  readonly baseDir?: string;
}

export type KeyResolverFactory = (
  issuer: Issuer,
  options: KeyResolverOptions,
) => Promise<KeyResolver>;

function configInvalid(issuer: Issuer, message: string, cause?: unknown): CreditgateError {
  return new CreditgateError("CONFIG_INVALID", {
    message: `issuer ${issuer.issuer}: ${message}`,
    ...(cause === undefined ? {} : { cause }),
  });
}

async function readJwksFile(issuer: Issuer, path: string): Promise<Jwks> {
  let text: string;
  try {
    // Bounded read: a config pointing at a huge file must not be slurped into memory.
    if ((await stat(path)).size > limits.jwksFileBytesMax) {
      throw configInvalid(issuer, `${path} exceeds ${limits.jwksFileBytesMax} bytes`);
    }
    text = await readFile(path, "utf8");
  } catch (cause) {
    if (cause instanceof CreditgateError) throw cause;
    throw configInvalid(issuer, `cannot read JWKS file ${path}`, cause);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw configInvalid(issuer, `${path} is not JSON`, cause);
  }
  const violations = validate("identity-jwks", value);
  if (violations.length > 0)
    throw configInvalid(issuer, `${path}: ${formatViolations(violations)}`);
  return value as Jwks;
}

/** Remote failures are operating failures (503, retryable), not a verdict on the token. */
function wrapRemote(issuer: Issuer, remote: KeyResolver): KeyResolver {
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (error) {
      // Only a verdict about this token's header passes through; anything else (timeout,
      // HTTP status, bad JSON, network) is about the key set being unreachable.
      const aboutToken =
        error instanceof joseErrors.JWKSNoMatchingKey ||
        error instanceof joseErrors.JWKSMultipleMatchingKeys ||
        error instanceof joseErrors.JOSENotSupported ||
        error instanceof joseErrors.JOSEAlgNotAllowed;
      if (aboutToken) throw error;
      throw new CreditgateError("AUTH_JWKS_UNAVAILABLE", {
        message: `the signing keys of ${issuer.issuer} could not be fetched`,
        cause: error,
      });
    }
  };
}

/** The default factory: a resolver over the issuer's configured JWKS source. */
export const createKeyResolver: KeyResolverFactory = async (issuer, options) => {
  if (issuer.principal_kind === "task") {
    // Task keys live in creditgate's own key set and rotate while running (src/tasks/).
    throw configInvalid(issuer, "the task issuer needs a key resolver over the task key set");
  }
  if (issuer.jwks_url !== undefined) {
    const remote = createRemoteJWKSet(new URL(issuer.jwks_url), {
      timeoutDuration: limits.jwksTimeoutMs,
      cooldownDuration: limits.jwksCooldownMs,
      cacheMaxAge: limits.jwksCacheMaxAgeMs,
    });
    return wrapRemote(issuer, remote);
  }
  let jwks: Jwks;
  if (issuer.jwks_file !== undefined) {
    const path = isAbsolute(issuer.jwks_file)
      ? issuer.jwks_file
      : resolve(options.baseDir ?? process.cwd(), issuer.jwks_file);
    jwks = await readJwksFile(issuer, path);
  } else if (issuer.jwks !== undefined) {
    jwks = issuer.jwks;
  } else {
    throw new TypeError(
      `issuer ${issuer.issuer} has no key source; parseIssuerConfigs was skipped`,
    );
  }
  try {
    return createLocalJWKSet(structuredClone(jwks) as JSONWebKeySet);
  } catch (cause) {
    throw configInvalid(issuer, "the JWKS is malformed", cause);
  }
};
