/** Probes, metrics, the OpenAPI document, unknown routes and rate limiting. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validate } from "../../src/schema-registry.js";
import { type ApiRoute, apiRoutes } from "../../src/server/api.js";
import { decisionHeaders, startTestService, type TestService } from "../helpers/service.js";

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(async () => {
  await svc?.close();
});

describe("probes", () => {
  it("answers /healthz and /readyz with the active revision", async () => {
    const health = await svc.request("GET", "/healthz");
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: "ok" });
    const ready = await svc.request("GET", "/readyz");
    expect(ready.status).toBe(200);
    expect(validate("api/health-response", ready.body)).toEqual([]);
    expect(ready.body).toMatchObject({
      status: "ok",
      policy_revision: svc.service.policy.current.revision,
      checks: { policy: "ok", store: "ok" },
    });
  });

  it("reports not ready once the store cannot answer", async () => {
    const other = await startTestService();
    await other.service.store.close();
    const ready = await other.request("GET", "/readyz");
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ status: "unavailable" });
    await other.service.app.close();
  });
});

describe("/metrics", () => {
  it("counts decisions by result and reason, latency, bundle and ledger errors", async () => {
    await svc.grant("acme", "paid", 1_000);
    const token = await svc.userToken();
    await svc.request("POST", "/v1/decisions", {
      token,
      headers: decisionHeaders(),
      body: { action: { type: "prompt.submit" } },
    });
    await svc.request("POST", "/v1/decisions", {
      token,
      headers: decisionHeaders(),
      body: { action: { type: "no.such.action" } },
    });
    await svc.request("POST", "/v1/holds/hld_missing/commit", {
      token,
      headers: decisionHeaders(),
      body: { amount: 1 },
    });
    const res = await svc.request("GET", "/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.text).toContain(
      'creditgate_decisions_total{reason="PRICE_APPLIED",result="allow"} 1',
    );
    expect(res.text).toContain(
      'creditgate_decisions_total{reason="UNKNOWN_ACTION",result="deny"} 1',
    );
    expect(res.text).toMatch(/creditgate_decision_duration_seconds_count 2/);
    expect(res.text).toContain(
      `creditgate_policy_active{digest="${svc.service.policy.current.digest}",revision="${svc.service.policy.current.revision}"} 1`,
    );
    expect(res.text).toContain(
      'creditgate_http_responses_total{route="/v1/holds/:id/commit",status="404"} 1',
    );
  });
});

describe("/openapi.json", () => {
  it("documents every route with resolvable schemas", async () => {
    const res = await svc.request("GET", "/openapi.json");
    expect(res.status).toBe(200);
    const doc = res.body as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, unknown> };
    };
    expect(doc.openapi).toBe("3.1.0");
    for (const route of Object.values(apiRoutes) as ApiRoute[]) {
      expect(doc.paths[route.path]?.[route.method.toLowerCase()], route.path).toBeDefined();
    }
    const refs = [...res.text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map(
      (m) => m[1] as string,
    );
    expect(refs.length).toBeGreaterThan(10);
    for (const name of refs) expect(doc.components.schemas[name], name).toBeDefined();
  });
});

describe("unknown routes and methods", () => {
  it("answers the error envelope with NOT_FOUND", async () => {
    const res = await svc.request("GET", "/v1/nope");
    expect(res.status).toBe(404);
    expect(validate("api/error", res.body)).toEqual([]);
    expect(res.body).toMatchObject({ error: { code: "NOT_FOUND" } });
  });
});

describe("rate limiting", () => {
  it("answers RATE_LIMITED with retry-after once a client's burst is spent", async () => {
    const limited = await startTestService({
      configure: (config) => ({
        ...config,
        server: { ...config.server, rate_limit: { requests_per_second: 1, burst: 3 } },
      }),
    });
    try {
      const statuses: number[] = [];
      let last: Awaited<ReturnType<TestService["request"]>> | undefined;
      for (let i = 0; i < 5; i++) {
        last = await limited.request("POST", "/v1/decisions", {
          body: { action: { type: "prompt.submit" } },
        });
        statuses.push(last.status);
      }
      // The first three reach authentication (401 without a token); then the bucket is empty.
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
      expect(last?.body).toMatchObject({ error: { code: "RATE_LIMITED" } });
      expect(Number(last?.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      // Probes are never limited.
      expect((await limited.request("GET", "/healthz")).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});
