/**
 * The typed client against a real listening service (SQLite in a temp dir): the whole credit
 * flow through `createClient`, denials as answers, and server error codes surfacing as
 * CreditgateClientError with the server's code and status.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CreditgateClient,
  CreditgateClientError,
  createClient,
  isCreditgateClientError,
} from "../../src/client/index.js";
import { validate } from "../../src/schema-registry.js";
import { startTestService, type TestService } from "../helpers/service.js";

let svc: TestService;
let ops: CreditgateClient;
let user: CreditgateClient;

const infer = {
  type: "model.infer",
  model: "gpt-4o-mini",
  units: { input_tokens: 2_000, max_output_tokens: 1_000 },
};

beforeAll(async () => {
  svc = await startTestService();
  // No retry sleeps: every error asserted below is a final answer, not a transient one.
  ops = createClient({ baseUrl: svc.url, token: await svc.adminToken(), retries: 0 });
  user = createClient({
    baseUrl: svc.url,
    token: await svc.userToken({ tenant: "acme", plan: "pro" }),
    retries: 0,
  });
});
afterAll(async () => {
  await svc?.close();
});

/** The rejection of `promise`, which must be a CreditgateClientError. */
async function failure(promise: Promise<unknown>): Promise<CreditgateClientError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CreditgateClientError);
  return error as CreditgateClientError;
}

describe("the typed client against the service", () => {
  it("grants, decides, replays, holds, commits, reads balances and audits", async () => {
    const granted = await ops.admin.grant({ tenant: "acme", class: "paid", amount: 10_000 });
    expect(validate("api/grant-response", granted)).toEqual([]);
    expect(granted).toMatchObject({ tenant: "acme", class: "paid", amount: 10_000 });

    const decision = await user.decide({ type: "prompt.submit" }, { idempotencyKey: "c-prompt-1" });
    expect(validate("api/decision-response", decision)).toEqual([]);
    expect(decision).toMatchObject({ allow: true, cost: 10, balances: { paid: 9_990 } });
    expect(decision.policy_revision).toBe(svc.service.policy.current.revision);

    // Same key, same action: the identical response, charged once.
    const replay = await user.decide({ type: "prompt.submit" }, { idempotencyKey: "c-prompt-1" });
    expect(replay).toEqual(decision);
    expect((await ops.balances("acme")).available.paid).toBe(9_990);

    const held = await user.decide(infer);
    expect(held.allow).toBe(true);
    expect(held.hold_id).toMatch(/^hld_/);
    const hold = held.hold as number;
    expect(hold).toBeGreaterThan(40);
    expect(held.balances.paid).toBe(9_990 - hold);
    expect(await ops.balances("acme")).toMatchObject({
      posted: { paid: 9_990 },
      held: { paid: hold },
      available: { paid: 9_990 - hold },
    });

    const committed = await user.commitHold(held.hold_id as string, 40);
    expect(validate("api/hold-commit-response", committed)).toEqual([]);
    expect(committed).toMatchObject({
      hold_id: held.hold_id,
      committed: 40,
      released: hold - 40,
      balances: { paid: 9_950 },
    });

    const balances = await ops.balances("acme");
    expect(validate("api/balances-response", balances)).toEqual([]);
    expect(balances).toMatchObject({
      tenant: "acme",
      posted: { paid: 9_950 },
      held: { paid: 0 },
      available: { paid: 9_950 },
    });

    const trail = await ops.audit({ decision_id: decision.decision_id });
    expect(validate("api/audit-page", trail)).toEqual([]);
    expect(trail.records).toHaveLength(1);
    expect(trail.records[0]?.kind).toBe("debit");
    expect(trail.records[0]?.data).toMatchObject({
      context: { decision_id: decision.decision_id, policy_revision: decision.policy_revision },
    });
    expect(trail.next_after).toBeNull();

    const verified = await ops.verifyAudit();
    expect(verified.ok).toBe(true);
    // grant, policy activation, debit, hold, commit at least.
    expect(verified.count).toBeGreaterThanOrEqual(5);
  });

  it("resolves a denial on exhaustion as allow:false with INSUFFICIENT_CREDITS", async () => {
    await ops.admin.grant({ tenant: "small", class: "trial", amount: 20 });
    const small = createClient({
      baseUrl: svc.url,
      token: await svc.userToken({ sub: "usr_small", tenant: "small", plan: "trial" }),
      retries: 0,
    });
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await small.decide({ type: "prompt.submit" }));
    expect(answers.map((a) => a.allow)).toEqual([true, true, false]);
    const denied = answers[2];
    expect(validate("api/decision-response", denied)).toEqual([]);
    expect(denied?.reasons.map((r) => r.code)).toContain("INSUFFICIENT_CREDITS");
    expect(denied?.balances.trial).toBe(0);
    expect(denied?.hold_id).toBeUndefined();
    expect((await ops.balances("small")).posted.trial).toBe(0);
  });

  it("releases a hold in full, and a second release is refused", async () => {
    await ops.admin.grant({ tenant: "rel", class: "paid", amount: 5_000 });
    const rel = createClient({
      baseUrl: svc.url,
      token: await svc.userToken({ sub: "usr_rel", tenant: "rel", plan: "pro" }),
      retries: 0,
    });
    const held = await rel.decide(infer);
    expect(held.hold_id).toMatch(/^hld_/);
    expect((await ops.balances("rel")).held.paid).toBe(held.hold);

    const released = await rel.releaseHold(held.hold_id as string);
    expect(validate("api/hold-release-response", released)).toEqual([]);
    expect(released).toEqual({
      hold_id: held.hold_id,
      released: held.hold,
      balances: expect.objectContaining({ paid: 5_000 }),
    });
    expect(await ops.balances("rel")).toMatchObject({
      posted: { paid: 5_000 },
      held: { paid: 0 },
    });

    // The hold is settled: committing it now is refused, not charged.
    const late = await failure(rel.commitHold(held.hold_id as string, 10));
    expect(late.status).toBe(409);
    expect(late.code).toBe("LEDGER_REFUSED");
    expect((await ops.balances("rel")).posted.paid).toBe(5_000);

    const unknown = await failure(rel.releaseHold("hld_does_not_exist"));
    expect(unknown).toMatchObject({ code: "NOT_FOUND", status: 404, retryable: false });
  });
});

