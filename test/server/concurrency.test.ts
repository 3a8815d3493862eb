/**
 * 200 decisions in flight at once over real HTTP against a balance that pays for exactly 50:
 * exactly 50 are allowed, the rest denied with INSUFFICIENT_CREDITS, and the ledger agrees.
 * Each request comes from its own principal so per-principal velocity limits stay out of it.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { decisionHeaders, startTestService, type TestService } from "../helpers/service.js";

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(async () => {
  await svc?.close();
});

it("allows exactly what the balance pays for", async () => {
  await svc.grant("race", "trial", 500); // prompt.submit costs 10: 50 decisions
  const tokens = await Promise.all(
    Array.from({ length: 200 }, (_, i) =>
      svc.userToken({ sub: `usr_${i}`, tenant: "race", plan: "trial" }),
    ),
  );
  const answers = await Promise.all(
    tokens.map((token, i) =>
      svc.request("POST", "/v1/decisions", {
        token,
        headers: decisionHeaders(`race-${i}`),
        body: { action: { type: "prompt.submit" } },
      }),
    ),
  );
  expect(answers.map((a) => a.status)).toEqual(Array(200).fill(200));
  const bodies = answers.map((a) => a.body as { allow: boolean; reasons: { code: string }[] });
  expect(bodies.filter((b) => b.allow)).toHaveLength(50);
  for (const denied of bodies.filter((b) => !b.allow)) {
    expect(denied.reasons.map((r) => r.code)).toContain("INSUFFICIENT_CREDITS");
  }
  const balances = await svc.service.store.balances("race");
  expect(balances.available.trial).toBe(0);
  expect(balances.posted.trial).toBe(0);
  expect(await svc.service.store.checkInvariants()).toMatchObject({ ok: true });
});
