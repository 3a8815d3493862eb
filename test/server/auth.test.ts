/**
 * JWT attacks against the HTTP API: each is refused with its stable code (401; 403 for a valid
 * identity on the wrong side of the admin boundary), leaves the ledger untouched, and leaves an
 * audit record of the failure that never contains the token.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canonicalize } from "../../src/audit/canonical.js";
import type { Config } from "../../src/config/types.js";
import { startTestService, type TestService } from "../helpers/service.js";
import {
  b64u,
  claimsFor,
  headerFor,
  hmacToken,
  issuerConfig,
  makeKey,
  newClock,
  signRaw,
} from "../identity/fixtures.js";

const clock = newClock();
const es = makeKey("ES256");
const rs = makeKey("RS256", "rs-1");
const esIssuer = issuerConfig([es]);
// The JWKS holds an RSA key too, but only ES256 is allowed.
const mixedIssuer = issuerConfig([es, rs], {
  issuer: "https://mixed.example.com",
  algorithms: ["ES256"],
});

let svc: TestService;

beforeAll(async () => {
  svc = await startTestService({
    clock,
    configure: (config): Config => ({
      ...config,
      identity: {
        ...config.identity,
        issuers: [esIssuer, mixedIssuer] as unknown as Config["identity"]["issuers"],
      },
    }),
  });
  await svc.grant("acme", "paid", 10_000);
});
afterAll(async () => {
  await svc?.close();
});

const valid = (extra: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
  signRaw(es, headerFor(es, header), claimsFor(esIssuer, clock, extra));
const nowSec = () => Math.floor(clock.nowMs() / 1000);

function unsigned(alg: string): string {
  return `${b64u(JSON.stringify({ alg, typ: "JWT" }))}.${b64u(JSON.stringify(claimsFor(esIssuer, clock)))}.`;
}

function tampered(): string {
  const [header, , signature] = valid().split(".");
  return `${header}.${b64u(JSON.stringify(claimsFor(esIssuer, clock, { tenant: "other", plan: "enterprise" })))}.${signature}`;
}

const attacks: readonly [string, () => string, string][] = [
  ["alg none", () => unsigned("none"), "AUTH_TOKEN_INVALID"],
  ["alg NONE", () => unsigned("NONE"), "AUTH_TOKEN_INVALID"],
  ["alg nOnE", () => unsigned("nOnE"), "AUTH_TOKEN_INVALID"],
  [
    "HS256 signed with the public key",
    () =>
      hmacToken(
        es.publicKey.export({ type: "spki", format: "pem" }),
        { alg: "HS256", kid: es.kid, typ: "JWT" },
        claimsFor(esIssuer, clock),
      ),
    "AUTH_TOKEN_INVALID",
  ],
  [
    "an algorithm outside the allowlist",
    () => signRaw(rs, headerFor(rs), claimsFor(mixedIssuer, clock)),
    "AUTH_TOKEN_INVALID",
  ],
  ["a tampered payload", tampered, "AUTH_TOKEN_INVALID"],
  ["a wrong iss", () => valid({ iss: "https://evil.example.com" }), "AUTH_ISSUER_UNKNOWN"],
  ["a missing iss", () => valid({ iss: undefined }), "AUTH_ISSUER_UNKNOWN"],
  ["a wrong aud", () => valid({ aud: "another-service" }), "AUTH_AUDIENCE_MISMATCH"],
  ["a missing aud", () => valid({ aud: undefined }), "AUTH_AUDIENCE_MISMATCH"],
  ["a missing exp", () => valid({ exp: undefined }), "AUTH_CLAIMS_INVALID"],
  [
    "an expired exp",
    () => valid({ iat: nowSec() - 700, exp: nowSec() - 100 }),
    "AUTH_TOKEN_EXPIRED",
  ],
  ["an nbf in the future", () => valid({ nbf: nowSec() + 600 }), "AUTH_TOKEN_NOT_YET_VALID"],
  [
    "an unknown kid",
    () => signRaw(es, headerFor(es, { kid: "rotated-away" }), claimsFor(esIssuer, clock)),
    "AUTH_TOKEN_INVALID",
  ],
  ["an embedded jwk header", () => valid({}, { jwk: es.publicJwk }), "AUTH_TOKEN_INVALID"],
  [
    "an embedded jku header",
    () => valid({}, { jku: "https://attacker.example/jwks.json" }),
    "AUTH_TOKEN_INVALID",
  ],
  ["garbage", () => "not-a-jwt", "AUTH_TOKEN_MALFORMED"],
];

async function ledgerState() {
  const balances = await svc.service.store.balances("acme");
  const page = await svc.service.store.queryAudit({ limit: 1000 });
  return {
    balances,
    effects: page.records.filter((r) => r.kind !== "auth").length,
    auth: page.records.filter((r) => r.kind === "auth"),
  };
}

describe("forged and invalid tokens on POST /v1/decisions", () => {
  it("accepts the untampered baseline token (so each refusal is the attack's doing)", async () => {
    const res = await svc.request("POST", "/v1/decisions", {
      token: valid(),
      body: { action: { type: "prompt.submit" }, dry_run: true },
    });
    expect(res.status).toBe(200);
  });

  it.each(attacks)(
    "refuses %s with 401, no ledger effect and an audit record",
    async (_name, forge, code) => {
      const token = forge();
      const before = await ledgerState();
      const res = await svc.request("POST", "/v1/decisions", {
        token,
        headers: { "idempotency-key": `attack-${randomUUID()}` },
        body: { action: { type: "prompt.submit" } },
      });
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ error: { code } });
      expect(res.text).not.toContain(token);

      const after = await ledgerState();
      expect(after.balances).toEqual(before.balances);
      expect(after.effects).toBe(before.effects);
      expect(after.auth).toHaveLength(before.auth.length + 1);
      const record = after.auth.at(-1);
      expect(record?.data.context).toMatchObject({ code, route: "/v1/decisions" });
      expect(canonicalize(record)).not.toContain(token.split(".")[1] ?? token);
    },
  );

  it("refuses a request without a token, and one with a non-Bearer scheme", async () => {
    const none = await svc.request("POST", "/v1/decisions", {
      body: { action: { type: "prompt.submit" } },
    });
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ error: { code: "AUTH_TOKEN_MISSING" } });
    const basic = await svc.request("POST", "/v1/decisions", {
      headers: { authorization: "Basic dXNlcjpwYXNz" },
      body: { action: { type: "prompt.submit" } },
    });
    expect(basic.status).toBe(401);
    expect(basic.body).toMatchObject({ error: { code: "AUTH_TOKEN_MALFORMED" } });
  });
});

describe("the admin boundary", () => {
  it("refuses a user token on every admin route (403) without effect", async () => {
    const token = valid();
    const before = await ledgerState();
    const routes: [string, string, unknown][] = [
      ["POST", "/v1/admin/grants", { tenant: "acme", class: "paid", amount: 1_000_000 }],
      ["POST", "/v1/admin/reversals", { tenant: "acme", transfer_id: "ent_x", reason: "x" }],
      [
        "POST",
        "/v1/admin/revocations",
        { tenant: "acme", kind: "tenant", subject: "acme", reason: "x" },
      ],
      ["GET", "/v1/tenants/acme/balances", undefined],
      ["GET", "/v1/audit", undefined],
      ["GET", "/v1/audit/verify", undefined],
    ];
    for (const [method, path, body] of routes) {
      const res = await svc.request(method, path, {
        token,
        headers: { "idempotency-key": `admin-${randomUUID()}` },
        ...(body === undefined ? {} : { body }),
      });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.body).toMatchObject({ error: { code: "AUTH_FORBIDDEN" } });
    }
    const after = await ledgerState();
    expect(after.balances).toEqual(before.balances);
    expect(after.effects).toBe(before.effects);
  });

  it("refuses an admin token on the decision route (403)", async () => {
    const res = await svc.request("POST", "/v1/decisions", {
      token: await svc.adminToken(),
      body: { action: { type: "prompt.submit" }, dry_run: true },
    });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error: { code: "AUTH_FORBIDDEN" } });
  });
});

describe("revocation", () => {
  it("refuses a token from the next request on once its principal is revoked", async () => {
    const token = valid({ sub: "usr_revoked", jti: "jti-revoked" });
    const ok = await svc.request("POST", "/v1/decisions", {
      token,
      body: { action: { type: "prompt.submit" }, dry_run: true },
    });
    expect(ok.status).toBe(200);
    const revoked = await svc.request("POST", "/v1/admin/revocations", {
      token: await svc.adminToken(),
      headers: { "idempotency-key": "revoke-usr_revoked" },
      body: { tenant: "acme", kind: "principal", subject: "usr_revoked", reason: "leaked key" },
    });
    expect(revoked.status).toBe(201);
    const refused = await svc.request("POST", "/v1/decisions", {
      token,
      body: { action: { type: "prompt.submit" }, dry_run: true },
    });
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ error: { code: "AUTH_TOKEN_REVOKED" } });
  });
});
