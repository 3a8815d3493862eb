/** Test issuers with real key pairs and a raw signer, so tests can craft any header or claim. */
import {
  constants,
  createHmac,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
  sign,
} from "node:crypto";
import { expect } from "vitest";
import { ManualClock } from "../../src/clock.js";
import { CreditgateError, type ErrorCode } from "../../src/errors.js";
import type { IssuerConfig, PublicJwk } from "../../src/identity/index.js";

export const startMs = Date.UTC(2026, 10, 24, 12, 0, 0);
export const nowSec = (clock: ManualClock): number => Math.floor(clock.nowMs() / 1000);
export const newClock = (): ManualClock => new ManualClock(startMs);

export type TestAlg = "ES256" | "RS256" | "PS256" | "EdDSA";

export interface TestKey {
  readonly alg: TestAlg;
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly publicJwk: JsonWebKey;
}

export function makeKey(alg: TestAlg, kid = `${alg.toLowerCase()}-1`): TestKey {
  const pair =
    alg === "ES256"
      ? generateKeyPairSync("ec", { namedCurve: "P-256" })
      : alg === "EdDSA"
        ? generateKeyPairSync("ed25519")
        : generateKeyPairSync("rsa", { modulusLength: 2048 });
  const publicJwk = { ...pair.publicKey.export({ format: "jwk" }), kid, alg, use: "sig" };
  return { alg, kid, privateKey: pair.privateKey, publicKey: pair.publicKey, publicJwk };
}

export function issuerConfig(
  keys: readonly TestKey[],
  overrides: Partial<IssuerConfig> = {},
): IssuerConfig {
  return {
    issuer: "https://idp.example.com",
    audiences: ["creditgate"],
    jwks: { keys: keys.map((k) => k.publicJwk as PublicJwk) },
    algorithms: [...new Set(keys.map((k) => k.alg))],
    principal_kind: "user",
    max_token_age_seconds: 3_600,
    clock_tolerance_seconds: 30,
    ...overrides,
  };
}

export const b64u = (value: string | Buffer): string => Buffer.from(value).toString("base64url");

/** Signs header.payload with `key` exactly as given: the header is not adjusted to the key. */
export function signRaw(
  key: TestKey,
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
): string {
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}`;
  const data = Buffer.from(input);
  let signature: Buffer;
  switch (key.alg) {
    case "ES256":
      signature = sign("sha256", data, { key: key.privateKey, dsaEncoding: "ieee-p1363" });
      break;
    case "RS256":
      signature = sign("sha256", data, key.privateKey);
      break;
    case "PS256":
      signature = sign("sha256", data, {
        key: key.privateKey,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: 32,
      });
      break;
    case "EdDSA":
      signature = sign(null, data, key.privateKey);
      break;
  }
  return `${input}.${b64u(signature)}`;
}

export function hmacToken(
  secret: string | Buffer,
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
): string {
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}`;
  return `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
}

export function claimsFor(
  config: IssuerConfig,
  clock: ManualClock,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const iat = nowSec(clock);
  return {
    iss: config.issuer,
    aud: config.audiences[0],
    sub: "usr_1",
    tenant: "acme",
    plan: "pro",
    roles: ["member"],
    scope: "prompt.submit model.infer",
    jti: "jti-1",
    iat,
    exp: iat + 600,
    ...extra,
  };
}

export function headerFor(
  key: TestKey,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { alg: key.alg, kid: key.kid, typ: "JWT", ...extra };
}

/** Asserts the promise rejects with a CreditgateError of exactly `code`, never leaking the token. */
export async function expectRefused(
  promise: Promise<unknown>,
  code: ErrorCode,
  token?: string,
): Promise<CreditgateError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected ${code}`).toBeInstanceOf(CreditgateError);
  const refusal = error as CreditgateError;
  expect({ code: refusal.code, message: refusal.message }).toMatchObject({ code });
  if (token !== undefined) {
    expect(refusal.message).not.toContain(token);
    expect(JSON.stringify(refusal.details)).not.toContain(token);
    // The signature alone would be enough to replay nothing, but the claims part is personal data.
    const [, claimsPart = "", signaturePart = ""] = token.split(".");
    if (claimsPart.length > 8) expect(refusal.message).not.toContain(claimsPart);
    if (signaturePart.length > 8) expect(refusal.message).not.toContain(signaturePart);
  }
  return refusal;
}
