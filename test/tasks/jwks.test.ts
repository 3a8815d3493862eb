/** GET /.well-known/jwks.json over a real service, and task tokens verified by that service. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validate } from "../../src/schema-registry.js";
import { startTestService, type TestService } from "../helpers/service.js";
import { taskRequest } from "./fixtures.js";

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(async () => {
  await svc.close();
});

describe("GET /.well-known/jwks.json", () => {
  it("lists the published task keys, cacheable for a minute, without authentication", async () => {
    const keys = svc.service.tasks.keys;
    const res = await svc.request("GET", "/.well-known/jwks.json");
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("max-age=60");
    expect(validate("api/jwks-response", res.body)).toEqual([]);
    const body = res.body as { keys: Record<string, unknown>[] };
    expect(body.keys).toHaveLength(1);
    expect(body.keys[0]).toEqual({
      kty: "OKP",
      crv: "Ed25519",
      x: expect.any(String),
      kid: (await keys.signingKey()).kid,
      alg: "EdDSA",
      use: "sig",
    });
    expect(JSON.stringify(body)).not.toContain('"d"');

    const { added } = await keys.rotate();
    const after = (await svc.request("GET", "/.well-known/jwks.json")).body as {
      keys: { kid: string }[];
    };
    expect(after.keys.map((k) => k.kid)).toContain(added.kid);
    expect(after.keys).toHaveLength(2);
  });

  it("is documented in /openapi.json", async () => {
    const doc = (await svc.request("GET", "/openapi.json")).body as {
      paths: Record<string, unknown>;
    };
    expect(doc.paths).toHaveProperty("/.well-known/jwks.json");
  });

  it("serves keys that verify the tokens the service signs", async () => {
    const signed = await svc.service.tasks.sign(taskRequest());
    const principal = await svc.service.identity.authenticate(signed.token);
    expect(principal.kind).toBe("task");
    expect(principal.task).toMatchObject({ id: "tsk_1", holdId: "hld_1", budget: 500 });
    const jwks = (await svc.request("GET", "/.well-known/jwks.json")).body as {
      keys: { kid: string }[];
    };
    expect(jwks.keys.map((k) => k.kid)).toContain(signed.kid);
  });
});
