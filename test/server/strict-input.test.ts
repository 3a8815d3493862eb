/**
 * Nothing a caller sends is ignored: over every route of the API table, an unknown query
 * parameter and a body on a route that takes none are refused with REQUEST_INVALID naming them.
 * Errors the router raises answer in the one envelope; a leap second is refused by name.
 */
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { limits } from "../../src/limits.js";
import { validate } from "../../src/schema-registry.js";
import { type ApiRoute, apiRoutes } from "../../src/server/api.js";
import { baseRequests, routeHeaders, routePath, tokenFor } from "../helpers/route-requests.js";
import { decisionHeaders, startTestService, type TestService } from "../helpers/service.js";

let svc: TestService;

beforeAll(async () => {
  svc = await startTestService();
  await svc.grant("acme", "paid", 10_000);
});
afterAll(async () => {
  await svc?.close();
});

interface Violation {
  in: string;
  path: string;
  message: string;
}

function violationsOf(body: unknown): Violation[] {
  expect(validate("api/error", body)).toEqual([]);
  const error = (body as { error: { code: string; details: { violations?: Violation[] } } }).error;
  expect(error.code).toBe("REQUEST_INVALID");
  return error.details.violations ?? [];
}

const routes = Object.entries(apiRoutes).map(([name, route]) => [name, route as ApiRoute] as const);
const bodyless = routes.filter(([, route]) => route.body === undefined);

/** A raw request, so a GET can carry a body (fetch refuses to send one). */
function raw(
  method: string,
  path: string,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; body: unknown }> {
  const url = new URL(path, svc.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method, headers: { ...headers, "content-length": String(Buffer.byteLength(body)) } },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

describe("unknown query parameters", () => {
  it.each(routes)("%s refuses one, naming it", async (name, route) => {
    const base = baseRequests[name as keyof typeof apiRoutes];
    const token = await tokenFor(svc, route);
    const res = await svc.request(
      route.method,
      routePath(route, base.params, { ...base.query, dry_run: "true" }),
      {
        ...(token === undefined ? {} : { token }),
        headers: routeHeaders(route),
        ...(base.body === undefined ? {} : { body: base.body }),
      },
    );
    expect(res.status).toBe(400);
    expect(violationsOf(res.body)).toContainEqual({
      in: "querystring",
      path: "",
      message: 'has unknown property "dry_run"',
    });
  });

  it("so a decision asked as a query-string dry run is not charged", async () => {
    const credits = async () => {
      const { posted, held } = await svc.service.store.balances("acme");
      return { posted, held };
    };
    const before = await credits();
    const res = await svc.request("POST", "/v1/decisions?dry_run=true", {
      token: await svc.userToken(),
      headers: decisionHeaders(),
      body: { action: { type: "prompt.submit" } },
    });
    expect(res.status).toBe(400);
    expect(await credits()).toEqual(before);
  });
});

describe("bodies on routes that take none", () => {
  it.each(bodyless)("%s refuses a body with a field, naming it", async (name, route) => {
    const base = baseRequests[name as keyof typeof apiRoutes];
    const token = await tokenFor(svc, route);
    const headers = {
      ...routeHeaders(route),
      "content-type": "application/json",
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    };
    const res = await raw(
      route.method,
      routePath(route, base.params, base.query),
      headers,
      JSON.stringify({ amount: 1 }),
    );
    expect(res.status).toBe(400);
    const violations = violationsOf(res.body);
    expect(violations.length).toBe(1);
    expect(violations[0]?.in).toBe("body");
    if (route.method === "POST")
      expect(violations[0]?.message).toBe('has unknown property "amount"');
  });

  it("a release still takes no body or an empty one", async () => {
    const token = await svc.userToken();
    for (const body of [undefined, {}]) {
      const res = await svc.request("POST", "/v1/holds/hld_missing/release", {
        token,
        ...(body === undefined ? {} : { body }),
      });
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ error: { code: "NOT_FOUND" } });
    }
  });
});

describe("router errors", () => {
  it("a path parameter at its limit reaches the route; over it, the schema refuses it", async () => {
    const admin = await svc.adminToken();
    const tenant = "t".repeat(limits.tenantIdCharsMax);
    await svc.grant(tenant, "paid", 5);
    const ok = await svc.request("GET", `/v1/tenants/${tenant}/balances`, { token: admin });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ tenant, posted: { paid: 5 } });
    const over = await svc.request("GET", `/v1/tenants/${tenant}t/balances`, { token: admin });
    expect(over.status).toBe(400);
    expect(violationsOf(over.body)[0]).toMatchObject({ in: "params", path: "/tenant" });
  });

  it("a path parameter longer than the router takes is REQUEST_INVALID, not fastify's 414", async () => {
    const res = await svc.request(
      "POST",
      `/v1/holds/${"h".repeat(limits.routeParamCharsMax + 1)}/release`,
      { token: await svc.userToken() },
    );
    expect(res.status).toBe(400);
    expect(violationsOf(res.body)[0]).toMatchObject({ in: "params" });
  });

  it("every other framework error answers in the envelope with a stable code", async () => {
    const user = await svc.userToken();
    const cases: [string, string, Record<string, string>, string | undefined, number, string][] = [
      ["GET", "/v1/tenants/%zz/balances", {}, undefined, 400, "REQUEST_MALFORMED"],
      ["GET", "/v1/nothing-here", {}, undefined, 404, "NOT_FOUND"],
      [
        "POST",
        "/v1/decisions",
        { "content-type": "application/json" },
        "{",
        400,
        "REQUEST_MALFORMED",
      ],
      [
        "POST",
        "/v1/decisions",
        { "content-type": "text/plain" },
        "x",
        415,
        "REQUEST_UNSUPPORTED_MEDIA_TYPE",
      ],
      [
        "POST",
        "/v1/decisions",
        { "content-type": "application/json" },
        JSON.stringify({ pad: "x".repeat(limits.requestBodyBytesMax) }),
        413,
        "REQUEST_TOO_LARGE",
      ],
    ];
    for (const [method, path, headers, body, status, code] of cases) {
      const res = await svc.request(method, path, {
        token: user,
        headers: { ...decisionHeaders(), ...headers },
        ...(body === undefined ? {} : { body }),
      });
      expect({ path, status: res.status }).toEqual({ path, status });
      expect(validate("api/error", res.body)).toEqual([]);
      expect(res.body).toMatchObject({ error: { code } });
    }
  });
});

describe("leap seconds", () => {
  const leap = "2016-12-31T23:59:60Z";

  it.each(["effective_at", "expires_at"])("a grant's %s is refused by name", async (field) => {
    const res = await svc.request("POST", "/v1/admin/grants", {
      token: await svc.adminToken(),
      headers: decisionHeaders(),
      body: { tenant: "acme", class: "paid", amount: 1, [field]: leap },
    });
    expect(res.status).toBe(400);
    expect(violationsOf(res.body)).toEqual([
      {
        in: "body",
        path: `/${field}`,
        message: "is a leap second, which this service cannot represent",
      },
    ]);
  });

  it.each(["from", "to"])("an audit query's %s is refused by name", async (field) => {
    const res = await svc.request("GET", `/v1/audit?${field}=${encodeURIComponent(leap)}`, {
      token: await svc.adminToken(),
    });
    expect(res.status).toBe(400);
    expect(violationsOf(res.body)[0]).toMatchObject({ in: "querystring", path: `/${field}` });
  });
});
