/** Happy paths per issuer kind and algorithm, claim-mapping variants, and key sources. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIdentityVerifier, type IssuerConfig } from "../../src/identity/index.js";
import {
  claimsFor,
  expectRefused,
  headerFor,
  issuerConfig,
  makeKey,
  newClock,
  signRaw,
  type TestAlg,
} from "./fixtures.js";

const clock = newClock();

describe("authenticate", () => {
  it.each(["ES256", "RS256", "PS256", "EdDSA"] as TestAlg[])(
    "verifies a user token signed with %s",
    async (alg) => {
      const key = makeKey(alg);
      const config = issuerConfig([key]);
      const verifier = await createIdentityVerifier({ issuers: [config], clock });
      const claims = claimsFor(config, clock);
      const principal = await verifier.authenticate(signRaw(key, headerFor(key), claims));
      expect(principal).toEqual({
        kind: "user",
        id: "usr_1",
        tenant: "acme",
        plan: "pro",
        roles: ["member"],
        scopes: ["prompt.submit", "model.infer"],
        jti: "jti-1",
        expMs: (claims.exp as number) * 1000,
        issuer: config.issuer,
        tokenHash: expect.stringMatching(/^[0-9a-f]{64}$/),
      });
    },
  );

  it("routes each token to its own issuer and takes the principal kind from the issuer", async () => {
    const userKey = makeKey("ES256", "idp-1");
    const workloadKey = makeKey("EdDSA", "wl-1");
    const users = issuerConfig([userKey], { issuer: "https://login.example.com" });
    const workloads = issuerConfig([workloadKey], {
      issuer: "https://workloads.example.com",
      principal_kind: "workload",
      audiences: ["creditgate", "creditgate-internal"],
    });
    const verifier = await createIdentityVerifier({ issuers: [users, workloads], clock });
    const user = await verifier.authenticate(
      signRaw(userKey, headerFor(userKey), claimsFor(users, clock)),
    );
    expect(user).toMatchObject({ kind: "user", issuer: users.issuer });
    const workload = await verifier.authenticate(
      signRaw(
        workloadKey,
        headerFor(workloadKey),
        claimsFor(workloads, clock, {
          aud: "creditgate-internal",
          sub: "svc-summarizer",
          kind: "user",
        }),
      ),
    );
    // A `kind` claim cannot turn a workload into a user: kind belongs to the issuer.
    expect(workload).toMatchObject({
      kind: "workload",
      id: "svc-summarizer",
      issuer: workloads.issuer,
    });
  });

  it("accepts a token without jti and without roles or scopes", async () => {
    const key = makeKey("ES256");
    const config = issuerConfig([key]);
    const verifier = await createIdentityVerifier({ issuers: [config], clock });
    const principal = await verifier.authenticate(
      signRaw(
        key,
        headerFor(key),
        claimsFor(config, clock, { jti: undefined, roles: undefined, scope: undefined }),
      ),
    );
    expect(principal.jti).toBeUndefined();
    expect(principal).toMatchObject({ roles: [], scopes: [] });
  });
});

describe("claims mapping", () => {
  const key = makeKey("ES256");
  const mapped = issuerConfig([key], {
    claims: {
      id: "https://example.com/uid",
      tenant: "org.id",
      plan: "https://example.com/billing.plan",
      roles: "realm_access.roles",
      scopes: "scp",
    },
  });

  it("reads URL-named claims, nested paths, array scopes and de-duplicates", async () => {
    const verifier = await createIdentityVerifier({ issuers: [mapped], clock });
    const claims = claimsFor(mapped, clock, {
      "https://example.com/uid": "u-42",
      org: { id: "org-7", name: "Acme" },
      "https://example.com/billing.plan": "team",
      realm_access: { roles: ["reader", "writer", "reader"] },
      scp: ["tool.call", "agent.task"],
      tenant: "ignored",
      plan: "ignored",
    });
    const principal = await verifier.authenticate(signRaw(key, headerFor(key), claims));
    expect(principal).toMatchObject({
      id: "u-42",
      tenant: "org-7",
      plan: "team",
      roles: ["reader", "writer"],
      scopes: ["tool.call", "agent.task"],
    });
  });

  it("splits a space-separated scope string and ignores repeated spaces", async () => {
    const verifier = await createIdentityVerifier({ issuers: [mapped], clock });
    const claims = claimsFor(mapped, clock, {
      "https://example.com/uid": "u-42",
      org: { id: "org-7" },
      "https://example.com/billing.plan": "team",
      realm_access: { roles: "a  b" },
      scp: " tool.call  agent.task ",
    });
    const principal = await verifier.authenticate(signRaw(key, headerFor(key), claims));
    expect(principal).toMatchObject({ roles: ["a", "b"], scopes: ["tool.call", "agent.task"] });
  });

  it("refuses a nested path that is missing or runs through a non-object", async () => {
    const verifier = await createIdentityVerifier({ issuers: [mapped], clock });
    const base = {
      "https://example.com/uid": "u-42",
      "https://example.com/billing.plan": "team",
    };
    for (const org of [undefined, "org-7", ["org-7"], { name: "Acme" }]) {
      const token = signRaw(key, headerFor(key), claimsFor(mapped, clock, { ...base, org }));
      await expectRefused(verifier.authenticate(token), "AUTH_CLAIMS_INVALID", token);
    }
  });

  it("never resolves a claim path through Object.prototype", async () => {
    // Through the prototype, "constructor.name" would be the string "Object": a plausible tenant.
    for (const tenant of [
      "constructor.name",
      "org.constructor.name",
      "org.__proto__.constructor.name",
    ]) {
      const config = issuerConfig([key], { claims: { tenant } });
      const verifier = await createIdentityVerifier({ issuers: [config], clock });
      const token = signRaw(
        key,
        headerFor(key),
        claimsFor(config, clock, { org: {}, tenant: undefined }),
      );
      await expectRefused(verifier.authenticate(token), "AUTH_CLAIMS_INVALID", token);
    }
  });
});

describe("key sources", () => {
  const key = makeKey("ES256", "file-1");

  it("loads jwks_file relative to baseDir", async () => {
    const dir = mkdtempSync(join(tmpdir(), "creditgate-jwks-"));
    writeFileSync(join(dir, "jwks.json"), JSON.stringify({ keys: [key.publicJwk] }));
    const { jwks: _inline, ...rest } = issuerConfig([key]);
    const config: IssuerConfig = { ...rest, jwks_file: "jwks.json" };
    const verifier = await createIdentityVerifier({ issuers: [config], clock, baseDir: dir });
    await expect(
      verifier.authenticate(signRaw(key, headerFor(key), claimsFor(config, clock))),
    ).resolves.toMatchObject({ tenant: "acme" });
  });

  it("refuses at start-up a jwks_file that is missing or holds private key material", async () => {
    const dir = mkdtempSync(join(tmpdir(), "creditgate-jwks-"));
    const { jwks: _inline, ...rest } = issuerConfig([key]);
    await expectRefused(
      createIdentityVerifier({ issuers: [{ ...rest, jwks_file: "absent.json" }], baseDir: dir }),
      "CONFIG_INVALID",
    );
    const privateJwk = key.privateKey.export({ format: "jwk" });
    writeFileSync(
      join(dir, "private.json"),
      JSON.stringify({ keys: [{ ...privateJwk, kid: "x" }] }),
    );
    const error = await expectRefused(
      createIdentityVerifier({ issuers: [{ ...rest, jwks_file: "private.json" }], baseDir: dir }),
      "CONFIG_INVALID",
    );
    expect(error.message).toMatch(/\/keys\/0\/d/);
  });

  describe("jwks_url", () => {
    let server: Server;
    let baseUrl: string;
    let requests = 0;
    let failing = false;

    beforeAll(async () => {
      server = createServer((request, response) => {
        requests++;
        if (failing || request.url !== "/jwks.json") {
          response.writeHead(500).end();
          return;
        }
        response.writeHead(200, { "content-type": "application/json" });
        response.end(JSON.stringify({ keys: [key.publicJwk] }));
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    const remoteConfig = (path: string): IssuerConfig => {
      const { jwks: _inline, ...rest } = issuerConfig([key]);
      return { ...rest, jwks_url: `${baseUrl}${path}` };
    };

    it("fetches the key set once and verifies with it", async () => {
      failing = false;
      const config = remoteConfig("/jwks.json");
      const verifier = await createIdentityVerifier({
        issuers: [config],
        clock,
        cacheEntriesMax: 0,
      });
      const before = requests;
      const token = signRaw(key, headerFor(key), claimsFor(config, clock));
      await verifier.authenticate(token);
      await verifier.authenticate(token);
      expect(requests - before).toBe(1);
      // An unknown kid right after a fetch is refused without refetching (cooldown).
      const unknown = signRaw(key, headerFor(key, { kid: "other" }), claimsFor(config, clock));
      await expectRefused(verifier.authenticate(unknown), "AUTH_TOKEN_INVALID", unknown);
      expect(requests - before).toBe(1);
    });

    it("fails closed and retryably when the key set cannot be fetched", async () => {
      failing = true;
      const config = remoteConfig("/jwks.json");
      const verifier = await createIdentityVerifier({ issuers: [config], clock });
      const token = signRaw(key, headerFor(key), claimsFor(config, clock));
      const error = await expectRefused(
        verifier.authenticate(token),
        "AUTH_JWKS_UNAVAILABLE",
        token,
      );
      expect(error).toMatchObject({ status: 503, retryable: true });
      failing = false;
    });
  });
});
