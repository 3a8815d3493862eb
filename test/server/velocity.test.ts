/**
 * Blast-radius scenarios over HTTP. A leaked key fired as fast as it can (one burst of concurrent
 * calls) stops at its hourly credit cap exactly, every denial audited with its reason; a looping
 * workflow is stopped at its step limit. Limits are the pro plan's from policies/data/limits.yaml.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { decisionHeaders, startTestService, type TestService } from "../helpers/service.js";

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
  await svc.grant("acme", "paid", 100_000_000);
});
afterAll(async () => {
  await svc?.close();
});

interface Decision {
  allow: boolean;
  cost: number;
  hold?: number;
  reasons: { code: string }[];
  obligations: { retry_after_seconds?: number };
}

// gpt-4o with long prompts: tens of thousands of credits held per call, so 80 calls pass the cap.
const expensive = {
  type: "model.infer",
  model: "gpt-4o",
  units: { input_tokens: 100_000, max_output_tokens: 100_000 },
};
const proCreditsPerHour = 2_000_000;

it("caps a leaked key's spend at its hourly limit, whatever its concurrency", async () => {
  const leaked = await svc.userToken({ sub: "svc_leaky", plan: "pro" });
  const answers = await Promise.all(
    Array.from({ length: 80 }, (_, i) =>
      svc.request("POST", "/v1/decisions", {
        token: leaked,
        headers: decisionHeaders(`leak-${i}`),
        body: { action: expensive },
      }),
    ),
  );
  expect(answers.every((a) => a.status === 200)).toBe(true);
  const decisions = answers.map((a) => a.body as Decision);
  const allowed = decisions.filter((d) => d.allow);
  const perCall = allowed[0]?.hold ?? 0;
  expect(perCall).toBeGreaterThan(0);
  expect(allowed).toHaveLength(Math.floor(proCreditsPerHour / perCall));
  const spent = allowed.reduce((sum, d) => sum + (d.hold ?? 0), 0);
  expect(spent).toBeLessThanOrEqual(proCreditsPerHour);
  for (const denied of decisions.filter((d) => !d.allow)) {
    expect(denied.reasons.map((r) => r.code)).toContain("VELOCITY_LIMIT");
    expect(denied.obligations.retry_after_seconds).toBeGreaterThan(0);
  }

  // The audit trail shows each denial with its reason.
  const page = await svc.request("GET", "/v1/audit?principal=svc_leaky&kind=decision&limit=100", {
    token: await svc.adminToken(),
  });
  const denials = (
    page.body as {
      records: { data: { context: { allow: boolean; reasons: { code: string }[] } } }[];
    }
  ).records.map((r) => r.data.context);
  expect(denials).toHaveLength(80 - allowed.length);
  for (const d of denials) {
    expect(d.allow).toBe(false);
    expect(d.reasons.map((r) => r.code)).toContain("VELOCITY_LIMIT");
  }

  // Another key of the same tenant is not affected.
  const other = await svc.userToken({ sub: "svc_other", plan: "pro" });
  const ok = await svc.request("POST", "/v1/decisions", {
    token: other,
    headers: decisionHeaders(),
    body: { action: expensive },
  });
  expect((ok.body as Decision).allow).toBe(true);
});

it("stops a looping workflow at its step limit", async () => {
  const agent = await svc.userToken({ sub: "usr_loop", plan: "pro" });
  const outcomes: Decision[] = [];
  // 100 steps per call against pro's 2,000 steps per workflow: the 21st call must be refused.
  for (let i = 0; i < 30; i++) {
    const res = await svc.request("POST", "/v1/decisions", {
      token: agent,
      headers: decisionHeaders(`loop-${i}`),
      body: { action: { type: "workflow.step", workflow_id: "wf-runaway", units: { steps: 100 } } },
    });
    const decision = res.body as Decision;
    outcomes.push(decision);
    if (!decision.allow) break;
  }
  expect(outcomes.filter((d) => d.allow)).toHaveLength(20);
  const stopped = outcomes.at(-1);
  expect(stopped?.allow).toBe(false);
  expect(stopped?.reasons.map((r) => r.code)).toContain("VELOCITY_LIMIT");

  // A different workflow of the same principal still runs.
  const fresh = await svc.request("POST", "/v1/decisions", {
    token: agent,
    headers: decisionHeaders(),
    body: { action: { type: "workflow.step", workflow_id: "wf-other", units: { steps: 100 } } },
  });
  expect((fresh.body as Decision).allow).toBe(true);
});
