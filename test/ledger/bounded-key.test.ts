/** Keys derived from caller ids always fit the ledger's identifier limit. */
import { describe, expect, it } from "vitest";
import { usageKeys, usagePlan } from "../../src/decision/usage.js";
import { boundedKey } from "../../src/ledger/bounded-key.js";
import { limits } from "../../src/limits.js";
import { internalKey } from "../../src/server/internal-keys.js";

describe("boundedKey", () => {
  it("keeps a readable key that fits and digests one that does not", () => {
    expect(boundedKey("scope", ["a"], "scope:a")).toBe("scope:a");
    const long = boundedKey("scope", ["a".repeat(300)], `scope:${"a".repeat(300)}`);
    expect(long).toMatch(/^scope#[0-9a-f]{64}$/);
    expect(long.length).toBeLessThanOrEqual(limits.ledgerKeyCharsMax);
    expect(boundedKey("scope", ["b".repeat(300)], `scope:${"b".repeat(300)}`)).not.toBe(long);
  });

  it("digests on request, and refuses readable forms a digest could equal", () => {
    expect(boundedKey("k", ["x"], "k:x", { digest: true })).toMatch(/^k#[0-9a-f]{64}$/);
    expect(() => boundedKey("k", ["x"], "k#x")).toThrow(TypeError);
    expect(() => boundedKey("k", ["x"], "other:x")).toThrow(TypeError);
  });
});

describe("keys derived from ids at their limits", () => {
  const tenant = "t".repeat(limits.tenantIdCharsMax);
  const principalId = "p".repeat(limits.principalIdCharsMax);
  const keyId = "j".repeat(limits.tokenIdCharsMax);
  const workflowId = "w".repeat(limits.workflowIdCharsMax);

  it("usage scopes fit the ledger and stay distinct", () => {
    const plan = usagePlan(
      { tenant, principalId, keyId },
      { type: "prompt.submit", workflow_id: workflowId },
    );
    const scopes = usageKeys(plan).map((key) => key.scope);
    expect(scopes).toHaveLength(3);
    expect(new Set(scopes).size).toBe(3);
    for (const scope of scopes) expect(scope.length).toBeLessThanOrEqual(limits.ledgerKeyCharsMax);
  });

  it("short ids keep their readable scopes", () => {
    const plan = usagePlan(
      { tenant: "acme", principalId: "usr_1", keyId: "jti-1" },
      { type: "prompt.submit", workflow_id: "wf-1" },
    );
    expect(usageKeys(plan).map((key) => key.scope)).toEqual([
      "principal:acme/usr_1",
      "key:acme/jti-1",
      "workflow:acme/wf-1",
    ]);
  });

  it("the service's own idempotency keys fit the ledger", () => {
    const holdId = "h".repeat(limits.holdIdCharsMax);
    const key = internalKey("release", holdId);
    expect(key.length).toBeLessThanOrEqual(limits.ledgerKeyCharsMax);
    expect(key.startsWith("~release#")).toBe(true);
    expect(internalKey("release", "hld_1")).toBe("~release:hld_1");
  });
});
