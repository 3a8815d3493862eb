/** Issuer configuration: schema rules, every problem collected, bounds equal to src/limits.ts. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isCreditgateError } from "../../src/errors.js";
import {
  defaultClaimMapping,
  type IssuerConfig,
  parseIssuerConfigs,
} from "../../src/identity/index.js";
import { limits } from "../../src/limits.js";
import { packageRoot } from "../../src/paths.js";
import { issuerConfig, makeKey } from "./fixtures.js";

const key = makeKey("ES256");
const good = issuerConfig([key]);

function problemsOf(values: readonly unknown[]): string {
  try {
    parseIssuerConfigs(values);
  } catch (error) {
    if (isCreditgateError(error, "CONFIG_INVALID")) return error.message;
    throw error;
  }
  throw new Error("expected CONFIG_INVALID");
}

describe("parseIssuerConfigs", () => {
  it("applies defaults and freezes the result", () => {
    const [issuer] = parseIssuerConfigs([good]);
    expect(issuer?.claims).toEqual(defaultClaimMapping);
    expect(defaultClaimMapping).toEqual({
      id: "sub",
      tenant: "tenant",
      plan: "plan",
      roles: "roles",
      scopes: "scope",
    });
    expect(issuer?.admin).toBe(false);
    expect(Object.isFrozen(issuer)).toBe(true);
    expect(Object.isFrozen(issuer?.audiences)).toBe(true);
  });

  it.each([
    ["HS256", { algorithms: ["HS256"] }, /algorithms\/0/],
    ["none", { algorithms: ["none"] }, /algorithms\/0/],
    ["no algorithms", { algorithms: [] }, /algorithms/],
    ["no audiences", { audiences: [] }, /audiences/],
    ["a task issuer", { principal_kind: "task" }, /principal_kind/],
    ["tolerance over 60 s", { clock_tolerance_seconds: 61 }, /clock_tolerance_seconds/],
    [
      "an unbounded max age",
      { max_token_age_seconds: limits.tokenMaxAgeSecondsMax + 1 },
      /max_token_age_seconds/,
    ],
    ["two key sources", { jwks_url: "https://idp.example.com/jwks" }, /oneOf/],
    [
      "plain http to a remote host",
      { jwks: undefined, jwks_url: "http://idp.example.com/jwks" },
      /jwks_url/,
    ],
    ["an unknown member", { audience: "x" }, /unknown property "audience"/],
    ["a symmetric key", { jwks: { keys: [{ kty: "oct", k: "c2VjcmV0" }] } }, /keys\/0/],
    ["a private key", { jwks: { keys: [{ ...key.publicJwk, d: "x" }] } }, /keys\/0\/d/],
    ["an unknown claims mapping", { claims: { email: "email" } }, /claims/],
    ["a claim path with a trailing dot", { claims: { tenant: "org." } }, /claims\/tenant/],
  ])("refuses %s", (_name, change, pattern) => {
    const config = Object.fromEntries(
      Object.entries({ ...good, ...change }).filter(([, value]) => value !== undefined),
    );
    expect(problemsOf([config])).toMatch(pattern);
  });

  it("accepts loopback http for tests and local development", () => {
    const { jwks: _jwks, ...rest } = good;
    expect(() =>
      parseIssuerConfigs([{ ...rest, jwks_url: "http://127.0.0.1:8080/jwks.json" }]),
    ).not.toThrow();
  });

  it("collects every problem of every issuer in one error, duplicates included", () => {
    const message = problemsOf([
      { ...good, algorithms: ["HS256"] },
      good,
      good,
      { ...good, issuer: "https://other.example.com", clock_tolerance_seconds: -1 },
    ]);
    expect(message).toMatch(/issuers\[0\]/);
    expect(message).toMatch(/issuers\[2\]: duplicate issuer/);
    expect(message).toMatch(/issuers\[3\]/);
  });

  it("refuses an empty or oversized issuer list", () => {
    expect(problemsOf([])).toMatch(/at least one/);
    const many = Array.from({ length: limits.trustedIssuersMax + 1 }, (_, i) => ({
      ...good,
      issuer: `https://idp${i}.example.com`,
    }));
    expect(problemsOf(many)).toMatch(/at most/);
  });
});

describe("the issuer schema", () => {
  const schema = JSON.parse(
    readFileSync(join(packageRoot, "schemas", "identity-issuer.schema.json"), "utf8"),
  ) as { properties: Record<string, { maximum?: number; items?: { enum?: string[] } }> };

  it("bounds token age and tolerance exactly as src/limits.ts does", () => {
    expect(schema.properties.max_token_age_seconds?.maximum).toBe(limits.tokenMaxAgeSecondsMax);
    expect(schema.properties.clock_tolerance_seconds?.maximum).toBe(
      limits.tokenClockToleranceSecondsMax,
    );
  });

  it("allows asymmetric algorithms only", () => {
    const algorithms = schema.properties.algorithms?.items?.enum ?? [];
    expect(algorithms.length).toBeGreaterThan(0);
    for (const alg of algorithms) expect(alg).toMatch(/^(RS|PS|ES)(256|384|512)$|^EdDSA$/);
  });

  it("types the committed dev issuers as valid configuration", async () => {
    const { devIssuers } = await import("../../src/identity/index.js");
    const issuers: readonly IssuerConfig[] = parseIssuerConfigs(devIssuers);
    expect(issuers.map((i) => i.issuer)).toEqual([
      "https://dev.creditgate.local",
      "https://dev.creditgate.local/workload",
      "https://dev.creditgate.local/admin",
    ]);
  });
});
