/**
 * Schema-fuzzed request bodies: every invalid body is a 4xx naming the failing path, never a
 * 5xx, and never touches the ledger or the audit trail. Bodies are generated invalid by
 * construction (a valid body with one mutation) or random and kept only if the schema refuses
 * them, so the property cannot pass by accident on valid input.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validate } from "../../src/schema-registry.js";
import { startTestService, type TestService } from "../helpers/service.js";

let svc: TestService;
let user: string;
let admin: string;

beforeAll(async () => {
  svc = await startTestService();
  user = await svc.userToken();
  admin = await svc.adminToken();
  await svc.grant("acme", "paid", 10_000);
});
afterAll(async () => {
  await svc?.close();
});

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const validDecision: Json = {
  action: {
    type: "model.infer",
    model: "gpt-4o-mini",
    units: { input_tokens: 100, max_output_tokens: 100 },
    workflow_id: "wf-1",
  },
  dry_run: false,
};
const validGrant: Json = { tenant: "acme", class: "paid", amount: 100, priority: 1 };

/** Every path to an object member in `value`, as key lists. */
function memberPaths(value: Json, prefix: string[] = []): string[][] {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return [];
  return Object.entries(value).flatMap(([key, child]) => [
    [...prefix, key],
    ...memberPaths(child, [...prefix, key]),
  ]);
}

function setAt(value: Json, path: readonly string[], replacement: Json | undefined): Json {
  if (path.length === 0) return replacement ?? null;
  const [head, ...rest] = path as [string, ...string[]];
  const copy = { ...(value as { [key: string]: Json }) };
  const next = rest.length === 0 ? replacement : setAt(copy[head] ?? {}, rest, replacement);
  if (next === undefined) delete copy[head];
  else copy[head] = next;
  return copy;
}

const strangeValue: fc.Arbitrary<Json> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.double({ noNaN: true }),
  fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
  fc.string({ maxLength: 400 }),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }),
);

/** A valid body with one member replaced, removed or one unknown member added. */
function mutated(valid: Json): fc.Arbitrary<Json> {
  const paths = memberPaths(valid);
  return fc.oneof(
    fc.tuple(fc.constantFrom(...paths), strangeValue).map(([path, v]) => setAt(valid, path, v)),
    fc.constantFrom(...paths).map((path) => setAt(valid, path, undefined)),
    fc
      .tuple(
        fc.constantFrom([] as string[], ...paths.filter((p) => p.length < 3)),
        fc.string({ minLength: 1, maxLength: 12 }),
      )
      .map(([path, key]) => setAt(valid, [...path, `x_${key}`], 1)),
    fc.jsonValue() as fc.Arbitrary<Json>,
  );
}

async function trailState() {
  const head = await svc.service.store.queryAudit({ limit: 1000 });
  const { posted, held } = await svc.service.store.balances("acme");
  return { records: head.records.length, posted, held };
}

interface Violation {
  in: string;
  path: string;
  message: string;
}

async function expectRefusedWithoutEffect(
  schema: string,
  path: string,
  token: string,
  body: Json,
): Promise<void> {
  // Only bodies the schema refuses: a valid one may legitimately be decided.
  fc.pre(validate(schema, body).length > 0);
  const before = await trailState();
  const res = await svc.request("POST", path, {
    token,
    headers: { "idempotency-key": "fuzz-key" },
    body: JSON.stringify(body),
  });
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(res.status).toBeLessThan(500);
  const error = (res.body as { error: { code: string; details: { violations?: Violation[] } } })
    .error;
  expect(error.code).toBe("REQUEST_INVALID");
  const violations = error.details.violations ?? [];
  expect(violations.length).toBeGreaterThan(0);
  for (const v of violations) {
    expect(v.in).toBe("body");
    expect(typeof v.path).toBe("string");
    expect(v.message.length).toBeGreaterThan(0);
  }
  expect(await trailState()).toEqual(before);
}

describe("fuzzed bodies", () => {
  it("POST /v1/decisions refuses every invalid body with its path and no effect", async () => {
    await fc.assert(
      fc.asyncProperty(mutated(validDecision), (body) =>
        expectRefusedWithoutEffect("api/decision-request", "/v1/decisions", user, body),
      ),
      { numRuns: 150 },
    );
  });

  it("POST /v1/admin/grants refuses every invalid body with its path and no effect", async () => {
    await fc.assert(
      fc.asyncProperty(mutated(validGrant), (body) =>
        expectRefusedWithoutEffect("api/grant-request", "/v1/admin/grants", admin, body),
      ),
      { numRuns: 100 },
    );
  });

  it("answers malformed JSON, wrong media types and oversized bodies with 4xx codes", async () => {
    const before = await trailState();
    const cases: [Record<string, string>, string, number, string][] = [
      [{ "content-type": "application/json" }, '{"action": ', 400, "REQUEST_MALFORMED"],
      [{ "content-type": "text/plain" }, "hello", 415, "REQUEST_UNSUPPORTED_MEDIA_TYPE"],
      [
        { "content-type": "application/json" },
        JSON.stringify({ action: { type: "x".repeat(70_000) } }),
        413,
        "REQUEST_TOO_LARGE",
      ],
    ];
    for (const [headers, body, status, code] of cases) {
      const res = await svc.request("POST", "/v1/decisions", {
        token: user,
        headers: { ...headers, "idempotency-key": "fuzz-raw" },
        body,
      });
      expect(res.status).toBe(status);
      expect(res.body).toMatchObject({ error: { code } });
    }
    expect(await trailState()).toEqual(before);
  });

  it("names the path of a bad idempotency key header", async () => {
    const res = await svc.request("POST", "/v1/decisions", {
      token: user,
      headers: { "idempotency-key": "has spaces" },
      body: { action: { type: "prompt.submit" } },
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      error: {
        code: "REQUEST_INVALID",
        details: { violations: [{ in: "headers", path: "/idempotency-key" }] },
      },
    });
  });
});
