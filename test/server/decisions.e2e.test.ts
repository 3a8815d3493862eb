/**
 * The decision service end to end over real HTTP (a listening server): grant → decide → hold →
 * commit → balances → audit, exhaustion, dry runs and idempotent retries. Every response body
 * is checked against its schema in schemas/api.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validate } from "../../src/schema-registry.js";
import { decisionHeaders, startTestService, type TestService } from "../helpers/service.js";

let svc: TestService;
let user: string;
let admin: string;

beforeAll(async () => {
  svc = await startTestService();
  user = await svc.userToken({ tenant: "acme", plan: "pro" });
  admin = await svc.adminToken();
});
afterAll(async () => {
  await svc?.close();
});

function expectSchema(name: string, body: unknown): void {
  expect(validate(name, body)).toEqual([]);
}

interface Decision {
  decision_id: string;
  allow: boolean;
  cost: number;
  hold_id?: string;
  hold?: number;
  reasons: { code: string; message: string }[];
  balances: Record<string, number>;
  policy_revision: string;
  dry_run?: boolean;
}

describe("a tenant's credits from grant to audit", () => {
  it("grants, decides, holds, commits and verifies the trail", async () => {
    const granted = await svc.request("POST", "/v1/admin/grants", {
      token: admin,
      headers: { "idempotency-key": "grant-acme-1" },
      body: { tenant: "acme", class: "paid", amount: 100_000 },
    });
    expect(granted.status).toBe(201);
    expectSchema("api/grant-response", granted.body);

    const first = await svc.request("POST", "/v1/decisions", {
      token: user,
      headers: decisionHeaders("prompt-1"),
      body: { action: { type: "prompt.submit" } },
    });
    expect(first.status).toBe(200);
    expectSchema("api/decision-response", first.body);
    const decision = first.body as Decision;
    expect(decision).toMatchObject({ allow: true, cost: 10 });
    expect(decision.balances.paid).toBe(99_990);
    expect(decision.policy_revision).toBe(svc.service.policy.current.revision);

    const infer = await svc.request("POST", "/v1/decisions", {
      token: user,
      headers: decisionHeaders("infer-1"),
      body: {
        action: {
          type: "model.infer",
          model: "gpt-4o-mini",
          units: { input_tokens: 2_000, max_output_tokens: 1_000 },
        },
      },
    });
    expect(infer.status).toBe(200);
    const held = infer.body as Decision;
    expect(held.allow).toBe(true);
    expect(held.hold_id).toMatch(/^hld_/);
    expect(held.hold).toBeGreaterThan(0);
    expect(held.balances.paid).toBe(99_990 - (held.hold as number));

    const commit = await svc.request("POST", `/v1/holds/${held.hold_id}/commit`, {
      token: user,
      headers: { "idempotency-key": "commit-1" },
      body: { amount: 40 },
    });
    expect(commit.status).toBe(200);
    expectSchema("api/hold-commit-response", commit.body);
    expect(commit.body).toMatchObject({
      hold_id: held.hold_id,
      committed: 40,
      released: (held.hold as number) - 40,
      balances: { paid: 99_990 - 40 },
    });

    const balances = await svc.request("GET", "/v1/tenants/acme/balances", { token: admin });
    expect(balances.status).toBe(200);
    expectSchema("api/balances-response", balances.body);
    expect(balances.body).toMatchObject({
      tenant: "acme",
      posted: { paid: 99_950 },
      held: { paid: 0 },
      available: { paid: 99_950 },
    });

    const trail = await svc.request("GET", `/v1/audit?decision_id=${decision.decision_id}`, {
      token: admin,
    });
    expect(trail.status).toBe(200);
    expectSchema("api/audit-page", trail.body);
    const records = (trail.body as { records: { kind: string; data: { context: unknown } }[] })
      .records;
    expect(records).toHaveLength(1);
    expect(records[0]?.kind).toBe("debit");
    expect(records[0]?.data.context).toMatchObject({
      decision_id: decision.decision_id,
      policy_revision: decision.policy_revision,
      bundle_digest: svc.service.policy.current.digest,
      input_digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      reasons: decision.reasons,
    });

    const verified = await svc.request("GET", "/v1/audit/verify", { token: admin });
    expect(verified.status).toBe(200);
    expectSchema("api/audit-verification", verified.body);
    expect(verified.body).toMatchObject({ ok: true });
    expect((verified.body as { count: number }).count).toBeGreaterThanOrEqual(4);
  });

  it("answers a retried Idempotency-Key with the identical body and charges once", async () => {
    const ask = () =>
      svc.request("POST", "/v1/decisions", {
        token: user,
        headers: decisionHeaders("retry-me"),
        body: { action: { type: "tool.call", tool: "web.search" } },
      });
    const before = await svc.service.store.balances("acme");
    const original = await ask();
    const retried = await ask();
    expect(original.status).toBe(200);
    expect(retried.status).toBe(200);
    expect(retried.text).toBe(original.text);
    const after = await svc.service.store.balances("acme");
    expect(before.available.paid - after.available.paid).toBe((original.body as Decision).cost);

    const reused = await svc.request("POST", "/v1/decisions", {
      token: user,
      headers: decisionHeaders("retry-me"),
      body: { action: { type: "prompt.submit" } },
    });
    expect(reused.status).toBe(409);
    expect(reused.body).toMatchObject({ error: { code: "IDEMPOTENCY_CONFLICT" } });
  });

  it("needs an Idempotency-Key to enforce, but not to quote", async () => {
    const missing = await svc.request("POST", "/v1/decisions", {
      token: user,
      body: { action: { type: "prompt.submit" } },
    });
    expect(missing.status).toBe(400);
    expectSchema("api/error", missing.body);
    expect(missing.body).toMatchObject({ error: { code: "IDEMPOTENCY_KEY_MISSING" } });

    const before = await svc.service.store.balances("acme");
    const quote = await svc.request("POST", "/v1/decisions", {
      token: user,
      body: { action: { type: "prompt.submit" }, dry_run: true },
    });
    expect(quote.status).toBe(200);
    expect(quote.body).toMatchObject({ allow: true, cost: 10, dry_run: true });
    expect(await svc.service.store.balances("acme")).toMatchObject({
      posted: before.posted,
      held: before.held,
    });
  });
});

describe("exhaustion", () => {
  it("allows while credits last, then denies with INSUFFICIENT_CREDITS as a 200", async () => {
    await svc.grant("small", "trial", 30);
    const token = await svc.userToken({ sub: "usr_small", tenant: "small", plan: "trial" });
    const answers: Decision[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await svc.request("POST", "/v1/decisions", {
        token,
        headers: decisionHeaders(`small-${i}`),
        body: { action: { type: "prompt.submit" } },
      });
      expect(res.status).toBe(200);
      answers.push(res.body as Decision);
    }
    expect(answers.map((a) => a.allow)).toEqual([true, true, true, false]);
    expect(answers[3]?.reasons.map((r) => r.code)).toContain("INSUFFICIENT_CREDITS");
    expect(answers[3]?.balances.trial).toBe(0);

    const denies = await svc.request("GET", `/v1/audit?tenant=small&kind=decision`, {
      token: await svc.adminToken(),
    });
    const records = (denies.body as { records: { data: { context: { allow: boolean } } }[] })
      .records;
    expect(records).toHaveLength(1);
    expect(records[0]?.data.context.allow).toBe(false);
  });
});
