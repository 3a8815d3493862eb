/**
 * Suspending and reinstating a tenant over HTTP: the next decision is a deny with
 * TENANT_SUSPENDED (200, allow false, nothing debited), reinstating allows again, each change is
 * audited with its actor and reason, and the writes are idempotent by key.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decisionHeaders, startTestService, type TestService } from "../helpers/service.js";

let svc: TestService;

beforeAll(async () => {
  svc = await startTestService();
  await svc.grant("acme", "paid", 10_000);
}, 30_000);

afterAll(async () => {
  await svc?.close();
});

interface Decision {
  allow: boolean;
  cost: number;
  reasons: { code: string }[];
  obligations: { hard_stop?: boolean };
}

async function decide(): Promise<{ status: number; body: Decision }> {
  const res = await svc.request("POST", "/v1/decisions", {
    token: await svc.userToken(),
    headers: decisionHeaders(),
    body: { action: { type: "prompt.submit" } },
  });
  return { status: res.status, body: res.body as Decision };
}

async function setStatus(verb: "suspend" | "reinstate", key: string, reason: string) {
  return svc.request("POST", `/v1/tenants/acme/${verb}`, {
    token: await svc.adminToken(),
    headers: { "idempotency-key": key },
    body: { reason },
  });
}

async function posted(): Promise<number> {
  const res = await svc.request("GET", "/v1/tenants/acme/balances", {
    token: await svc.adminToken(),
  });
  return (res.body as { posted: { paid: number } }).posted.paid;
}

describe("tenant suspension", () => {
  it("denies the next decision with TENANT_SUSPENDED, debits nothing, and allows again once reinstated", async () => {
    const before = await decide();
    expect(before.status).toBe(200);
    expect(before.body.allow).toBe(true);
    const start = await posted();

    const suspended = await setStatus("suspend", "suspend-1", "chargeback fraud");
    expect(suspended.status).toBe(200);
    expect(suspended.body).toMatchObject({
      tenant: "acme",
      status: "suspended",
      previous_status: "active",
      changed: true,
      reason: "chargeback fraud",
      since: expect.any(String),
    });
    const shown = await svc.request("GET", "/v1/tenants/acme", { token: await svc.adminToken() });
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({ tenant: "acme", status: "suspended" });

    const denied = await decide();
    expect(denied.status).toBe(200);
    expect(denied.body.allow).toBe(false);
    expect(denied.body.cost).toBe(0);
    expect(denied.body.reasons.map((r) => r.code)).toEqual(["TENANT_SUSPENDED"]);
    expect(denied.body.obligations.hard_stop).toBe(true);
    expect(await posted()).toBe(start);

    const reinstated = await setStatus("reinstate", "reinstate-1", "dispute resolved");
    expect(reinstated.status).toBe(200);
    expect(reinstated.body).toMatchObject({
      status: "active",
      previous_status: "suspended",
      changed: true,
    });
    const allowed = await decide();
    expect(allowed.body.allow).toBe(true);
    expect(await posted()).toBe(start - allowed.body.cost);

    // Both changes are in the audit trail with who did it and why.
    const audit = await svc.request("GET", "/v1/audit?kind=tenant_status&tenant=acme", {
      token: await svc.adminToken(),
    });
    expect(audit.status).toBe(200);
    const records = (audit.body as { records: { data: Record<string, unknown> }[] }).records;
    expect(records.map((r) => r.data)).toMatchObject([
      {
        status: "suspended",
        previous_status: "active",
        reason: "chargeback fraud",
        context: { actor: { kind: "user", id: "ops", tenant: "ops" } },
      },
      {
        status: "active",
        previous_status: "suspended",
        reason: "dispute resolved",
        context: { actor: { id: "ops" } },
      },
    ]);
    const verified = await svc.request("GET", "/v1/audit/verify", {
      token: await svc.adminToken(),
    });
    expect(verified.body).toMatchObject({ ok: true });
  });

  it("is idempotent: the same key answers the same, another request under it conflicts", async () => {
    const first = await setStatus("suspend", "suspend-2", "abuse");
    expect(first.status).toBe(200);
    const again = await setStatus("suspend", "suspend-2", "abuse");
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    const conflict = await setStatus("reinstate", "suspend-2", "abuse");
    expect(conflict.status).toBe(409);
    expect(conflict.body).toMatchObject({ error: { code: "IDEMPOTENCY_CONFLICT" } });

    // A second suspension under a new key changes nothing (its time and reason stand).
    const twice = await setStatus("suspend", "suspend-3", "more abuse");
    expect(twice.body).toMatchObject({
      status: "suspended",
      previous_status: "suspended",
      changed: false,
      reason: "abuse",
      since: (first.body as { since: string }).since,
    });
    expect((await decide()).body.allow).toBe(false);
    await setStatus("reinstate", "reinstate-2", "ok");
    expect((await decide()).body.allow).toBe(true);
  });

  it("requires an admin token, an idempotency key and a reason", async () => {
    const user = await svc.request("POST", "/v1/tenants/acme/suspend", {
      token: await svc.userToken(),
      headers: { "idempotency-key": "u-1" },
      body: { reason: "x" },
    });
    expect(user.status).toBe(403);
    const noKey = await svc.request("POST", "/v1/tenants/acme/suspend", {
      token: await svc.adminToken(),
      body: { reason: "x" },
    });
    expect(noKey.status).toBe(400);
    expect(noKey.body).toMatchObject({ error: { code: "IDEMPOTENCY_KEY_MISSING" } });
    const noReason = await svc.request("POST", "/v1/tenants/acme/suspend", {
      token: await svc.adminToken(),
      headers: { "idempotency-key": "n-1" },
      body: {},
    });
    expect(noReason.status).toBe(400);
    expect(noReason.body).toMatchObject({ error: { code: "REQUEST_INVALID" } });
    const fresh = await svc.request("GET", "/v1/tenants/newcomer", {
      token: await svc.adminToken(),
    });
    expect(fresh.body).toEqual({ tenant: "newcomer", status: "active", since: null, reason: null });
  });
});
