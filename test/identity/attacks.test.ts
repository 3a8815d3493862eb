/**
 * Every JWT attack the verifier promises to refuse, each with its exact code. Each attack
 * starts from a token shape that is accepted (the baseline test), so a refusal is caused by
 * the attack and not by a broken fixture.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { createIdentityVerifier, type IdentityVerifier } from "../../src/identity/index.js";
import { limits } from "../../src/limits.js";
import {
  b64u,
  claimsFor,
  expectRefused,
  headerFor,
  hmacToken,
  issuerConfig,
  makeKey,
  newClock,
  nowSec,
  signRaw,
} from "./fixtures.js";

const clock = newClock();
const es = makeKey("ES256");
const rs = makeKey("RS256", "rs-1");
const stranger = makeKey("ES256", "es256-1"); // same kid as the trusted key, different key
const esIssuer = issuerConfig([es]);
const rsIssuer = issuerConfig([rs], { issuer: "https://rs.example.com" });
// JWKS holds an RSA key too, but only ES256 is allowed for this issuer.
const mixedIssuer = issuerConfig([es, rs], {
  issuer: "https://mixed.example.com",
  algorithms: ["ES256"],
});
const typIssuer = issuerConfig([es], { issuer: "https://typ.example.com", typ: "at+jwt" });

let verifier: IdentityVerifier;
// No cache: every call below must be decided by verification itself.
beforeAll(async () => {
  verifier = await createIdentityVerifier({
    issuers: [esIssuer, rsIssuer, mixedIssuer, typIssuer],
    clock,
    cacheEntriesMax: 0,
  });
});

const valid = (extra: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
  signRaw(es, headerFor(es, header), claimsFor(esIssuer, clock, extra));

describe("the baseline", () => {
  it("accepts a well-formed token from the trusted key", async () => {
    const principal = await verifier.authenticate(valid());
    expect(principal).toMatchObject({
      id: "usr_1",
      tenant: "acme",
      plan: "pro",
      issuer: esIssuer.issuer,
    });
  });
});

describe("algorithm attacks", () => {
  it.each(["none", "NONE", "nOnE", "None"])(
    "refuses alg %s with an empty signature",
    async (alg) => {
      const token = `${b64u(JSON.stringify({ alg, typ: "JWT" }))}.${b64u(JSON.stringify(claimsFor(esIssuer, clock)))}.`;
      const error = await expectRefused(verifier.authenticate(token), "AUTH_TOKEN_INVALID", token);
      expect(error.message).toMatch(/alg none/);
    },
  );

  it("refuses alg none even with a signature attached", async () => {
    const signed = valid();
    const [, payload, signature] = signed.split(".");
    const token = `${b64u(JSON.stringify({ alg: "none" }))}.${payload}.${signature}`;
    await expectRefused(verifier.authenticate(token), "AUTH_TOKEN_INVALID", token);
  });

  it("refuses HS256 signed with the issuer's public key as the HMAC secret", async () => {
    const claims = claimsFor(rsIssuer, clock);
    const secrets = [
      rs.publicKey.export({ type: "spki", format: "pem" }),
      rs.publicKey.export({ type: "spki", format: "der" }),
      rs.publicKey.export({ type: "pkcs1", format: "pem" }),
      JSON.stringify(rs.publicJwk),
    ];
    for (const secret of secrets) {
      const token = hmacToken(secret, { alg: "HS256", kid: rs.kid, typ: "JWT" }, claims);
      await expectRefused(verifier.authenticate(token), "AUTH_TOKEN_INVALID", token);
    }
    // The same claims signed properly pass: the refusal is about the algorithm.
    await expect(verifier.authenticate(signRaw(rs, headerFor(rs), claims))).resolves.toMatchObject({
      issuer: rsIssuer.issuer,
    });
  });

  it("refuses an algorithm outside the issuer's allowlist even when the JWKS holds a matching key", async () => {
    const token = signRaw(rs, headerFor(rs), claimsFor(mixedIssuer, clock));
    const error = await expectRefused(verifier.authenticate(token), "AUTH_TOKEN_INVALID", token);
    expect(error.message).toMatch(/not allowed/);
    const widened = await createIdentityVerifier({
      issuers: [{ ...mixedIssuer, algorithms: ["ES256", "RS256"] }],
      clock,
    });
    await expect(widened.authenticate(token)).resolves.toMatchObject({
      issuer: mixedIssuer.issuer,
    });
  });

  it("refuses a header alg that does not match the key's algorithm", async () => {
    // Signed with ES256 but labelled RS256: the RS256 key cannot verify it.
    const token = signRaw(es, { alg: "RS256", kid: rs.kid }, claimsFor(rsIssuer, clock));
    await expectRefused(verifier.authenticate(token), "AUTH_TOKEN_INVALID", token);
  });
});

describe("integrity", () => {
  it("refuses a tampered payload that keeps the original signature", async () => {
    const token = valid();
    const [header, , signature] = token.split(".");
    for (const change of [
      { tenant: "other" },
      { plan: "enterprise" },
      { roles: ["creditgate:admin"] },
    ]) {
      const forged = `${header}.${b64u(JSON.stringify(claimsFor(esIssuer, clock, change)))}.${signature}`;
      await expectRefused(verifier.authenticate(forged), "AUTH_TOKEN_INVALID", forged);
    }
  });

  it("refuses a tampered header", async () => {
    const token = valid();
    const [, payload, signature] = token.split(".");
    const forged = `${b64u(JSON.stringify({ alg: "ES256", kid: es.kid, typ: "JWT", x: 1 }))}.${payload}.${signature}`;
    await expectRefused(verifier.authenticate(forged), "AUTH_TOKEN_INVALID", forged);
  });

  it("refuses a token signed by another key under the trusted kid", async () => {
    const token = signRaw(stranger, headerFor(stranger), claimsFor(esIssuer, clock));
    await expectRefused(verifier.authenticate(token), "AUTH_TOKEN_INVALID", token);
  });

  it("refuses a token naming one trusted issuer but signed with another's key", async () => {
    const token = signRaw(rs, headerFor(rs), claimsFor(esIssuer, clock));
    await expectRefused(verifier.authenticate(token), "AUTH_TOKEN_INVALID", token);
  });

  it("refuses an unknown kid", async () => {
    const token = signRaw(es, headerFor(es, { kid: "rotated-away" }), claimsFor(esIssuer, clock));
    await expectRefused(verifier.authenticate(token), "AUTH_TOKEN_INVALID", token);
  });

  it.each(["jwk", "jku", "x5u", "x5c", "crit"] as const)(
    "refuses a %s header outright, even on an otherwise valid token",
    async (member) => {
      const values = {
        jwk: es.publicJwk,
        jku: "https://attacker.example/jwks.json",
        x5u: "https://attacker.example/cert.pem",
        x5c: ["MIIB"],
        crit: ["exp"],
      };
      const token = valid({}, { [member]: values[member] });
      const error = await expectRefused(verifier.authenticate(token), "AUTH_TOKEN_INVALID", token);
      expect(error.details).toEqual({ header: member });
    },
  );

  it("refuses the jose-style embedded-key attack: attacker key in jwk, signed by the attacker", async () => {
    const attacker = makeKey("ES256", "attacker");
    const token = signRaw(
      attacker,
      { alg: "ES256", jwk: attacker.publicJwk },
      claimsFor(esIssuer, clock),
    );
    await expectRefused(verifier.authenticate(token), "AUTH_TOKEN_INVALID", token);
  });
});

describe("issuer and audience", () => {
  it("refuses an untrusted or missing iss", async () => {
    const wrong = valid({ iss: "https://evil.example.com" });
    await expectRefused(verifier.authenticate(wrong), "AUTH_ISSUER_UNKNOWN", wrong);
    const prefixed = valid({ iss: `${esIssuer.issuer}/` });
    await expectRefused(verifier.authenticate(prefixed), "AUTH_ISSUER_UNKNOWN", prefixed);
    const missing = valid({ iss: undefined });
    await expectRefused(verifier.authenticate(missing), "AUTH_ISSUER_UNKNOWN", missing);
    const typed = valid({ iss: ["https://idp.example.com"] });
    await expectRefused(verifier.authenticate(typed), "AUTH_ISSUER_UNKNOWN", typed);
  });

  it("refuses a wrong or missing aud and accepts an aud list that contains ours", async () => {
    const wrong = valid({ aud: "another-service" });
    await expectRefused(verifier.authenticate(wrong), "AUTH_AUDIENCE_MISMATCH", wrong);
    const missing = valid({ aud: undefined });
    await expectRefused(verifier.authenticate(missing), "AUTH_AUDIENCE_MISMATCH", missing);
    await expect(
      verifier.authenticate(valid({ aud: ["other", "creditgate"] })),
    ).resolves.toBeDefined();
  });

  it("checks typ where the issuer requires one", async () => {
    const claims = claimsFor(typIssuer, clock);
    const jwtTyp = signRaw(es, headerFor(es, { typ: "JWT" }), claims);
    await expectRefused(verifier.authenticate(jwtTyp), "AUTH_TOKEN_INVALID", jwtTyp);
    const noTyp = signRaw(es, { alg: "ES256", kid: es.kid }, claims);
    await expectRefused(verifier.authenticate(noTyp), "AUTH_TOKEN_INVALID", noTyp);
    await expect(
      verifier.authenticate(signRaw(es, headerFor(es, { typ: "at+jwt" }), claims)),
    ).resolves.toBeDefined();
    await expect(
      verifier.authenticate(signRaw(es, headerFor(es, { typ: "application/at+jwt" }), claims)),
    ).resolves.toBeDefined();
  });
});

describe("time", () => {
  const tolerance = esIssuer.clock_tolerance_seconds;

  it("refuses a token without exp, or with a non-numeric exp", async () => {
    const missing = valid({ exp: undefined });
    await expectRefused(verifier.authenticate(missing), "AUTH_CLAIMS_INVALID", missing);
    const text = valid({ exp: String(nowSec(clock) + 600) });
    await expectRefused(verifier.authenticate(text), "AUTH_CLAIMS_INVALID", text);
  });

  it("refuses an expired token beyond the clock tolerance and accepts one within it", async () => {
    const now = nowSec(clock);
    const expired = valid({ iat: now - 600, exp: now - tolerance - 1 });
    await expectRefused(verifier.authenticate(expired), "AUTH_TOKEN_EXPIRED", expired);
    await expect(
      verifier.authenticate(valid({ iat: now - 600, exp: now - tolerance + 1 })),
    ).resolves.toBeDefined();
  });

  it("refuses nbf in the future beyond the tolerance and accepts it within", async () => {
    const now = nowSec(clock);
    const early = valid({ nbf: now + tolerance + 1 });
    await expectRefused(verifier.authenticate(early), "AUTH_TOKEN_NOT_YET_VALID", early);
    await expect(verifier.authenticate(valid({ nbf: now + tolerance - 1 }))).resolves.toBeDefined();
  });

  it("refuses a token whose iat is older than max_token_age_seconds, whatever its exp", async () => {
    const now = nowSec(clock);
    const maxAge = esIssuer.max_token_age_seconds;
    const old = valid({ iat: now - maxAge - tolerance - 1, exp: now + 600 });
    await expectRefused(verifier.authenticate(old), "AUTH_TOKEN_EXPIRED", old);
    await expect(
      verifier.authenticate(valid({ iat: now - maxAge + 10, exp: now + 600 })),
    ).resolves.toBeDefined();
  });

  it("refuses a token without iat, or issued in the future", async () => {
    const missing = valid({ iat: undefined });
    await expectRefused(verifier.authenticate(missing), "AUTH_CLAIMS_INVALID", missing);
    const future = valid({ iat: nowSec(clock) + tolerance + 5 });
    await expectRefused(verifier.authenticate(future), "AUTH_TOKEN_NOT_YET_VALID", future);
  });

  it("refuses an exp that JSON spells as infinity", async () => {
    const header = b64u(JSON.stringify(headerFor(es)));
    const body = JSON.stringify(claimsFor(esIssuer, clock)).replace(/"exp":\d+/, '"exp":1e400');
    const { sign } = await import("node:crypto");
    const input = `${header}.${b64u(body)}`;
    const signature = sign("sha256", Buffer.from(input), {
      key: es.privateKey,
      dsaEncoding: "ieee-p1363",
    });
    const token = `${input}.${b64u(signature)}`;
    await expectRefused(verifier.authenticate(token), "AUTH_CLAIMS_INVALID", token);
  });
});

describe("shape and size", () => {
  it("refuses a token over limits.tokenBytesMax before decoding it, and accepts one just under", async () => {
    const base = valid().length;
    // Base64url grows 4/3, so this padding claim lands the token just over / under the limit.
    const padFor = (target: number) => "x".repeat(Math.floor(((target - base) * 3) / 4) - 12);
    const over = valid({ pad: padFor(limits.tokenBytesMax + 40) });
    expect(over.length).toBeGreaterThan(limits.tokenBytesMax);
    await expectRefused(verifier.authenticate(over), "AUTH_TOKEN_TOO_LARGE", over);
    const under = valid({ pad: padFor(limits.tokenBytesMax - 40) });
    expect(under.length).toBeLessThanOrEqual(limits.tokenBytesMax);
    await expect(verifier.authenticate(under)).resolves.toBeDefined();
  });

  it.each([
    ["not a JWT", "hello"],
    ["two parts", "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0"],
    ["four parts", "a.b.c.d"],
    ["whitespace", " eyJhbGciOiJFUzI1NiJ9.e30.AAAA"],
    ["standard base64", "eyJhbGciOiJFUzI1NiJ9.e30=.AA+/"],
    ["a JSON array header", `${b64u("[1]")}.${b64u("{}")}.AAAA`],
    ["a non-JSON header", `${b64u("{alg")}.${b64u("{}")}.AAAA`],
    ["a non-JSON payload", `${b64u('{"alg":"ES256"}')}.${b64u("hello")}.AAAA`],
    [
      "invalid UTF-8 in the payload",
      `${b64u('{"alg":"ES256"}')}.${b64u(Buffer.from([0x7b, 0xff, 0x7d]))}.AAAA`,
    ],
  ])("refuses %s as malformed", async (_name, token) => {
    await expectRefused(verifier.authenticate(token), "AUTH_TOKEN_MALFORMED", token);
  });

  it("refuses non-canonical base64url (trailing bits changed) that decodes to the same bytes", async () => {
    const token = valid();
    const [header = "", payload = "", signature = ""] = token.split(".");
    // An ES256 signature is 64 bytes: 86 characters, the last carrying 4 unused bits.
    const last = signature.at(-1)!;
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const index = alphabet.indexOf(last);
    const sibling = alphabet[index ^ 1]!;
    const variant = `${header}.${payload}.${signature.slice(0, -1)}${sibling}`;
    expect(Buffer.from(variant.split(".")[2]!, "base64url")).toEqual(
      Buffer.from(signature, "base64url"),
    );
    await expectRefused(verifier.authenticate(variant), "AUTH_TOKEN_MALFORMED", variant);
  });

  it("refuses an empty token as missing", async () => {
    await expectRefused(verifier.authenticate(""), "AUTH_TOKEN_MISSING");
  });
});

describe("claims mapping failures", () => {
  it.each([
    ["no tenant", { tenant: undefined }],
    ["no plan", { plan: undefined }],
    ["no sub", { sub: undefined }],
    ["a numeric tenant", { tenant: 42 }],
    ["an empty plan", { plan: "" }],
    ["a tenant over the size limit", { tenant: "t".repeat(limits.claimValueCharsMax + 1) }],
    ["roles as an object", { roles: { admin: true } }],
    ["a non-string role", { roles: ["member", 7] }],
    [
      "too many scopes",
      { scope: Array.from({ length: limits.claimListItemsMax + 1 }, (_, i) => `s${i}`).join(" ") },
    ],
    ["a numeric jti", { jti: 12 }],
  ])("refuses %s", async (_name, change) => {
    const token = valid(change);
    await expectRefused(verifier.authenticate(token), "AUTH_CLAIMS_INVALID", token);
  });
});
