/** principalKey: the owner key a hold is placed and settled with. */
import { describe, expect, it } from "vitest";
import { principalKey } from "../../src/decision/owner.js";
import { limits } from "../../src/limits.js";

describe("principalKey", () => {
  it("is kind:issuer:id, so the same id under another kind or issuer is another owner", () => {
    const key = principalKey({ kind: "user", issuer: "https://idp.example", id: "u1" });
    expect(key).toBe("user:https://idp.example:u1");
    expect(principalKey({ kind: "workload", issuer: "https://idp.example", id: "u1" })).not.toBe(
      key,
    );
    expect(principalKey({ kind: "user", issuer: "https://other.example", id: "u1" })).not.toBe(key);
  });

  it("digests a key the ledger could not hold or that would read like another's", () => {
    const long = principalKey({ kind: "user", issuer: "https://idp.example", id: "u".repeat(256) });
    expect(long).toMatch(/^user#[0-9a-f]{64}$/);
    expect(long.length).toBeLessThanOrEqual(limits.ledgerKeyCharsMax);
    const a = principalKey({ kind: "user", issuer: "https://a", id: "8443:u" });
    const b = principalKey({ kind: "user", issuer: "https://a:8443", id: "u" });
    expect(b).toBe("user:https://a:8443:u");
    expect(a).toMatch(/^user#[0-9a-f]{64}$/);
    expect(a).not.toBe(b);
  });
});
