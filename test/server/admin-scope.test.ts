/**
 * Tenant-scoped administration, over the whole route table: for every admin route in apiRoutes,
 * an admin of tenant A aimed at tenant B is 403 AUTH_FORBIDDEN with no ledger effect and an audit
 * record; aimed at A it works; a platform admin may aim at B. A new admin route without an
 * example here fails, so it cannot ship without the tenant check being exercised.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditRecord } from "../../src/audit/chain.js";
import { loadConfig } from "../../src/config/load.js";
import { mintDevToken } from "../../src/identity/index.js";
import { type AdminRoute, type ApiRoute, apiRoutes } from "../../src/server/api.js";
import { assertTenantField } from "../../src/server/plugins/tenant-scope.js";
import { startTestService, type TestService } from "../helpers/service.js";

const A = "acme";
const B = "globex";

let svc: TestService;
/** A debit per tenant, for the reversal example. */
const transfers = new Map<string, string>();

interface Example {
  readonly params?: Readonly<Record<string, string>>;
  readonly query?: Readonly<Record<string, string>>;
  readonly body?: unknown;
}

/** A valid request per admin route that acts on `tenant`. */
const examples: Readonly<Record<string, (tenant: string) => Example>> = {
  grant: (tenant) => ({ body: { tenant, class: "paid", amount: 999_999 } }),
  reverse: (tenant) => ({
    body: { tenant, transfer_id: transfers.get(tenant), amount: 1, reason: "refund" },
  }),
  revoke: (tenant) => ({
    body: { tenant, kind: "principal", subject: "usr_leaver", reason: "left" },
  }),
  balances: (tenant) => ({ params: { tenant } }),
  tenant: (tenant) => ({ params: { tenant } }),
  suspendTenant: (tenant) => ({ params: { tenant }, body: { reason: "chargeback" } }),
  reinstateTenant: (tenant) => ({ params: { tenant }, body: { reason: "settled" } }),
  audit: (tenant) => ({ query: { tenant } }),
  verifyAudit: () => ({}),
};

const adminRoutes = Object.entries(apiRoutes as Record<string, ApiRoute>).filter(
  ([, route]) => route.auth === "admin",
);

function requestFor(name: string, route: ApiRoute, tenant: string) {
  const example = examples[name];
  if (example === undefined) {
    throw new Error(`admin route ${name} has no example in test/server/admin-scope.test.ts`);
  }
  const { params = {}, query, body } = example(tenant);
  const path = route.path.replace(/\{([^}]+)\}/g, (_match, key: string) => {
    const value = params[key];
    if (value === undefined) throw new Error(`the example of ${name} has no path param ${key}`);
    return encodeURIComponent(value);
  });
  const search = query === undefined ? "" : `?${new URLSearchParams(query).toString()}`;
  return {
    method: route.method,
    path: `${path}${search}`,
    options: {
      headers: { "idempotency-key": `scope-${randomUUID()}` },
      ...(body === undefined ? {} : { body }),
    },
  };
}

async function send(name: string, route: ApiRoute, tenant: string, token: string) {
  const { method, path, options } = requestFor(name, route, tenant);
  return svc.request(method, path, { ...options, token });
}

async function allRecords(): Promise<readonly AuditRecord[]> {
  return (await svc.service.store.queryAudit({ limit: 1000 })).records;
}

/** What an admin route could change: every balance, every non-auth record, every revocation. */
async function ledgerState() {
  const records = await allRecords();
  return {
    balances: [await svc.service.store.balances(A), await svc.service.store.balances(B)].map(
      ({ atMs: _atMs, ...rest }) => rest,
    ),
    effects: records.filter((r) => r.kind !== "auth").length,
    auth: records.filter((r) => r.kind === "auth"),
  };
}

beforeAll(async () => {
  svc = await startTestService();
  for (const tenant of [A, B]) {
    await svc.grant(tenant, "paid", 10_000);
    const debit = await svc.service.store.debit({
      tenant,
      key: `debit-${tenant}`,
      amount: 100,
      drawOrder: ["paid"],
    });
    if (!debit.ok) throw new Error(`debit failed: ${debit.code}`);
    transfers.set(tenant, debit.value.transferId);
  }
});
afterAll(async () => {
  await svc?.close();
});

describe("the route table", () => {
  it("has admin routes, each with an example and a tenantFrom", () => {
    expect(adminRoutes.length).toBeGreaterThan(0);
    for (const [name, route] of adminRoutes) {
      expect(examples[name], `example for ${name}`).toBeDefined();
      expect(route.tenantFrom, `tenantFrom of ${name}`).toMatch(/^(body|params|query|global)$/);
    }
  });
});

