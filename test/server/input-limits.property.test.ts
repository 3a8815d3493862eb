/**
 * Every string a route reads, and every token claim the verifier maps, at, just under and just
 * over its limit, against a real service: within the limit it answers (never a 5xx, never a
 * schema refusal, and a success where the base request succeeds); over it, 400 REQUEST_INVALID
 * naming the field, or 401 AUTH_CLAIMS_INVALID for a claim. The fields come from walking the
 * route schemas (test/helpers/request-fields.ts), so a new field is covered without an edit here.
 */
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import fc from "fast-check";
import { importJWK, type JWK, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { devAudience, devIssuerUrl, devPrivateJwkPath } from "../../src/identity/dev-issuer.js";
import { limits } from "../../src/limits.js";
import { type ApiRoute, apiRoutes } from "../../src/server/api.js";
import { fieldsOfRoute, type StringField } from "../helpers/request-fields.js";
import {
  type BaseRequest,
  baseRequests,
  type Json,
  routePath,
  tokenFor,
} from "../helpers/route-requests.js";
import { startTestService, type TestService } from "../helpers/service.js";

let svc: TestService;

beforeAll(async () => {
  svc = await startTestService();
  await svc.grant("acme", "paid", 1_000_000);
});
afterAll(async () => {
  await svc?.close();
});

/** Just under, at, and just over the limit. */
const deltas = [-1, 0, 1] as const;
const runsPerField = 6;

/** Characters a field's pattern accepts one at a time; any string of them matches. */
function alphabetOf(field: StringField): string[] {
  const candidates = [..."abcxyzABZ0189._-:@/"];
  if (field.pattern === undefined) return candidates;
  const pattern = new RegExp(field.pattern);
  return candidates.filter((c) => pattern.test(c.repeat(Math.max(1, field.minLength))));
}

const dateTimeStem = "2999-01-01T00:00:00";

/** A string of exactly `length` characters the field's format and pattern accept. */
function stringOfLength(field: StringField, length: number): fc.Arbitrary<string> {
  // Far in the future (a grant's expiry must be), padded with fraction digits.
  if (field.format === "date-time") return fc.constant(dateTimeOf(length));
  return fc
    .array(fc.constantFrom(...alphabetOf(field)), { minLength: length, maxLength: length })
    .map((chars) => chars.join(""));
}

function dateTimeOf(length: number): string {
  return `${dateTimeStem}.${"0".repeat(length - dateTimeStem.length - 2)}Z`;
}

/** The same, fixed: the examples every property runs first, one per delta. */
function exampleOf(field: StringField, length: number): string {
  if (field.format === "date-time") return dateTimeOf(length);
  // An idempotency key is used once: the same key with another request is a conflict.
  if (field.part === "headers") return randomUUID().padEnd(length, "a").slice(0, length);
  return (alphabetOf(field)[0] as string).repeat(length);
}

function setAt(value: Json | undefined, path: readonly string[], replacement: Json): Json {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path as [string, ...string[]];
  if (head === "0") return [setAt(Array.isArray(value) ? value[0] : undefined, rest, replacement)];
  const object = value !== null && typeof value === "object" && !Array.isArray(value) ? value : {};
  return { ...object, [head]: setAt(object[head], rest, replacement) };
}

interface Call {
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: Json | undefined;
}

function callWith(
  route: ApiRoute,
  base: BaseRequest,
  field: StringField | null,
  value: string,
): Call {
  const params = { ...base.params };
  const query = { ...base.query };
  let body = base.body;
  const headers: Record<string, string> =
    route.idempotency === undefined ? {} : { "idempotency-key": `k-${randomUUID()}` };
  if (field !== null) {
    const [name] = field.path as [string];
    if (field.part === "params") params[name] = value;
    else if (field.part === "querystring") query[name] = value;
    else if (field.part === "headers") headers[name] = value;
    else body = setAt(body, field.path, value);
  }
  return { path: routePath(route, params, query), headers, body };
}

async function send(route: ApiRoute, call: Call) {
  const token = await tokenFor(svc, route);
  return svc.request(route.method, call.path, {
    ...(token === undefined ? {} : { token }),
    headers: call.headers,
    ...(call.body === undefined ? {} : { body: call.body }),
  });
}

interface ErrorBody {
  error?: { code: string; details: { violations?: { in: string; path: string }[] } };
}

const cases = Object.entries(apiRoutes).flatMap(([name, route]) =>
  fieldsOfRoute(route).map((field) => ({
    name: `${name} ${field.part}/${field.path.join("/")}`,
    route: route as ApiRoute,
    base: baseRequests[name as keyof typeof apiRoutes],
    field,
  })),
);

describe("request fields at their limits", () => {
  it("covers the fields of every route that reads any", () => {
    expect(cases.length).toBeGreaterThan(20);
    for (const part of ["params", "querystring", "body", "headers"]) {
      expect(cases.some((c) => c.field.part === part)).toBe(true);
    }
  });

  it.each(cases)("$name", async ({ route, base, field }) => {
    const limit = field.maxLength as number;
    const baseStatus = (await send(route, callWith(route, base, null, ""))).status;
    expect(baseStatus).toBeLessThan(500);
    await fc.assert(
      fc.asyncProperty(
        fc
          .constantFrom(...deltas)
          .chain((delta) =>
            stringOfLength(field, limit + delta).map((value) => ({ delta, value })),
          ),
        async ({ delta, value }) => {
          const res = await send(route, callWith(route, base, field, value));
          const error = (res.body as ErrorBody).error;
          if (delta > 0) {
            expect(res.status).toBe(400);
            expect(error?.code).toBe("REQUEST_INVALID");
            expect(error?.details.violations).toContainEqual(
              expect.objectContaining({
                in: field.part,
                path:
                  field.part === "params" && value.length > limits.routeParamCharsMax
                    ? ""
                    : `/${field.path.join("/")}`,
              }),
            );
            return;
          }
          expect(res.status, res.text).toBeLessThan(500);
          expect(error?.code, res.text).not.toBe("REQUEST_INVALID");
          // What the base request gets done, any value within the limits gets done too.
          if (baseStatus < 300) expect(res.status, res.text).toBeLessThan(300);
        },
      ),
      {
        numRuns: runsPerField,
        examples: deltas.map((delta) => [{ delta, value: exampleOf(field, limit + delta) }]),
      },
    );
  });
});

/** A development-issuer token with the claims given, signed like the issuer signs. */
let signingKey: Promise<{ key: Awaited<ReturnType<typeof importJWK>>; kid: string }> | undefined;
async function tokenWith(claims: Record<string, Json>): Promise<string> {
  signingKey ??= readFile(devPrivateJwkPath, "utf8").then(async (text) => {
    const jwk = JSON.parse(text) as JWK;
    return {
      key: (await importJWK(jwk, "EdDSA")) as Awaited<ReturnType<typeof importJWK>>,
      kid: jwk.kid as string,
    };
  });
  const { key, kid } = await signingKey;
  const nowSec = Math.floor(Date.now() / 1000);
  return new SignJWT({ tenant: "acme", plan: "pro", roles: [], scope: "", ...claims })
    .setProtectedHeader({ alg: "EdDSA", kid, typ: "JWT" })
    .setIssuer(devIssuerUrl)
    .setAudience(devAudience)
    .setSubject(typeof claims.sub === "string" ? claims.sub : "usr_1")
    .setJti(typeof claims.jti === "string" ? claims.jti : randomUUID())
    .setIssuedAt(nowSec)
    .setExpirationTime(nowSec + 600)
    .sign(key);
}

/** The claims the verifier maps, each with the limit it is held to. */
const claims: [string, number, (value: string) => Record<string, Json>][] = [
  ["tenant", limits.tenantIdCharsMax, (v) => ({ tenant: v })],
  ["sub", limits.principalIdCharsMax, (v) => ({ sub: v })],
  ["jti", limits.tokenIdCharsMax, (v) => ({ jti: v })],
  ["plan", limits.claimValueCharsMax, (v) => ({ plan: v })],
  ["roles item", limits.claimValueCharsMax, (v) => ({ roles: [v] })],
  ["scope item", limits.claimValueCharsMax, (v) => ({ scope: `prompt.submit ${v}` })],
];

describe("token claims at their limits", () => {
  it.each(claims)("%s", async (_name, limit, claim) => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...deltas).chain((delta) =>
          fc
            .array(fc.constantFrom(..."abcxyz0189._-"), {
              minLength: limit + delta,
              maxLength: limit + delta,
            })
            .map((chars) => ({ delta, value: chars.join("") })),
        ),
        async ({ delta, value }) => {
          const res = await svc.request("POST", "/v1/decisions", {
            token: await tokenWith(claim(value)),
            headers: { "idempotency-key": `k-${randomUUID()}` },
            body: { action: { type: "prompt.submit" } },
          });
          if (delta > 0) {
            expect(res.status).toBe(401);
            expect(res.body).toMatchObject({ error: { code: "AUTH_CLAIMS_INVALID" } });
          } else {
            // A decision: allowed, or denied with its reasons (an unknown plan denies).
            expect(res.status, res.text).toBe(200);
            expect(res.body).toHaveProperty("allow");
          }
        },
      ),
      {
        numRuns: runsPerField,
        examples: deltas.map((delta) => [{ delta, value: "a".repeat(limit + delta) }]),
      },
    );
  });
});
