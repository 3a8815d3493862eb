/**
 * Separation of duties: admin routes accept only an admin issuer's token carrying the admin
 * role; decision routes refuse admin-issuer tokens. Also the development issuer end to end.
 */
import { createPrivateKey, createPublicKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  createIdentityVerifier,
  defaultAdminRole,
  defaultPlatformAdminRole,
  devAdminIssuer,
  devIssuer,
  devIssuers,
  mintDevToken,
} from "../../src/identity/index.js";
import { packageRoot } from "../../src/paths.js";
import {
  claimsFor,
  expectRefused,
  headerFor,
  issuerConfig,
  makeKey,
  newClock,
  signRaw,
} from "./fixtures.js";

describe("admin separation", () => {
  const clock = newClock();
  const userKey = makeKey("ES256", "users");
  const adminKey = makeKey("EdDSA", "admins");
  const users = issuerConfig([userKey], { issuer: "https://login.example.com" });
  const admins = issuerConfig([adminKey], { issuer: "https://admin.example.com", admin: true });
  const verifierPromise = createIdentityVerifier({ issuers: [users, admins], clock });
  const userToken = (roles: string[]) =>
    signRaw(userKey, headerFor(userKey), claimsFor(users, clock, { roles }));
  const adminToken = (roles: string[]) =>
    signRaw(adminKey, headerFor(adminKey), claimsFor(admins, clock, { roles }));

  it("accepts an admin issuer's token with the admin role on admin routes", async () => {
    const verifier = await verifierPromise;
    await expect(verifier.authenticateAdmin(adminToken([defaultAdminRole]))).resolves.toMatchObject(
      {
        issuer: admins.issuer,
        roles: [defaultAdminRole],
      },
    );
  });

  it("refuses a user token on admin routes, even one that claims the admin role", async () => {
    const verifier = await verifierPromise;
    for (const token of [userToken([]), userToken([defaultAdminRole])]) {
      const error = await expectRefused(verifier.authenticateAdmin(token), "AUTH_FORBIDDEN", token);
      expect(error.status).toBe(403);
    }
  });

  it("refuses an admin issuer's token without the admin role on admin routes", async () => {
    const verifier = await verifierPromise;
    const token = adminToken(["auditor"]);
    await expectRefused(verifier.authenticateAdmin(token), "AUTH_FORBIDDEN", token);
  });

  it("refuses admin-issuer tokens on decision routes", async () => {
    const verifier = await verifierPromise;
    const token = adminToken([defaultAdminRole]);
    await expectRefused(verifier.authenticate(token), "AUTH_FORBIDDEN", token);
    await expect(verifier.authenticate(userToken([]))).resolves.toMatchObject({
      issuer: users.issuer,
    });
  });

  it("honours a configured admin role", async () => {
    const verifier = await createIdentityVerifier({ issuers: [admins], clock, adminRole: "ops" });
    await expect(verifier.authenticateAdmin(adminToken(["ops"]))).resolves.toBeDefined();
    const token = adminToken([defaultAdminRole]);
    await expectRefused(verifier.authenticateAdmin(token), "AUTH_FORBIDDEN", token);
  });

  it("scopes an admin to its token's tenant unless it also carries the platform role", async () => {
    const verifier = await verifierPromise;
    const tenantAdmin = await verifier.authenticateAdmin(adminToken([defaultAdminRole]));
    expect(verifier.adminScope(tenantAdmin)).toEqual({
      kind: "tenant",
      tenant: tenantAdmin.tenant,
    });
    const platform = await verifier.authenticateAdmin(
      adminToken([defaultAdminRole, defaultPlatformAdminRole]),
    );
    expect(verifier.adminScope(platform)).toEqual({ kind: "platform" });
    // The platform role widens an admin; it does not make one.
    const token = adminToken([defaultPlatformAdminRole]);
    await expectRefused(verifier.authenticateAdmin(token), "AUTH_FORBIDDEN", token);
  });

  it("honours a configured platform admin role and refuses one equal to the admin role", async () => {
    const verifier = await createIdentityVerifier({
      issuers: [admins],
      clock,
      platformAdminRole: "ops:everything",
    });
    const configured = await verifier.authenticateAdmin(
      adminToken([defaultAdminRole, "ops:everything"]),
    );
    expect(verifier.adminScope(configured)).toEqual({ kind: "platform" });
    const byDefaultName = await verifier.authenticateAdmin(
      adminToken([defaultAdminRole, defaultPlatformAdminRole]),
    );
    expect(verifier.adminScope(byDefaultName).kind).toBe("tenant");
    await expect(
      createIdentityVerifier({ issuers: [admins], clock, platformAdminRole: defaultAdminRole }),
    ).rejects.toMatchObject({ code: "CONFIG_INVALID" });
  });

  it("still refuses an unverifiable token on admin routes with its own code", async () => {
    const verifier = await verifierPromise;
    await expectRefused(verifier.authenticateAdmin("x.y.z"), "AUTH_TOKEN_MALFORMED");
  });
});

