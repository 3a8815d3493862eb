/** The client against a scripted node:http peer: keys, retries, timeouts, errors, encoding. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ClientOptions,
  CreditgateClientError,
  createClient,
  type DecisionResponse,
  isCreditgateClientError,
  type RetryInfo,
} from "../../src/client/index.js";
import { errorReply, type FakeServer, startFakeServer } from "./fake-server.js";

const balances = { trial: 0, paid: 90, promo: 0, admin: 0 };
const decision: DecisionResponse = {
  decision_id: "dec_01",
  allow: true,
  cost: 10,
  hold_id: "hld_01",
  hold: 10,
  reasons: [],
  obligations: { max_output_tokens: 512 },
  balances,
  policy_revision: "rev-1",
};
const action = { type: "llm.generate", model: "small", units: { input_tokens: 100 } };
const keyPattern = /^cg-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let server: FakeServer;
beforeAll(async () => {
  server = await startFakeServer();
});
afterAll(async () => {
  await server.close();
});

function client(options: Partial<ClientOptions> = {}) {
  return createClient({
    baseUrl: server.url,
    token: "tok",
    timeoutMs: 2_000,
    retries: 2,
    retryBaseDelayMs: 1,
    ...options,
  });
}

async function failure(promise: Promise<unknown>): Promise<CreditgateClientError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof CreditgateClientError)) {
    throw new Error(`expected a CreditgateClientError, got ${String(error)}`);
  }
  return error;
}

describe("decide", () => {
  it("posts the action with a bearer token and a generated idempotency key", async () => {
    server.script({ body: decision });
    const result = await client().decide(action);
    expect(result).toEqual(decision);
    const [request] = server.seen;
    expect(request?.method).toBe("POST");
    expect(request?.url).toBe("/v1/decisions");
    expect(request?.headers.authorization).toBe("Bearer tok");
    expect(request?.headers["content-type"]).toBe("application/json");
    expect(request?.headers["idempotency-key"]).toMatch(keyPattern);
    expect(JSON.parse(request?.body ?? "")).toEqual({ action });
  });

  it("generates a different key for each logical call", async () => {
    server.script({ body: decision });
    const c = client();
    await c.decide(action);
    await c.decide(action);
    const [first, second] = server.seen.map((r) => r.headers["idempotency-key"]);
    expect(first).not.toBe(second);
  });

  it("resolves a deny as data", async () => {
    const deny = { ...decision, allow: false, reasons: [{ code: "NO_CREDITS", message: "no" }] };
    server.script({ body: deny });
    await expect(client().decide(action)).resolves.toEqual(deny);
  });

  it("sends a dry run without an idempotency key unless one is given", async () => {
    server.script({ body: { ...decision, dry_run: true } });
    await client().decide(action, { dryRun: true });
    await client().decide(action, { dryRun: true, idempotencyKey: "quote-1" });
    expect(server.seen[0]?.headers["idempotency-key"]).toBeUndefined();
    expect(JSON.parse(server.seen[0]?.body ?? "")).toEqual({ action, dry_run: true });
    expect(server.seen[1]?.headers["idempotency-key"]).toBe("quote-1");
  });

  it("rejects a malformed idempotency key before sending anything", async () => {
    server.script({ body: decision });
    await expect(client().decide(action, { idempotencyKey: "has space" })).rejects.toThrow(
      TypeError,
    );
    await expect(client().decide(action, { idempotencyKey: "x".repeat(201) })).rejects.toThrow(
      TypeError,
    );
    expect(server.seen).toHaveLength(0);
  });
});

describe("retries", () => {
  it("reuse the same idempotency key on every attempt", async () => {
    server.script(errorReply(503, "SERVICE_UNAVAILABLE"), { destroy: true }, { body: decision });
    const retries: RetryInfo[] = [];
    await client({ onRetry: (info) => retries.push(info) }).decide(action);
    const keys = server.seen.map((r) => r.headers["idempotency-key"]);
    expect(keys).toHaveLength(3);
    expect(keys[0]).toMatch(keyPattern);
    expect(new Set(keys).size).toBe(1);
    expect(new Set(server.seen.map((r) => r.body)).size).toBe(1);
    expect(retries.map((r) => [r.attempt, r.error.code])).toEqual([
      [1, "SERVICE_UNAVAILABLE"],
      [2, "CLIENT_NETWORK"],
    ]);
  });

  it("reuse a caller-supplied key for commitHold", async () => {
    const committed = {
      hold_id: "hld_01",
      transfer_id: "ent_1",
      committed: 7,
      released: 3,
      balances,
    };
    server.script(errorReply(503, "STORE_UNAVAILABLE"), { body: committed });
    const result = await client().commitHold("hld_01", 7, { idempotencyKey: "job-42:commit" });
    expect(result).toEqual(committed);
    expect(server.seen.map((r) => r.headers["idempotency-key"])).toEqual([
      "job-42:commit",
      "job-42:commit",
    ]);
    expect(server.seen.map((r) => r.url)).toEqual([
      "/v1/holds/hld_01/commit",
      "/v1/holds/hld_01/commit",
    ]);
    expect(JSON.parse(server.seen[0]?.body ?? "")).toEqual({ amount: 7 });
  });

  it("succeed after a retryable 503 with two attempts", async () => {
    server.script(errorReply(503, "SERVICE_UNAVAILABLE"), { body: decision });
    const retries: RetryInfo[] = [];
    await expect(client({ onRetry: (info) => retries.push(info) }).decide(action)).resolves.toEqual(
      decision,
    );
    expect(server.seen).toHaveLength(2);
    expect(retries).toHaveLength(1);
    expect(retries[0]?.attempt).toBe(1);
  });

  it("give up after the configured retries with the last error", async () => {
    server.script(errorReply(503, "SERVICE_UNAVAILABLE", { check: "store" }));
    const error = await failure(client({ retries: 3 }).decide(action));
    expect(error).toMatchObject({
      code: "SERVICE_UNAVAILABLE",
      status: 503,
      retryable: true,
      attempts: 4,
      details: { check: "store" },
    });
    expect(server.seen).toHaveLength(4);
  });

  it("retry INTERNAL and IDEMPOTENCY_IN_PROGRESS (retryable in the registry)", async () => {
    server.script(errorReply(500, "INTERNAL"), errorReply(409, "IDEMPOTENCY_IN_PROGRESS"), {
      body: decision,
    });
    await expect(client().decide(action)).resolves.toEqual(decision);
    expect(server.seen).toHaveLength(3);
  });

  it("honour retry-after on 429", async () => {
    server.script(errorReply(429, "RATE_LIMITED", {}, { "retry-after": "1" }), { body: decision });
    const retries: RetryInfo[] = [];
    const started = performance.now();
    await client({ onRetry: (info) => retries.push(info) }).decide(action);
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    expect(retries[0]?.delayMs).toBeGreaterThanOrEqual(1_000);
    expect(retries[0]?.error.retryAfterMs).toBe(1_000);
    expect(server.seen).toHaveLength(2);
  });

  it("hand back a 429 at once when retry-after exceeds the cap", async () => {
    server.script(errorReply(429, "RATE_LIMITED", {}, { "retry-after": "120" }));
    const started = performance.now();
    const error = await failure(client({ maxRetryAfterMs: 5_000 }).decide(action));
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(error).toMatchObject({
      code: "RATE_LIMITED",
      status: 429,
      retryable: true,
      attempts: 1,
      retryAfterMs: 120_000,
    });
    expect(server.seen).toHaveLength(1);
  });

  it("retry a proxy's non-JSON 502 and report CLIENT_BAD_RESPONSE when it persists", async () => {
    server.script({ status: 502, headers: { "content-type": "text/html" }, body: "<h1>502</h1>" });
    const error = await failure(client({ retries: 1 }).decide(action));
    expect(error).toMatchObject({
      code: "CLIENT_BAD_RESPONSE",
      status: 502,
      retryable: true,
      attempts: 2,
    });
  });
});

describe("errors that are not retried", () => {
  it("maps a 400 REQUEST_INVALID to code, status, message and details after one attempt", async () => {
    const details = { errors: [{ path: "/action/type", message: "must be string" }] };
    server.script(errorReply(400, "REQUEST_INVALID", details), { body: decision });
    const error = await failure(client().decide(action));
    expect(error).toBeInstanceOf(Error);
    expect(isCreditgateClientError(error, "REQUEST_INVALID")).toBe(true);
    expect(error).toMatchObject({
      name: "CreditgateClientError",
      code: "REQUEST_INVALID",
      status: 400,
      message: "REQUEST_INVALID (fake)",
      details,
      retryable: false,
      attempts: 1,
    });
    expect(server.seen).toHaveLength(1);
  });

  it.each([
    [401, "AUTH_TOKEN_EXPIRED"],
    [403, "AUTH_FORBIDDEN"],
    [409, "IDEMPOTENCY_CONFLICT"],
    [409, "LEDGER_REFUSED"],
    [404, "NOT_FOUND"],
    [503, "STORE_CLOSED"],
  ])("%i %s", async (status, code) => {
    server.script(errorReply(status, code), { body: decision });
    const error = await failure(client().decide(action));
    expect(error).toMatchObject({ code, status, retryable: false, attempts: 1 });
    expect(server.seen).toHaveLength(1);
  });

  it("falls back on the status for a code this client does not know", async () => {
    server.script(errorReply(418, "SOMETHING_NEW"), { body: decision });
    const error = await failure(client().decide(action));
    expect(error).toMatchObject({ code: "SOMETHING_NEW", status: 418, retryable: false });
    expect(server.seen).toHaveLength(1);
  });

  it("reports an invalid JSON success body as CLIENT_BAD_RESPONSE without retrying", async () => {
    server.script({ status: 200, body: "{not json" });
    const error = await failure(client().decide(action));
    expect(error).toMatchObject({
      code: "CLIENT_BAD_RESPONSE",
      status: 200,
      retryable: false,
      attempts: 1,
      details: { reason: "body is not JSON", body: "{not json" },
    });
    expect(server.seen).toHaveLength(1);
  });

  it("reports a success body of the wrong shape as CLIENT_BAD_RESPONSE", async () => {
    server.script({ status: 200, body: { decision_id: "dec_1" } });
    const error = await failure(client().decide(action));
    expect(error.code).toBe("CLIENT_BAD_RESPONSE");
    expect(error.details.reason).toBe("body does not match the expected response");
  });
});

describe("timeouts and cancellation", () => {
  it("time out each attempt and give CLIENT_TIMEOUT after the configured retries", async () => {
    server.script({ hang: true });
    const started = performance.now();
    const error = await failure(client({ timeoutMs: 50, retries: 2 }).decide(action));
    expect(error).toMatchObject({
      code: "CLIENT_TIMEOUT",
      status: undefined,
      retryable: true,
      attempts: 3,
    });
    expect(server.seen).toHaveLength(3);
    expect(new Set(server.seen.map((r) => r.headers["idempotency-key"])).size).toBe(1);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it("time out a response that is slower than the timeout", async () => {
    server.script({ delayMs: 300, body: decision });
    const error = await failure(client({ timeoutMs: 50, retries: 0 }).decide(action));
    expect(error).toMatchObject({ code: "CLIENT_TIMEOUT", attempts: 1 });
  });

  it("abort an attempt in flight when the caller's signal fires, without retrying", async () => {
    server.script({ hang: true });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("shutting down")), 30);
    const error = await failure(
      client({ retries: 5 }).decide(action, { signal: controller.signal }),
    );
    expect(error).toMatchObject({ code: "CLIENT_ABORTED", retryable: false, attempts: 1 });
    expect((error.cause as Error).message).toBe("shutting down");
    expect(server.seen).toHaveLength(1);
  });

  it("abort during the backoff sleep", async () => {
    server.script(errorReply(503, "SERVICE_UNAVAILABLE"));
    const controller = new AbortController();
    const started = performance.now();
    const call = client({ retries: 5, retryBaseDelayMs: 4_000 }).decide(action, {
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 50);
    const error = await failure(call);
    expect(error).toMatchObject({ code: "CLIENT_ABORTED", attempts: 1 });
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(server.seen).toHaveLength(1);
  });

  it("send nothing when the signal is already aborted", async () => {
    server.script({ body: decision });
    const error = await failure(client().decide(action, { signal: AbortSignal.abort() }));
    expect(error).toMatchObject({ code: "CLIENT_ABORTED", attempts: 0 });
    expect(server.seen).toHaveLength(0);
  });
});

describe("tokens", () => {
  it("asks a token function before every attempt", async () => {
    let calls = 0;
    const token = async (): Promise<string> => {
      calls += 1;
      return `t${calls}`;
    };
    server.script(errorReply(503, "SERVICE_UNAVAILABLE"), { body: decision });
    const c = client({ token });
    await c.decide(action);
    await c.balances("acme").catch(() => undefined);
    expect(calls).toBe(3);
    expect(server.seen.map((r) => r.headers.authorization)).toEqual([
      "Bearer t1",
      "Bearer t2",
      "Bearer t3",
    ]);
  });

  it("sends no authorization header without a token", async () => {
    server.script({ body: { status: "ok" } });
    await createClient({ baseUrl: server.url }).health();
    expect(server.seen[0]?.headers.authorization).toBeUndefined();
  });
});

describe("read routes", () => {
  it("encode every audit query parameter", async () => {
    server.script({ body: { records: [], next_after: null } });
    const page = await client().audit({
      tenant: "acme/eu west",
      principal: "user@acme.example",
      decision_id: "dec_01",
      kind: "decision",
      from: new Date("2025-01-02T03:04:05.000Z"),
      to: "2025-02-01T00:00:00+01:00",
      after: 120,
      limit: 50,
    });
    expect(page).toEqual({ records: [], next_after: null });
    const url = new URL(server.seen[0]?.url ?? "", server.url);
    expect(url.pathname).toBe("/v1/audit");
    expect(Object.fromEntries(url.searchParams)).toEqual({
      tenant: "acme/eu west",
      principal: "user@acme.example",
      decision_id: "dec_01",
      kind: "decision",
      from: "2025-01-02T03:04:05.000Z",
      to: "2025-02-01T00:00:00+01:00",
      after: "120",
      limit: "50",
    });
    // The "+" of an offset must arrive encoded, or the server would read it as a space.
    expect(server.seen[0]?.url).toContain("to=2025-02-01T00%3A00%3A00%2B01%3A00");
  });

  it("omit audit parameters that are not set", async () => {
    server.script({ body: { records: [], next_after: 7 } });
    await client().audit({ tenant: "acme" });
    await client().audit();
    expect(server.seen.map((r) => r.url)).toEqual(["/v1/audit?tenant=acme", "/v1/audit"]);
  });

  it("encode the tenant path segment of balances", async () => {
    const body = {
      tenant: "a/b",
      at: "2025-01-01T00:00:00Z",
      posted: balances,
      held: balances,
      available: balances,
    };
    server.script({ body });
    await expect(client().balances("a/b")).resolves.toEqual(body);
    expect(server.seen[0]?.url).toBe("/v1/tenants/a%2Fb/balances");
    expect(server.seen[0]?.method).toBe("GET");
    expect(server.seen[0]?.headers["idempotency-key"]).toBeUndefined();
  });

  it("return both audit verification outcomes", async () => {
    const ok = { ok: true, count: 3, head: { seq: 3, hash: "ab" } };
    const broken = { ok: false, count: 3, broken_seq: 2, reason: "hash_mismatch" };
    server.script({ body: ok }, { body: broken });
    await expect(client().verifyAudit()).resolves.toEqual(ok);
    await expect(client().verifyAudit()).resolves.toEqual(broken);
  });

  it("resolve a not-ready 503 from readyz in one attempt", async () => {
    const notReady = { status: "unavailable", checks: { store: "down" } };
    server.script({ status: 503, body: notReady });
    await expect(client().ready()).resolves.toEqual(notReady);
    expect(server.seen).toHaveLength(1);
  });

  it("keep a path prefix of the base URL", async () => {
    server.script({ body: { status: "ok" } });
    await createClient({ baseUrl: `${server.url}/creditgate/` }).health();
    expect(server.seen[0]?.url).toBe("/creditgate/healthz");
  });
});

describe("holds and admin writes", () => {
  it("release a hold with an empty body and a generated key", async () => {
    const released = { hold_id: "hld_01", released: 10, balances };
    server.script({ body: released });
    await expect(client().releaseHold("hld_01")).resolves.toEqual(released);
    expect(server.seen[0]?.url).toBe("/v1/holds/hld_01/release");
    expect(server.seen[0]?.body).toBe("{}");
    expect(server.seen[0]?.headers["idempotency-key"]).toMatch(keyPattern);
  });

  it("reject a negative or fractional commit amount without a request", async () => {
    server.script({ body: {} });
    await expect(client().commitHold("hld_01", -1)).rejects.toThrow(TypeError);
    await expect(client().commitHold("hld_01", 1.5)).rejects.toThrow(TypeError);
    await expect(client().commitHold("", 1)).rejects.toThrow(TypeError);
    expect(server.seen).toHaveLength(0);
  });

  it("post grants, reversals and revocations with idempotency keys", async () => {
    const grant = {
      grant_id: "grt_1",
      tenant: "acme",
      class: "paid",
      amount: 100,
      effective_at: "2025-01-01T00:00:00Z",
      expires_at: null,
    };
    const reversal = { transfer_id: "rev_1", reversed_transfer_id: "ent_1", amount: 5 };
    const revocation = { revocation_id: "rvk_1" };
    server.script(
      { status: 201, body: grant },
      { status: 201, body: reversal },
      { status: 201, body: revocation },
    );
    const admin = client({ token: "admin-tok" }).admin;
    await expect(admin.grant({ tenant: "acme", class: "paid", amount: 100 })).resolves.toEqual(
      grant,
    );
    await expect(
      admin.reverse({ tenant: "acme", transfer_id: "ent_1", amount: 5, reason: "refund" }),
    ).resolves.toEqual(reversal);
    await expect(
      admin.revoke(
        { tenant: "acme", kind: "token", subject: "jti-1", reason: "leaked" },
        { idempotencyKey: "rvk-jti-1" },
      ),
    ).resolves.toEqual(revocation);
    expect(server.seen.map((r) => [r.url, r.headers.authorization])).toEqual([
      ["/v1/admin/grants", "Bearer admin-tok"],
      ["/v1/admin/reversals", "Bearer admin-tok"],
      ["/v1/admin/revocations", "Bearer admin-tok"],
    ]);
    expect(server.seen[0]?.headers["idempotency-key"]).toMatch(keyPattern);
    expect(server.seen[2]?.headers["idempotency-key"]).toBe("rvk-jti-1");
    expect(JSON.parse(server.seen[1]?.body ?? "")).toEqual({
      tenant: "acme",
      transfer_id: "ent_1",
      amount: 5,
      reason: "refund",
    });
  });
});

describe("createClient options", () => {
  it("rejects bad options as programmer errors", () => {
    expect(() => createClient({ baseUrl: "ftp://x" })).toThrow(TypeError);
    expect(() => createClient({ baseUrl: "http://x?a=1" })).toThrow(TypeError);
    expect(() => createClient({ baseUrl: "http://x", retries: -1 })).toThrow(TypeError);
    expect(() => createClient({ baseUrl: "http://x", retries: 1_000 })).toThrow(TypeError);
    expect(() => createClient({ baseUrl: "http://x", timeoutMs: 0 })).toThrow(TypeError);
  });

  it("uses an injected fetch", async () => {
    const urls: string[] = [];
    const fakeFetch: typeof fetch = async (input) => {
      urls.push(String(input));
      return new Response(JSON.stringify({ status: "ok" }), { status: 200 });
    };
    await createClient({ baseUrl: "http://creditgate.internal", fetch: fakeFetch }).health();
    expect(urls).toEqual(["http://creditgate.internal/healthz"]);
  });
});
