/**
 * Masking never changes a retry: for every maskable path, an identical retry answers the same
 * bytes, a conflicting one IDEMPOTENCY_CONFLICT, and the chain verifies; the audit record's
 * response is the response sent; usage counters and idempotency records hold no raw principal or
 * token id. Real SQLite store, committed bundle, virtual clock.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { canonicalize, type JsonValue } from "../../src/audit/canonical.js";
import { maskablePaths } from "../../src/audit/maskable.js";
import { Pseudonyms } from "../../src/audit/pseudonym.js";
import { ManualClock } from "../../src/clock.js";
import { DecisionEngine } from "../../src/decision/engine.js";
import type { DecideRequest, DecisionResponse } from "../../src/decision/types.js";
import type { VerifiedPrincipal } from "../../src/identity/index.js";
import { readBundleFile } from "../../src/policy/bundle.js";
import { PolicyEvaluator } from "../../src/policy/evaluator.js";
import type { Action } from "../../src/policy/types.js";
import { SqliteLedgerStore } from "../../src/storage/sqlite/store.js";
import { committedBundlePath, devVerificationKey } from "../helpers/bundles.js";

const clock = new ManualClock(Date.UTC(2026, 10, 24, 12));
const pseudonyms = new Pseudonyms(Buffer.alloc(32, 9));
let evaluator: PolicyEvaluator;
let dir: string;
let path: string;

beforeAll(async () => {
  evaluator = await PolicyEvaluator.create(
    await readBundleFile(committedBundlePath, { verificationKey: await devVerificationKey() }),
  );
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "creditgate-masking-"));
  path = join(dir, "ledger.db");
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const who: VerifiedPrincipal = {
  kind: "user",
  id: "usr_secret",
  tenant: "acme",
  plan: "pro",
  roles: [],
  scopes: [],
  jti: "jti-secret",
  expMs: clock.nowMs() + 3_600_000,
  issuer: "https://idp.example.com",
  tokenHash: "0".repeat(64),
};

const shapes: readonly [string, Action][] = [
  ["a debit", { type: "prompt.submit" }],
  ["a hold", { type: "model.infer", model: "gpt-4o-mini", units: { input_tokens: 1_000 } }],
  ["a fee and a hold", { type: "agent.task", task_id: "t-1", units: { budget: 5_000 } }],
  ["a deny", { type: "no.such" }],
];

async function open(maskFields: readonly string[]) {
  const store = SqliteLedgerStore.open({ path, clock, maskFields });
  const granted = await store.grant({
    tenant: "acme",
    key: "g",
    class: "paid",
    amount: 100_000,
    source: "test",
    audit: { actor: { kind: "user", id: "adm_secret", issuer: "https://idp.example.com" } },
  });
  expect(granted.ok).toBe(true);
  const engine = new DecisionEngine({
    policy: { current: evaluator },
    store,
    clock,
    holdTtlMs: 60_000,
    pseudonyms,
  });
  return { store, engine };
}

const ask = (action: Action, key: string, principal = who): DecideRequest => ({
  principal,
  action,
  idempotencyKey: key,
});

const bytes = (response: DecisionResponse) => canonicalize(response as unknown as JsonValue);

describe.each(maskablePaths)("with audit.mask_fields [%s]", (maskPath) => {
  it("answers identical retries byte for byte, conflicting ones 409, and the chain verifies", async () => {
    const { store, engine } = await open([maskPath]);
    try {
      for (const [name, action] of shapes) {
        const first = await engine.decide(ask(action, `k-${name}`));
        clock.tick(1_000);
        const again = await engine.decide(ask(action, `k-${name}`));
        expect(bytes(again)).toBe(bytes(first));
        await expect(engine.decide(ask({ type: "tool.call" }, `k-${name}`))).rejects.toMatchObject({
          code: "IDEMPOTENCY_CONFLICT",
          details: { reason: "different_request" },
        });
        await expect(
          engine.decide(ask(action, `k-${name}`, { ...who, id: "usr_other" })),
        ).rejects.toMatchObject({ code: "IDEMPOTENCY_CONFLICT" });
      }
      // An admin write under the masked actor: its retry is the ledger's own `exists`.
      const grant = { tenant: "acme", key: "g", class: "paid", amount: 100_000, source: "test" };
      expect(await store.grant({ ...grant, class: "paid" })).toMatchObject({ code: "exists" });
      expect(await store.grant({ ...grant, class: "paid", amount: 1 })).toMatchObject({
        ok: false,
        code: "exists_with_different_request",
      });
      await store.recordEvent({ kind: "auth", tenant: null, data: { ip: "203.0.113.9" } });
      expect((await store.verifyAudit()).ok).toBe(true);
      const records = await store.auditRecords(0, 1_000);
      const [head, ...rest] = maskPath.split(".");
      const masked = records.filter((r) => {
        let node: unknown = r.data[head as string];
        for (const key of rest) node = (node as Record<string, unknown> | null)?.[key];
        return node === "[masked]";
      });
      expect(masked.length).toBeGreaterThan(0);
    } finally {
      await store.close();
    }
  });
});

describe("what is recorded", () => {
  it("records in the audit trail the response that was sent, after a debit and a hold", async () => {
    const { store, engine } = await open([]);
    try {
      const debit = await engine.decide(ask({ type: "prompt.submit" }, "d"));
      const hold = await engine.decide(ask(shapes[2]?.[1] as Action, "h"));
      expect(debit.balances.paid).toBe(100_000 - debit.cost);
      const contexts = (await store.auditRecords(0, 1_000)).map(
        (r) => r.data.context as { decision_id?: string; response?: unknown } | null,
      );
      const recorded = (id: string) => contexts.find((c) => c?.decision_id === id)?.response;
      expect(recorded(debit.decision_id)).toEqual(debit);
      expect(recorded(hold.decision_id)).toEqual(hold);
      expect(hold.hold_id).toMatch(/^hld_/);
    } finally {
      await store.close();
    }
  });

  it("keeps no raw principal or token id in usage counters, idempotency records or hold owners", async () => {
    const { store, engine } = await open(["context.principal"]);
    try {
      for (const [name, action] of shapes) await engine.decide(ask(action, `k-${name}`));
    } finally {
      await store.close();
    }
    const db = new Database(path, { readonly: true });
    try {
      const tables = JSON.stringify([
        db.prepare("SELECT * FROM usage_counters").all(),
        db.prepare("SELECT * FROM idempotency").all(),
        db.prepare("SELECT * FROM holds").all(),
        db.prepare("SELECT * FROM audit_records").all(),
      ]);
      expect(tables).toContain(pseudonyms.of(who.id));
      expect(tables).not.toContain("usr_secret");
      expect(tables).not.toContain("jti-secret");
    } finally {
      db.close();
    }
  });

  it("keys usage counters so a new key counts apart and the same key counts together", async () => {
    const { store, engine } = await open([]);
    try {
      await engine.decide(ask({ type: "prompt.submit" }, "a"));
      const input = await engine.decide({ ...ask({ type: "prompt.submit" }, "b"), dryRun: true });
      expect(input.allow).toBe(true);
      const scopes = (
        await store.snapshot("acme", [
          { scope: `principal:acme/${pseudonyms.of(who.id)}`, window: "minute" },
          { scope: `key:acme/${pseudonyms.of(who.jti as string)}`, window: "hour" },
        ])
      ).usage;
      expect(scopes.map((u) => u.calls)).toEqual([1, 1]);
    } finally {
      await store.close();
    }
  });
});
