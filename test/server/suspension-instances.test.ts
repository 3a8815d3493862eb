/**
 * Two service instances on one PostgreSQL database: a suspension taken by one is enforced by the
 * other on its very next decision, with no notification: the status is read from the store in
 * every decision's snapshot.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { createDatabase } from "../helpers/postgres.js";
import { decisionHeaders, startTestService, type TestService } from "../helpers/service.js";

let instances: TestService[] = [];

beforeAll(async () => {
  const url = await createDatabase("suspend");
  for (let i = 0; i < 2; i++) {
    instances.push(
      await startTestService({
        configure: (config) => ({
          ...config,
          store: { kind: "postgres", postgres: { url, pool_size: 4 } },
        }),
      }),
    );
  }
}, 60_000);

afterAll(async () => {
  await Promise.all(instances.map((i) => i.close()));
  instances = [];
});

async function allowed(instance: TestService): Promise<{ allow: boolean; codes: string[] }> {
  const res = await instance.request("POST", "/v1/decisions", {
    token: await instance.userToken(),
    headers: decisionHeaders(),
    body: { action: { type: "prompt.submit" } },
  });
  expect(res.status).toBe(200);
  const body = res.body as { allow: boolean; reasons: { code: string }[] };
  return { allow: body.allow, codes: body.reasons.map((r) => r.code) };
}

it("enforces a suspension taken on one instance on the other's next decision, and a reinstatement too", async () => {
  const [first, second] = instances as [TestService, TestService];
  await first.grant("acme", "paid", 1_000);
  expect((await allowed(second)).allow).toBe(true);

  const suspended = await first.request("POST", "/v1/tenants/acme/suspend", {
    token: await first.adminToken(),
    headers: { "idempotency-key": "suspend-acme" },
    body: { reason: "fraud" },
  });
  expect(suspended.status).toBe(200);
  // No waiting: the very next decision on the other instance is denied.
  expect(await allowed(second)).toEqual({ allow: false, codes: ["TENANT_SUSPENDED"] });
  expect(await allowed(first)).toEqual({ allow: false, codes: ["TENANT_SUSPENDED"] });

  const reinstated = await second.request("POST", "/v1/tenants/acme/reinstate", {
    token: await second.adminToken(),
    headers: { "idempotency-key": "reinstate-acme" },
    body: { reason: "cleared" },
  });
  expect(reinstated.status).toBe(200);
  expect((await allowed(first)).allow).toBe(true);
});
