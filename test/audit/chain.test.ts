import { describe, expect, it } from "vitest";
import { canonicalize } from "../../src/audit/canonical.js";
import { canonicalBody } from "../../src/audit/chain.js";
import {
  type AuditRecord,
  assertChainIntact,
  type ChainHead,
  emptyHead,
  linkRecord,
  maskedValue,
  maskFields,
  parseJsonLines,
  toJsonLine,
  verifyChain,
} from "../../src/audit/index.js";

function buildChain(n: number): AuditRecord[] {
  let head: ChainHead = emptyHead;
  const out: AuditRecord[] = [];
  for (let i = 0; i < n; i++) {
    const record = linkRecord(head, {
      at_ms: 1_000 + i,
      kind: "debit",
      tenant: "t1",
      data: { amount: i, nested: { k: "v" } },
    });
    out.push(record);
    head = record;
  }
  return out;
}

describe("hash chain", () => {
  it("verifies an intact chain and reports its head", async () => {
    const chain = buildChain(5);
    const result = await verifyChain(chain);
    expect(result).toEqual({ ok: true, count: 5, head: { seq: 5, hash: chain[4]!.hash } });
  });

  it("names the first record whose content changed", async () => {
    const chain = buildChain(6);
    chain[2] = { ...chain[2]!, data: { amount: 999, nested: { k: "v" } } };
    expect(await verifyChain(chain)).toMatchObject({
      ok: false,
      brokenSeq: 3,
      reason: "hash_mismatch",
    });
  });

  it("names a dropped record as a sequence gap", async () => {
    const chain = buildChain(6);
    chain.splice(3, 1);
    expect(await verifyChain(chain)).toMatchObject({ ok: false, brokenSeq: 4, reason: "seq_gap" });
  });

  it("detects a record re-hashed after tampering by its successor's prev_hash", async () => {
    const chain = buildChain(4);
    const { hash: _drop, ...rest } = chain[1]!;
    const forged = linkRecord({ seq: 1, hash: chain[0]!.hash }, { ...rest, data: { amount: -1 } });
    chain[1] = forged;
    expect(await verifyChain(chain)).toMatchObject({
      ok: false,
      brokenSeq: 3,
      reason: "prev_hash_mismatch",
    });
  });

  it("turns a broken chain into AUDIT_CHAIN_BROKEN naming the record", async () => {
    const chain = buildChain(3);
    chain[1] = { ...chain[1]!, at_ms: 0 };
    const result = await verifyChain(chain);
    expect(() => assertChainIntact(result)).toThrow(
      expect.objectContaining({
        code: "AUDIT_CHAIN_BROKEN",
        details: { brokenSeq: 2, reason: "hash_mismatch", verified: 1 },
      }),
    );
    expect(() => assertChainIntact({ ok: true, count: 0, head: emptyHead })).not.toThrow();
  });

  it("exports JSON Lines that re-verify", async () => {
    const chain = buildChain(3);
    const text = chain.map(toJsonLine).join("");
    expect(text.split("\n")).toHaveLength(4);
    expect((await verifyChain(parseJsonLines(text))).ok).toBe(true);
  });
});

describe("canonicalBody", () => {
  it("equals canonicalize of the record without its hash", () => {
    for (const record of buildChain(3)) {
      const { hash: _hash, ...rest } = record;
      expect(canonicalBody(rest)).toBe(canonicalize(rest));
      expect(canonicalBody({ ...rest, tenant: null })).toBe(
        canonicalize({ ...rest, tenant: null }),
      );
    }
  });
});

describe("masking", () => {
  it("replaces configured paths and leaves the input untouched", () => {
    const data = { principal: { id: "u1", email: "a@b" }, amount: 3 };
    const masked = maskFields(data, ["principal.email", "missing.path", "amount"]);
    expect(masked).toEqual({ principal: { id: "u1", email: maskedValue }, amount: maskedValue });
    expect(data.principal.email).toBe("a@b");
  });
});