describe("server errors as CreditgateClientError", () => {
  it("IDEMPOTENCY_CONFLICT when a key is reused for a different action", async () => {
    await user.decide({ type: "prompt.submit" }, { idempotencyKey: "c-reused" });
    const error = await failure(
      user.decide({ type: "tool.call", tool: "web.search" }, { idempotencyKey: "c-reused" }),
    );
    expect(error).toMatchObject({
      code: "IDEMPOTENCY_CONFLICT",
      status: 409,
      retryable: false,
      attempts: 1,
    });
    expect(isCreditgateClientError(error, "IDEMPOTENCY_CONFLICT")).toBe(true);
  });

  it("AUTH_* for a token the service cannot verify, and for a user on an admin route", async () => {
    const forged = createClient({ baseUrl: svc.url, token: "not-a-jwt", retries: 0 });
    const malformed = await failure(forged.decide({ type: "prompt.submit" }));
    expect(malformed.status).toBe(401);
    expect(malformed.code).toMatch(/^AUTH_TOKEN_(MALFORMED|INVALID)$/);
    expect(malformed.retryable).toBe(false);

    const anonymous = createClient({ baseUrl: svc.url, retries: 0 });
    expect(await failure(anonymous.decide({ type: "prompt.submit" }))).toMatchObject({
      code: "AUTH_TOKEN_MISSING",
      status: 401,
    });

    // A real user token has no business on the admin routes.
    expect(await failure(user.balances("acme"))).toMatchObject({
      code: "AUTH_FORBIDDEN",
      status: 403,
    });
    expect(
      await failure(user.admin.grant({ tenant: "acme", class: "paid", amount: 1 })),
    ).toMatchObject({ code: "AUTH_FORBIDDEN", status: 403 });
  });

  it("REQUEST_INVALID for a body the client passes through but the schema refuses", async () => {
    const before = await ops.balances("acme");
    const badGrant = await failure(ops.admin.grant({ tenant: "acme", class: "paid", amount: -5 }));
    expect(badGrant).toMatchObject({ code: "REQUEST_INVALID", status: 400, retryable: false });
    expect(badGrant.details).toBeTypeOf("object");

    const badAction = await failure(
      user.decide({ type: 42 } as unknown as Parameters<CreditgateClient["decide"]>[0]),
    );
    expect(badAction).toMatchObject({ code: "REQUEST_INVALID", status: 400 });
    expect(await ops.balances("acme")).toEqual({ ...before, at: expect.any(String) });
  });

  it("suspends, reads and reinstates a tenant; a suspended tenant's decision is a deny", async () => {
    await ops.admin.grant({ tenant: "acme", class: "paid", amount: 1_000 });
    const suspended = await ops.admin.suspendTenant("acme", { reason: "client test" });
    expect(suspended).toMatchObject({
      status: "suspended",
      previous_status: "active",
      changed: true,
    });
    expect(await ops.tenant("acme")).toMatchObject({ status: "suspended", reason: "client test" });
    const denied = await user.decide({ type: "prompt.submit" });
    expect(denied.allow).toBe(false);
    expect(denied.reasons.map((r) => r.code)).toEqual(["TENANT_SUSPENDED"]);
    const reinstated = await ops.admin.reinstateTenant("acme", { reason: "done" });
    expect(reinstated).toMatchObject({ status: "active", changed: true });
    expect((await user.decide({ type: "prompt.submit" })).allow).toBe(true);
  });
});
