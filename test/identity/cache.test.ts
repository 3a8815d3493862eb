/**
 * The verified-claims cache: proven by counting key lookups through an injected resolver, not
 * by timing. Entries die at exp (and at iat + max age), revocation is consulted on every call,
 * and the cache evicts the least recently used entry when full.
 */
import { describe, expect, it } from "vitest";
import {
  createIdentityVerifier,
  createKeyResolver,
  type IdentityVerifierOptions,
  type KeyResolverFactory,
  type RevocationQuery,
} from "../../src/identity/index.js";
import { limits } from "../../src/limits.js";
import {
  claimsFor,
  expectRefused,
  headerFor,
  issuerConfig,
  makeKey,
  newClock,
  nowSec,
  signRaw,
} from "./fixtures.js";

const key = makeKey("EdDSA");
const config = issuerConfig([key]);

async function setup(options: Partial<IdentityVerifierOptions> = {}) {
  const clock = newClock();
  const counter = { lookups: 0 };
  const keyResolverFactory: KeyResolverFactory = async (issuer, resolverOptions) => {
    const inner = await createKeyResolver(issuer, resolverOptions);
    return async (header, token) => {
      counter.lookups++;
      return inner(header, token);
    };
  };
  const verifier = await createIdentityVerifier({
    issuers: [config],
    clock,
    keyResolverFactory,
    ...options,
  });
  const token = (extra: Record<string, unknown> = {}) =>
    signRaw(key, headerFor(key), claimsFor(config, clock, extra));
  return { clock, counter, verifier, token };
}

