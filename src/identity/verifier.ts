/**
 * The identity verifier: bearer token in, verified principal out, or a CreditgateError with a
 * stable AUTH_* code. Routes the token to its issuer by the unverified `iss`, verifies it with
 * that issuer's keys and rules only, maps claims, caches the result, and checks revocation on
 * every call. Admin and decision routes accept disjoint sets of tokens (separation of duties).
 */
import { createHash } from "node:crypto";
import { type Clock, systemClock } from "../clock.js";
import { CreditgateError } from "../errors.js";
import { limits } from "../limits.js";
import { type CachedIdentity, type CacheInvalidation, VerifiedTokenCache } from "./cache.js";
import { mapClaims, mapTaskClaims } from "./claims.js";
import { type Issuer, type IssuerConfig, parseIssuerConfigs } from "./issuer-config.js";
import { createKeyResolver, type KeyResolver, type KeyResolverFactory } from "./keys.js";
import { decodeToken } from "./token-format.js";
import type { AdminScope, RevocationCheck, VerifiedPrincipal } from "./types.js";
import { verifySignedToken } from "./verify.js";

/** The role an admin-issuer token must carry to pass authenticateAdmin. */
export const defaultAdminRole = "creditgate:admin";
/** The role that lets an admin act on every tenant; without it an admin acts on its own tenant. */
export const defaultPlatformAdminRole = "platform-admin";

export interface IdentityVerifierOptions {
  /** Trusted issuers, as configured; validated here (CONFIG_INVALID lists every problem). */
  readonly issuers: readonly IssuerConfig[];
  readonly clock?: Clock;
  /** Revocation of a jti, principal or tenant; consulted on every call. Default: nothing revoked. */
  readonly isRevoked?: RevocationCheck;
  readonly adminRole?: string;
  /** Carried besides the admin role, it widens an admin from its token's tenant to every tenant. */
  readonly platformAdminRole?: string;
  /** Verified tokens kept in memory; 0 disables the cache. At most limits.verifiedTokensCachedMax. */
  readonly cacheEntriesMax?: number;
  /** Where relative `jwks_file` paths start from. */
  readonly baseDir?: string;
  /** Replaces how keys are looked up per issuer (tests count lookups; deployments may add HSM/KMS). */
  readonly keyResolverFactory?: KeyResolverFactory;
}

export interface IdentityStats {
  readonly cacheEntries: number;
  readonly cacheHits: number;
  readonly cacheMisses: number;
}

export interface IdentityVerifier {
  /** For decision routes: any trusted non-admin issuer. Admin-issuer tokens are refused (403). */
  authenticate(token: string): Promise<VerifiedPrincipal>;
  /** For admin routes: only an admin issuer's token carrying the admin role. */
  authenticateAdmin(token: string): Promise<VerifiedPrincipal>;
  /** Which tenants an admin principal (from authenticateAdmin) may act on. */
  adminScope(admin: VerifiedPrincipal): AdminScope;
  /** Drops cached verifications (all when no field is given); revocation does not depend on it. */
  invalidate(match?: CacheInvalidation): number;
  stats(): IdentityStats;
  readonly issuers: readonly Issuer[];
}

