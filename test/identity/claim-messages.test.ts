/**
 * A refused registered claim reads as what happened ("the token expired at ..."), not as jose's
 * '"exp" claim timestamp check failed': every claim failure jose reports, with its code.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { createIdentityVerifier, type IdentityVerifier } from "../../src/identity/index.js";
import {
  claimsFor,
  expectRefused,
  headerFor,
  issuerConfig,
  makeKey,
  newClock,
  nowSec,
  signRaw,
} from "./fixtures.js";

const clock = newClock();
const es = makeKey("ES256");
const esIssuer = issuerConfig([es]);
const typIssuer = issuerConfig([es], { issuer: "https://typ.example.com", typ: "at+jwt" });

let verifier: IdentityVerifier;
beforeAll(async () => {
  verifier = await createIdentityVerifier({
    issuers: [esIssuer, typIssuer],
    clock,
    cacheEntriesMax: 0,
  });
});

const valid = (extra: Record<string, unknown> = {}) =>
  signRaw(es, headerFor(es), claimsFor(esIssuer, clock, extra));
const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace(".000Z", "Z");
const tolerance = () => esIssuer.clock_tolerance_seconds;

async function refusal(token: string, code: Parameters<typeof expectRefused>[1]) {
  const error = await expectRefused(verifier.authenticate(token), code, token);
  expect(error.message).not.toMatch(/claim timestamp check failed|claim value|JWT header value/);
  return error;
}

describe("claim failures say what happened", () => {
  it("exp: the token expired at a time", async () => {
    const exp = nowSec(clock) - tolerance() - 60;
    const error = await refusal(valid({ iat: exp - 600, exp }), "AUTH_TOKEN_EXPIRED");
    expect(error.message).toBe(`the token expired at ${iso(exp)}`);
    expect(error.details).toMatchObject({ claim: "exp" });
  });

  it("nbf: the token is not valid before a time", async () => {
    const nbf = nowSec(clock) + tolerance() + 60;
    const error = await refusal(valid({ nbf }), "AUTH_TOKEN_NOT_YET_VALID");
    expect(error.message).toBe(`the token is not valid before ${iso(nbf)}`);
  });

  it("iat too old: issued when, and the issuer's maximum age", async () => {
    const iat = nowSec(clock) - esIssuer.max_token_age_seconds - tolerance() - 60;
    const error = await refusal(valid({ iat, exp: nowSec(clock) + 600 }), "AUTH_TOKEN_EXPIRED");
    expect(error.message).toBe(
      `the token was issued at ${iso(iat)}, more than ${esIssuer.max_token_age_seconds} seconds ago (the issuer's max_token_age_seconds)`,
    );
  });

  it("iat in the future: not yet valid", async () => {
    const iat = nowSec(clock) + tolerance() + 60;
    const error = await refusal(valid({ iat }), "AUTH_TOKEN_NOT_YET_VALID");
    expect(error.message).toBe(`the token claims to be issued at ${iso(iat)}, in the future`);
  });

  it("iat missing or not a number", async () => {
    const missing = await refusal(valid({ iat: undefined }), "AUTH_CLAIMS_INVALID");
    expect(missing.message).toBe(
      `the token has no iat claim, which issuer ${esIssuer.issuer} requires`,
    );
    const text = await refusal(valid({ exp: "soon" }), "AUTH_CLAIMS_INVALID");
    expect(text.message).toBe("the token's exp claim must be a number of seconds since the epoch");
  });

  it("aud: names none of the issuer's audiences (without listing them)", async () => {
    const error = await refusal(valid({ aud: "another-service" }), "AUTH_AUDIENCE_MISMATCH");
    expect(error.message).toBe(
      `the token's aud names none of the audiences issuer ${esIssuer.issuer} accepts`,
    );
    const missing = await refusal(valid({ aud: undefined }), "AUTH_AUDIENCE_MISMATCH");
    expect(missing.message).toBe(
      `the token has no aud claim, which issuer ${esIssuer.issuer} requires`,
    );
  });

  it("iss: a missing iss says so", async () => {
    const error = await expectRefused(
      verifier.authenticate(valid({ iss: undefined })),
      "AUTH_ISSUER_UNKNOWN",
    );
    expect(error.message).not.toMatch(/claim value/);
  });

  it("typ: names the typ the issuer requires", async () => {
    const token = signRaw(es, headerFor(es, { typ: "JWT" }), claimsFor(typIssuer, clock));
    const error = await refusal(token, "AUTH_TOKEN_INVALID");
    expect(error.message).toBe("the token's typ header is not at+jwt");
  });

  it("shows a time no date can hold as given, rather than failing", async () => {
    const error = await refusal(valid({ nbf: 1e300 }), "AUTH_TOKEN_NOT_YET_VALID");
    expect(error.message).toBe("the token is not valid before 1e+300");
  });
});