describe("the development issuer", () => {
  it("commits a public JWKS that matches the private key", () => {
    const dir = join(packageRoot, "keys", "dev");
    const privateJwk = JSON.parse(readFileSync(join(dir, "issuer.private.jwk.json"), "utf8"));
    const jwks = JSON.parse(readFileSync(join(dir, "issuer.public.jwks.json"), "utf8"));
    const derived = createPublicKey(createPrivateKey({ key: privateJwk, format: "jwk" })).export({
      format: "jwk",
    });
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ ...derived, kid: privateJwk.kid, alg: "EdDSA" });
    expect(jwks.keys[0].d).toBeUndefined();
    expect(readFileSync(join(dir, "ISSUER-README.md"), "utf8")).toMatch(/DEVELOPMENT ONLY/);
  });

  it("mints user, workload and admin tokens the dev issuers accept", async () => {
    const clock = newClock();
    const verifier = await createIdentityVerifier({ issuers: devIssuers, clock });
    const user = await verifier.authenticate(
      await mintDevToken(
        { sub: "usr_1", tenant: "acme", plan: "trial", roles: ["member"], scopes: ["a", "b"] },
        clock,
      ),
    );
    expect(user).toMatchObject({
      kind: "user",
      id: "usr_1",
      tenant: "acme",
      plan: "trial",
      roles: ["member"],
      scopes: ["a", "b"],
      issuer: devIssuer.issuer,
      expMs: clock.nowMs() + 3_600_000,
    });
    const workload = await verifier.authenticate(
      await mintDevToken({ sub: "svc", tenant: "acme", plan: "pro", kind: "workload" }, clock),
    );
    expect(workload).toMatchObject({ kind: "workload", roles: [], scopes: [] });
    const adminToken = await mintDevToken(
      { sub: "ops", tenant: "acme", plan: "pro", admin: true },
      clock,
    );
    await expect(verifier.authenticateAdmin(adminToken)).resolves.toMatchObject({
      issuer: devAdminIssuer.issuer,
    });
    await expectRefused(verifier.authenticate(adminToken), "AUTH_FORBIDDEN", adminToken);
    const tenantAdmin = await verifier.authenticateAdmin(adminToken);
    expect(verifier.adminScope(tenantAdmin)).toEqual({ kind: "tenant", tenant: "acme" });
    const platformToken = await mintDevToken(
      { sub: "ops", tenant: "acme", plan: "pro", admin: true, platform: true },
      clock,
    );
    const platform = await verifier.authenticateAdmin(platformToken);
    expect(platform.roles).toEqual([defaultAdminRole, defaultPlatformAdminRole]);
    expect(verifier.adminScope(platform)).toEqual({ kind: "platform" });
    await expect(
      mintDevToken({ sub: "ops", tenant: "acme", plan: "pro", platform: true }, clock),
    ).rejects.toThrow(TypeError);
  });

  it("mints tokens that expire after ttlSeconds on the given clock", async () => {
    const clock = newClock();
    const verifier = await createIdentityVerifier({ issuers: devIssuers, clock });
    const token = await mintDevToken({ sub: "u", tenant: "t", plan: "p", ttlSeconds: 60 }, clock);
    await verifier.authenticate(token);
    clock.tick((60 + (devIssuer.clock_tolerance_seconds as number)) * 1000);
    await expectRefused(verifier.authenticate(token), "AUTH_TOKEN_EXPIRED", token);
    await expect(
      mintDevToken({ sub: "u", tenant: "t", plan: "p", ttlSeconds: 0 }, clock),
    ).rejects.toThrow(TypeError);
  });

  it("is trusted only where configured", async () => {
    const clock = newClock();
    const verifier = await createIdentityVerifier({
      issuers: [issuerConfig([makeKey("ES256")])],
      clock,
    });
    const token = await mintDevToken({ sub: "u", tenant: "t", plan: "p" }, clock);
    await expectRefused(verifier.authenticate(token), "AUTH_ISSUER_UNKNOWN", token);
  });
});