export function tokenHashOf(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export async function createIdentityVerifier(
  options: IdentityVerifierOptions,
): Promise<IdentityVerifier> {
  const issuers = parseIssuerConfigs(options.issuers);
  const clock = options.clock ?? systemClock;
  const isRevoked = options.isRevoked ?? (() => false);
  const adminRole = options.adminRole ?? defaultAdminRole;
  const platformAdminRole = options.platformAdminRole ?? defaultPlatformAdminRole;
  if (platformAdminRole === adminRole) {
    // Every admin would be a platform admin: the tenant boundary would silently vanish.
    throw new CreditgateError("CONFIG_INVALID", {
      message: "the platform admin role must differ from the admin role",
    });
  }
  const cacheEntriesMax = options.cacheEntriesMax ?? limits.verifiedTokensCachedMax;
  if (cacheEntriesMax > limits.verifiedTokensCachedMax) {
    throw new CreditgateError("CONFIG_INVALID", {
      message: `the identity cache holds at most ${limits.verifiedTokensCachedMax} entries`,
    });
  }
  const factory = options.keyResolverFactory ?? createKeyResolver;
  const resolverOptions = options.baseDir === undefined ? {} : { baseDir: options.baseDir };
  const byIssuer = new Map<string, { issuer: Issuer; resolveKey: KeyResolver }>();
  for (const issuer of issuers) {
    byIssuer.set(issuer.issuer, { issuer, resolveKey: await factory(issuer, resolverOptions) });
  }
  const cache = new VerifiedTokenCache(cacheEntriesMax);
  let cacheHits = 0;
  let cacheMisses = 0;

  async function verify(token: string, tokenHash: string, nowMs: number): Promise<CachedIdentity> {
    const decoded = decodeToken(token);
    const iss = decoded.claims.iss;
    // Routing by the unverified iss is safe: the chosen issuer's keys must then verify the token.
    const trusted = typeof iss === "string" ? byIssuer.get(iss) : undefined;
    if (trusted === undefined) {
      throw new CreditgateError("AUTH_ISSUER_UNKNOWN", {
        message:
          typeof iss === "string"
            ? "the token's issuer is not trusted"
            : "the token has no iss claim",
      });
    }
    const { issuer, resolveKey } = trusted;
    const claims = await verifySignedToken(token, decoded, issuer, resolveKey, nowMs);
    const exp = claims.exp;
    const iat = claims.iat;
    // jose has checked both are numbers; JSON can still spell Infinity (1e400).
    if (
      typeof exp !== "number" ||
      !Number.isFinite(exp) ||
      typeof iat !== "number" ||
      !Number.isFinite(iat)
    ) {
      throw new CreditgateError("AUTH_CLAIMS_INVALID", {
        message: "exp and iat must be finite NumericDates",
      });
    }
    const jti = claims.jti;
    if (
      jti !== undefined &&
      (typeof jti !== "string" || jti.length === 0 || jti.length > limits.tokenIdCharsMax)
    ) {
      throw new CreditgateError("AUTH_CLAIMS_INVALID", {
        message: `the token's jti must be a string of 1 to ${limits.tokenIdCharsMax} characters`,
      });
    }
    const expMs = Math.min(Math.floor(exp * 1000), Number.MAX_SAFE_INTEGER);
    const mapped = mapClaims(claims, issuer);
    const principal: VerifiedPrincipal = Object.freeze({
      ...mapped,
      ...(jti === undefined ? {} : { jti }),
      expMs,
      issuer: issuer.issuer,
      tokenHash,
      ...(issuer.principal_kind === "task" ? { task: mapTaskClaims(claims, mapped.id) } : {}),
    });
    // Never serve from cache past exp, nor past the maximum age, even where jose's clock
    // tolerance would still accept the token: a re-verification then decides.
    const validUntilMs = Math.min(expMs, (iat + issuer.max_token_age_seconds) * 1000);
    return { principal, admin: issuer.admin, validUntilMs };
  }

  async function identify(token: string): Promise<CachedIdentity> {
    if (typeof token !== "string") throw new TypeError("the token must be a string");
    if (token.length === 0) throw new CreditgateError("AUTH_TOKEN_MISSING");
    // Size first: hashing or decoding an unbounded string is work an attacker chooses.
    if (token.length > limits.tokenBytesMax) {
      throw new CreditgateError("AUTH_TOKEN_TOO_LARGE", {
        message: `the bearer token exceeds ${limits.tokenBytesMax} bytes`,
      });
    }
    const tokenHash = tokenHashOf(token);
    const nowMs = clock.nowMs();
    let identity = cache.get(tokenHash, nowMs);
    if (identity === undefined) {
      cacheMisses++;
      identity = await verify(token, tokenHash, nowMs);
      cache.set(identity, nowMs);
    } else {
      cacheHits++;
    }
    const { principal } = identity;
    let revoked: boolean;
    try {
      revoked = await isRevoked({
        ...(principal.jti === undefined ? {} : { jti: principal.jti }),
        ...(principal.task === undefined ? {} : { parentId: principal.task.parent.id }),
        ...(principal.task?.parent.jti === undefined
          ? {}
          : { parentJti: principal.task.parent.jti }),
        principalId: principal.id,
        tenant: principal.tenant,
        issuer: principal.issuer,
        kind: principal.kind,
      });
    } catch (cause) {
      // Fail closed: an unanswerable revocation check refuses the request (retryably).
      throw new CreditgateError("AUTH_REVOCATION_UNAVAILABLE", { cause });
    }
    if (revoked) {
      cache.invalidate({ tokenHash });
      throw new CreditgateError("AUTH_TOKEN_REVOKED");
    }
    return identity;
  }

  return {
    issuers,
    async authenticate(token) {
      const identity = await identify(token);
      if (identity.admin) {
        throw new CreditgateError("AUTH_FORBIDDEN", {
          message: "admin tokens are not accepted on decision routes",
        });
      }
      return identity.principal;
    },
    async authenticateAdmin(token) {
      const identity = await identify(token);
      if (!identity.admin || !identity.principal.roles.includes(adminRole)) {
        throw new CreditgateError("AUTH_FORBIDDEN", {
          message: "this route needs an admin token",
          details: { role: adminRole },
        });
      }
      return identity.principal;
    },
    adminScope(admin) {
      return admin.roles.includes(platformAdminRole)
        ? { kind: "platform" }
        : { kind: "tenant", tenant: admin.tenant };
    },
    invalidate(match) {
      return cache.invalidate(match);
    },
    stats() {
      return { cacheEntries: cache.size, cacheHits, cacheMisses };
    },
  };
}