describe("the verified-claims cache", () => {
  it("serves a second call from the cache without a key lookup", async () => {
    const { counter, verifier, token } = await setup();
    const t = token();
    const first = await verifier.authenticate(t);
    expect(counter.lookups).toBe(1);
    const second = await verifier.authenticate(t);
    expect(counter.lookups).toBe(1);
    expect(second).toEqual(first);
    expect(verifier.stats()).toEqual({ cacheEntries: 1, cacheHits: 1, cacheMisses: 1 });
    await verifier.authenticate(token({ jti: "another" }));
    expect(counter.lookups).toBe(2);
  });

  it("verifies every time when the cache is disabled", async () => {
    const { counter, verifier, token } = await setup({ cacheEntriesMax: 0 });
    const t = token();
    await verifier.authenticate(t);
    await verifier.authenticate(t);
    expect(counter.lookups).toBe(2);
  });

  it("never serves an entry at or past the token's exp, even within the clock tolerance", async () => {
    const { clock, counter, verifier, token } = await setup();
    const t = token({ exp: nowSec(clock) + 600 });
    await verifier.authenticate(t);
    clock.tick(599_999);
    await verifier.authenticate(t);
    expect(counter.lookups).toBe(1);
    clock.tick(1); // exactly exp: the cache is done; jose still accepts within its tolerance
    await verifier.authenticate(t);
    expect(counter.lookups).toBe(2);
    await verifier.authenticate(t); // and that acceptance is not cached
    expect(counter.lookups).toBe(3);
    clock.tick(config.clock_tolerance_seconds * 1000);
    await expectRefused(verifier.authenticate(t), "AUTH_TOKEN_EXPIRED", t);
  });

  it("never serves an entry past iat + max_token_age_seconds", async () => {
    const { clock, counter, verifier, token } = await setup();
    const now = nowSec(clock);
    const t = token({ iat: now - config.max_token_age_seconds + 100, exp: now + 600 });
    await verifier.authenticate(t);
    clock.tick(99_000);
    await verifier.authenticate(t);
    expect(counter.lookups).toBe(1);
    clock.tick(1_000);
    await verifier.authenticate(t);
    expect(counter.lookups).toBe(2);
  });

  it("refuses a revoked jti, principal or tenant on the very next call, cached or not", async () => {
    const revoked = {
      jti: new Set<string>(),
      principal: new Set<string>(),
      tenant: new Set<string>(),
    };
    const queries: RevocationQuery[] = [];
    const { counter, verifier, token } = await setup({
      isRevoked: async (query) => {
        queries.push(query);
        return (
          (query.jti !== undefined && revoked.jti.has(query.jti)) ||
          revoked.principal.has(query.principalId) ||
          revoked.tenant.has(query.tenant)
        );
      },
    });
    const t = token();
    await verifier.authenticate(t);
    await verifier.authenticate(t);
    expect(counter.lookups).toBe(1);
    expect(queries).toHaveLength(2); // consulted on the hit too
    expect(queries[1]).toEqual({
      jti: "jti-1",
      principalId: "usr_1",
      tenant: "acme",
      issuer: config.issuer,
      kind: "user",
    });

    for (const [set, value] of [
      [revoked.jti, "jti-1"],
      [revoked.principal, "usr_1"],
      [revoked.tenant, "acme"],
    ] as const) {
      await verifier.authenticate(t); // warm again
      set.add(value);
      await expectRefused(verifier.authenticate(t), "AUTH_TOKEN_REVOKED", t);
      set.delete(value);
    }
    await expect(verifier.authenticate(t)).resolves.toMatchObject({ id: "usr_1" });
  });

  it("accepts a synchronous revocation check", async () => {
    let revokedNow = false;
    const { verifier, token } = await setup({ isRevoked: () => revokedNow });
    const t = token();
    await verifier.authenticate(t);
    revokedNow = true;
    await expectRefused(verifier.authenticate(t), "AUTH_TOKEN_REVOKED", t);
  });

  it("fails closed, retryably, when the revocation check fails", async () => {
    const { verifier, token } = await setup({
      isRevoked: () => {
        throw new Error("store unreachable");
      },
    });
    const t = token();
    const error = await expectRefused(verifier.authenticate(t), "AUTH_REVOCATION_UNAVAILABLE", t);
    expect(error.retryable).toBe(true);
    expect(error.status).toBe(503);
  });

  it("evicts the least recently used entry when full", async () => {
    const { counter, verifier, token } = await setup({ cacheEntriesMax: 2 });
    const [a, b, c] = [token({ jti: "a" }), token({ jti: "b" }), token({ jti: "c" })];
    await verifier.authenticate(a);
    await verifier.authenticate(b);
    await verifier.authenticate(a); // a is now more recent than b
    expect(counter.lookups).toBe(2);
    await verifier.authenticate(c); // evicts b
    expect(verifier.stats().cacheEntries).toBe(2);
    await verifier.authenticate(a);
    expect(counter.lookups).toBe(3);
    await verifier.authenticate(b);
    expect(counter.lookups).toBe(4);
  });

  it("invalidates by jti, principal or everything", async () => {
    const { counter, verifier, token } = await setup();
    const [a, b] = [token({ jti: "a" }), token({ jti: "b", sub: "usr_2" })];
    await verifier.authenticate(a);
    await verifier.authenticate(b);
    expect(verifier.invalidate({ jti: "a" })).toBe(1);
    await verifier.authenticate(a);
    await verifier.authenticate(b);
    expect(counter.lookups).toBe(3);
    expect(verifier.invalidate({ principalId: "usr_2" })).toBe(1);
    expect(verifier.invalidate()).toBe(1);
    expect(verifier.stats().cacheEntries).toBe(0);
  });

  it("caches neither refusals nor the token itself", async () => {
    const { counter, verifier, token } = await setup();
    const t = token({ tenant: undefined });
    await expectRefused(verifier.authenticate(t), "AUTH_CLAIMS_INVALID", t);
    await expectRefused(verifier.authenticate(t), "AUTH_CLAIMS_INVALID", t);
    expect(counter.lookups).toBe(2);
    expect(verifier.stats().cacheEntries).toBe(0);
  });

  it("hands out frozen principals, so a caller cannot alter what the next caller gets", async () => {
    const { verifier, token } = await setup();
    const principal = await verifier.authenticate(token());
    expect(Object.isFrozen(principal)).toBe(true);
    expect(Object.isFrozen(principal.roles)).toBe(true);
    expect(() => (principal.roles as string[]).push("creditgate:admin")).toThrow(TypeError);
  });

  it("refuses a cache larger than limits.verifiedTokensCachedMax", async () => {
    await expectRefused(
      setup({ cacheEntriesMax: limits.verifiedTokensCachedMax + 1 }),
      "CONFIG_INVALID",
    );
  });
});