describe.each(adminRoutes)("admin route %s", (name, route) => {
  const scoped = route.tenantFrom !== "global";

  if (scoped) {
    it("refuses a tenant admin of A aimed at B: 403, no effect, an audit record", async () => {
      const token = await svc.tenantAdminToken(A, { sub: "ops_acme" });
      const before = await ledgerState();
      const res = await send(name, route, B, token);
      expect(res.status, res.text).toBe(403);
      expect(res.body).toMatchObject({ error: { code: "AUTH_FORBIDDEN", details: { tenant: A } } });
      expect(res.text).not.toContain(transfers.get(B));

      const after = await ledgerState();
      expect(after.balances).toEqual(before.balances);
      expect(after.effects).toBe(before.effects);
      expect(after.auth).toHaveLength(before.auth.length + 1);
      const record = after.auth.at(-1);
      expect(record?.tenant).toBe(A);
      expect(record?.data.context).toMatchObject({
        code: "AUTH_FORBIDDEN",
        audience: "admin",
        method: route.method,
        principal: { id: "ops_acme", tenant: A },
        target_tenant: B,
      });
    });
  } else {
    // A global route acts on no one tenant: aimed "at B", it still shows and changes nothing of B.
    it("answers a tenant admin of A without B's data and without effect", async () => {
      const token = await svc.tenantAdminToken(A);
      const before = await ledgerState();
      const res = await send(name, route, B, token);
      expect(res.status, res.text).toBeLessThan(300);
      expect(res.text).not.toContain(B);
      expect(res.text).not.toContain(transfers.get(B));
      const after = await ledgerState();
      expect(after).toEqual(before);
    });
  }

  if (route.auth === "admin" && route.platformOnly === true) {
    it("refuses a tenant admin even on its own tenant: 403, no effect, an audit record", async () => {
      const before = await ledgerState();
      const res = await send(name, route, A, await svc.tenantAdminToken(A, { sub: "ops_acme" }));
      expect(res.status, res.text).toBe(403);
      expect(res.body).toMatchObject({ error: { code: "AUTH_FORBIDDEN" } });
      const after = await ledgerState();
      expect(after.balances).toEqual(before.balances);
      expect(after.effects).toBe(before.effects);
      expect(after.auth.at(-1)?.data.context).toMatchObject({
        code: "AUTH_FORBIDDEN",
        principal: { id: "ops_acme", tenant: A },
        target_tenant: A,
      });
    });
  } else {
    it("lets a tenant admin act on its own tenant", async () => {
      const res = await send(name, route, A, await svc.tenantAdminToken(A));
      expect(res.status, res.text).toBeGreaterThanOrEqual(200);
      expect(res.status, res.text).toBeLessThan(300);
    });
  }

  it("lets a platform admin act on another tenant", async () => {
    const res = await send(name, route, B, await svc.adminToken());
    expect(res.status, res.text).toBeGreaterThanOrEqual(200);
    expect(res.status, res.text).toBeLessThan(300);
  });
});

describe("GET /v1/audit without a tenant filter", () => {
  it("shows a tenant admin only its own tenant's records", async () => {
    const res = await svc.request("GET", "/v1/audit?limit=1000", {
      token: await svc.tenantAdminToken(A),
    });
    expect(res.status).toBe(200);
    const records = (res.body as { records: AuditRecord[] }).records;
    expect(records.length).toBeGreaterThan(0);
    expect(new Set(records.map((r) => r.tenant))).toEqual(new Set([A]));
  });

  it("shows a platform admin every tenant's records", async () => {
    const res = await svc.request("GET", "/v1/audit?limit=1000", { token: await svc.adminToken() });
    expect(res.status).toBe(200);
    const tenants = new Set((res.body as { records: AuditRecord[] }).records.map((r) => r.tenant));
    expect(tenants).toContain(A);
    expect(tenants).toContain(B);
  });
});

describe("assertTenantField", () => {
  const base = apiRoutes.grant;
  it("accepts every admin route of the table", () => {
    for (const [, route] of adminRoutes) {
      if (route.auth === "admin") expect(() => assertTenantField(route)).not.toThrow();
    }
  });

  it("refuses a route whose schema lacks the tenant its tenantFrom names", () => {
    // A hold commit body has no tenant; a query schema without one; a body route without a body.
    for (const route of [
      { ...base, body: "api/hold-commit-request" },
      { ...base, tenantFrom: "query", query: "api/hold-params" },
      { ...base, tenantFrom: "params", params: undefined },
    ] as AdminRoute[]) {
      expect(() => assertTenantField(route)).toThrow(TypeError);
    }
  });
});

describe("a configured platform admin role", () => {
  let other: TestService;
  beforeAll(async () => {
    other = await startTestService({
      configure: (config) => ({
        ...config,
        identity: { ...config.identity, platform_admin_role: "ops:all-tenants" },
      }),
    });
  });
  afterAll(async () => {
    await other?.close();
  });

  it("may not be the admin role (the configuration is refused)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "creditgate-config-"));
    try {
      const file = join(dir, "creditgate.yaml");
      await writeFile(file, 'identity:\n  platform_admin_role: "creditgate:admin"\n');
      await expect(loadConfig({ file, env: {}, cwd: dir })).rejects.toMatchObject({
        code: "CONFIG_INVALID",
      });
      await writeFile(file, 'identity:\n  platform_admin_role: "ops:all-tenants"\n');
      const config = await loadConfig({ file, env: {}, cwd: dir });
      expect(config.identity.platform_admin_role).toBe("ops:all-tenants");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("is the role that reaches other tenants; the default name then does not", async () => {
    const configured = await mintDevToken({
      sub: "ops",
      tenant: A,
      plan: "pro",
      admin: true,
      platform: true,
      platformAdminRole: "ops:all-tenants",
    });
    const byDefaultName = await mintDevToken({
      sub: "ops",
      tenant: A,
      plan: "pro",
      admin: true,
      platform: true,
    });
    const path = `/v1/tenants/${B}/balances`;
    expect((await other.request("GET", path, { token: configured })).status).toBe(200);
    expect((await other.request("GET", path, { token: byDefaultName })).status).toBe(403);
  });
});
