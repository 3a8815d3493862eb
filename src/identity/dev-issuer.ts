/**
 * DEVELOPMENT ONLY. The development issuer: a key pair committed in keys/dev/ so that a fresh
 * clone can mint and verify tokens (`creditgate token`, tests, `npm start`). Anyone can mint
 * tokens with it; a deployment that trusts these issuers trusts everyone.
 *
 * Three issuers share the key pair, because the principal kind and admin rights are properties
 * of the issuer, not claims a token may choose: users, workloads, and admins.
 */
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { type CryptoKey, importJWK, type JWK, SignJWT } from "jose";
import { type Clock, systemClock } from "../clock.js";
import { CreditgateError } from "../errors.js";
import { packageRoot } from "../paths.js";
import type { IssuerConfig } from "./issuer-config.js";
import { defaultAdminRole, defaultPlatformAdminRole } from "./verifier.js";

export const devIssuerUrl = "https://dev.creditgate.local";
export const devAudience = "creditgate";
const devKeyDir = join(packageRoot, "keys", "dev");
const devPublicJwksPath = join(devKeyDir, "issuer.public.jwks.json");
export const devPrivateJwkPath = join(devKeyDir, "issuer.private.jwk.json");

const devMaxTokenAgeSeconds = 86_400;

function devIssuerConfig(issuer: string, kind: "user" | "workload", admin: boolean): IssuerConfig {
  return Object.freeze({
    issuer,
    audiences: Object.freeze([devAudience]),
    jwks_file: devPublicJwksPath,
    algorithms: Object.freeze(["EdDSA"] as const),
    principal_kind: kind,
    typ: "JWT",
    max_token_age_seconds: devMaxTokenAgeSeconds,
    clock_tolerance_seconds: 5,
    ...(admin ? { admin: true } : {}),
  });
}

/** DEVELOPMENT ONLY: users of the dev tenant(s). */
export const devIssuer: IssuerConfig = devIssuerConfig(devIssuerUrl, "user", false);
/** DEVELOPMENT ONLY: services and agents. */
export const devWorkloadIssuer: IssuerConfig = devIssuerConfig(
  `${devIssuerUrl}/workload`,
  "workload",
  false,
);
/** DEVELOPMENT ONLY: admin tokens (refused on decision routes). */
export const devAdminIssuer: IssuerConfig = devIssuerConfig(`${devIssuerUrl}/admin`, "user", true);
export const devIssuers: readonly IssuerConfig[] = Object.freeze([
  devIssuer,
  devWorkloadIssuer,
  devAdminIssuer,
]);

export interface DevTokenRequest {
  readonly sub: string;
  readonly tenant: string;
  readonly plan: string;
  readonly roles?: readonly string[];
  readonly scopes?: readonly string[];
  readonly kind?: "user" | "workload";
  /** Lifetime; default one hour, at most the dev issuers' max token age (one day). */
  readonly ttlSeconds?: number;
  /** Mint from the admin issuer and add the admin role. */
  readonly admin?: boolean;
  /** With admin: also add the platform admin role, so the token administers every tenant. */
  readonly platform?: boolean;
  /** The platform admin role to add; default defaultPlatformAdminRole. */
  readonly platformAdminRole?: string;
}

interface DevSigningKey {
  readonly key: CryptoKey;
  readonly kid: string;
}

let signingKey: Promise<DevSigningKey> | undefined;

async function loadSigningKey(): Promise<DevSigningKey> {
  try {
    const jwk = JSON.parse(await readFile(devPrivateJwkPath, "utf8")) as JWK;
    if (typeof jwk.kid !== "string") throw new TypeError("the dev key has no kid");
    return { key: (await importJWK(jwk, "EdDSA")) as CryptoKey, kid: jwk.kid };
  } catch (cause) {
    throw new CreditgateError("SIGNING_KEY_INVALID", {
      message: `cannot load the development issuer key ${devPrivateJwkPath}`,
      cause,
    });
  }
}

/** DEVELOPMENT ONLY: a token the dev issuers accept, with claims in the default mapping. */
export async function mintDevToken(
  request: DevTokenRequest,
  clock: Clock = systemClock,
): Promise<string> {
  const ttlSeconds = request.ttlSeconds ?? 3_600;
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > devMaxTokenAgeSeconds) {
    throw new TypeError(`ttlSeconds must be an integer from 1 to ${devMaxTokenAgeSeconds}`);
  }
  const kind = request.kind ?? "user";
  if (request.admin === true && kind !== "user")
    throw new TypeError("admin tokens are user tokens");
  if (request.platform === true && request.admin !== true)
    throw new TypeError("platform tokens are admin tokens");
  signingKey ??= loadSigningKey();
  let key: DevSigningKey;
  try {
    key = await signingKey;
  } catch (error) {
    signingKey = undefined; // let a later call retry after the file is fixed
    throw error;
  }
  const issuer =
    request.admin === true ? devAdminIssuer : kind === "workload" ? devWorkloadIssuer : devIssuer;
  const roles = [...(request.roles ?? [])];
  if (request.admin === true && !roles.includes(defaultAdminRole)) roles.push(defaultAdminRole);
  const platformRole = request.platformAdminRole ?? defaultPlatformAdminRole;
  if (request.platform === true && !roles.includes(platformRole)) roles.push(platformRole);
  const iat = Math.floor(clock.nowMs() / 1000);
  return new SignJWT({
    tenant: request.tenant,
    plan: request.plan,
    roles,
    scope: (request.scopes ?? []).join(" "),
  })
    .setProtectedHeader({ alg: "EdDSA", kid: key.kid, typ: "JWT" })
    .setIssuer(issuer.issuer)
    .setAudience(devAudience)
    .setSubject(request.sub)
    .setJti(randomUUID())
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttlSeconds)
    .sign(key.key);
}
