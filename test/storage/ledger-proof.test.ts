/**
 * The ledger proves itself against the trail: after a scenario that exercises every way value
 * moves (grants pending and expiring, debits with overdraft, holds drawn, committed above their
 * reservation, released and expired, reversals into expired grants, a revoked grant), `audit
 * verify` reconciles; any row changed directly in the database behind the trail's back is named,
 * and a service refuses decisions for that tenant until it reconciles again.
 */
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock.js";
import type { OpResult } from "../../src/ledger/codes.js";
import { LedgerWatch } from "../../src/service/ledger-watch.js";
import { SqliteLedgerStore } from "../../src/storage/sqlite/store.js";
import { decisionHeaders, startTestService } from "../helpers/service.js";

const dir = mkdtempSync(join(tmpdir(), "creditgate-ledger-proof-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const scenarioPath = join(dir, "scenario.db");
const t0 = Date.UTC(2026, 10, 1);
let ids: { paidGrant: string; debit: string; activeHold: string };

function value<V>(result: OpResult<V>): V {
  if (!result.ok) throw new Error(`refused: ${result.code}`);
  return result.value;
}

beforeAll(async () => {
  const clock = new ManualClock(t0);
  const store = SqliteLedgerStore.open({ path: scenarioPath, clock });
  try {
    const t = "acme";
    const paid = value(
      await store.grant({ tenant: t, key: "g1", class: "paid", amount: 1_000, source: "s" }),
    );
    const promo = value(
      await store.grant({
        tenant: t,
        key: "g2",
        class: "promo",
        amount: 500,
        source: "s",
        effectiveAtMs: t0 + 1_000,
        expiresAtMs: t0 + 60_000,
      }),
    );
    const trial = value(
      await store.grant({
        tenant: t,
        key: "g3",
        class: "trial",
        amount: 100,
        source: "s",
        expiresAtMs: t0 + 10_000,
      }),
    );
    clock.tick(2_000); // promo activates
    const debit = value(
      await store.debit({ tenant: t, key: "d1", amount: 300, drawOrder: ["promo", "paid"] }),
    );
    value(
      await store.debit({
        tenant: "globex",
        key: "od",
        amount: 40,
        drawOrder: ["paid"],
        floors: { paid: -100 },
      }),
    );
    const hold = value(
      await store.hold({ tenant: t, key: "h1", amount: 200, drawOrder: ["paid"], ttlMs: 60_000 }),
    );
    value(await store.drawHold({ tenant: t, key: "dr1", holdId: hold.holdId, amount: 50 }));
    value(
      await store.commit({
        tenant: t,
        key: "c1",
        holdId: hold.holdId,
        amount: 250,
        overageAllowance: 200,
      }),
    );
    const released = value(
      await store.hold({ tenant: t, key: "h2", amount: 100, drawOrder: ["paid"], ttlMs: 60_000 }),
    );
    value(await store.release({ tenant: t, key: "r2", holdId: released.holdId }));
    // Trial credits held, then the grant expires while held: given back, they expire at once.
    const trialHold = value(
      await store.hold({ tenant: t, key: "h3", amount: 80, drawOrder: ["trial"], ttlMs: 9_000 }),
    );
    value(await store.debit({ tenant: t, key: "d2", amount: 10, drawOrder: ["trial"] }));
    clock.tick(20_000); // trial grant expires, then its hold does
    await store.sweep(10);
    expect((await store.holdStatus(t, trialHold.holdId))?.state).toBe("expired");
    // A reversal into a grant that has expired meanwhile, and one into a live grant.
    value(
      await store.reverse({ tenant: t, key: "rv1", transferId: debit.transferId, reason: "x" }),
    );
    const d3 = value(
      await store.debit({ tenant: t, key: "d3", amount: 5, drawOrder: ["trial", "paid"] }),
    );
    value(
      await store.reverse({
        tenant: t,
        key: "rv2",
        transferId: d3.transferId,
        amount: 2,
        reason: "y",
      }),
    );
    value(
      await store.revoke({
        tenant: t,
        key: "rk",
        kind: "grant",
        subject: promo.grantId,
        reason: "z",
      }),
    );
    const open = value(
      await store.hold({ tenant: t, key: "h4", amount: 30, drawOrder: ["paid"], ttlMs: 600_000 }),
    );
    value(
      await store.recordDecision({
        tenant: t,
        key: "dec",
        usage: [],
        audit: { decision_id: "dec_1", principal: { id: "alice" } },
      }),
    );
    ids = { paidGrant: paid.grantId, debit: debit.transferId, activeHold: open.holdId };
    expect(trial.grantId).toMatch(/^grt_/);
    expect(await store.checkInvariants()).toEqual({ ok: true, problems: [] });
  } finally {
    await store.close();
  }
});

/** A copy of the scenario's database changed by `sql` with the append-only triggers dropped. */
function tampered(name: string, sql: string): string {
  const path = join(dir, `${name}.db`);
  copyFileSync(scenarioPath, path);
  const db = new Database(path);
  db.exec(`
    DROP TRIGGER IF EXISTS entries_no_update; DROP TRIGGER IF EXISTS audit_no_update;
    ${sql}`);
  db.close();
  return path;
}

async function verify(path: string) {
  const store = SqliteLedgerStore.open({ path, clock: new ManualClock(t0 + 1_000_000) });
  try {
    return { verification: await store.verifyAudit(), store: null };
  } finally {
    await store.close();
  }
}

describe("audit verify reconciles the ledger with the chain", () => {
  it("accepts the untouched scenario", async () => {
    expect((await verify(scenarioPath)).verification).toMatchObject({ ok: true });
  });

  it("names credits minted consistently in a balance, an entry and a grant", async () => {
    const path = tampered(
      "mint",
      `UPDATE balances SET posted = posted + 999000 WHERE tenant = 'acme' AND class = 'paid';
       INSERT INTO entries (entry_id, tenant, class, grant_id, transfer_id, kind, amount, ref_entry_id, at_ms)
         VALUES ('grt_x.0', 'acme', 'paid', 'grt_x', 'grt_x', 'grant', 999000, NULL, 1);
       INSERT INTO grants VALUES ('grt_x', 'acme', 'paid', 999000, 999000, 'active', 0, NULL, 0, 's', NULL, 0);`,
    );
    const { verification } = await verify(path);
    expect(verification).toMatchObject({ ok: false, reason: "ledger_mismatch", tenants: ["acme"] });
    expect(verification.ok ? "" : verification.row).toMatch(/^balances acme\/paid: posted \d+/);
  });

  it("names a grant whose remaining was raised", async () => {
    const path = tampered(
      "grant",
      `UPDATE grants SET remaining = remaining + 10 WHERE grant_id = '${ids.paidGrant}';`,
    );
    const { verification } = await verify(path);
    expect(verification).toMatchObject({ ok: false, reason: "ledger_mismatch" });
    expect(verification.ok ? "" : verification.row).toContain(`grants ${ids.paidGrant}`);
  });

  it("names a hold flipped to released behind the trail", async () => {
    const path = tampered(
      "hold",
      `UPDATE holds SET state = 'released', released = 30, resolved_at_ms = 1 WHERE hold_id = '${ids.activeHold}';
       UPDATE balances SET held = held - 30 WHERE tenant = 'acme' AND class = 'paid';
       UPDATE grants SET remaining = remaining + 30 WHERE grant_id = '${ids.paidGrant}';`,
    );
    const { verification } = await verify(path);
    expect(verification).toMatchObject({ ok: false, reason: "ledger_mismatch" });
    expect(verification.ok ? "" : verification.row).toMatch(/^balances acme\/paid: .* held 0;/);
  });

  it("names an entry added without a record", async () => {
    const path = tampered(
      "entry",
      `INSERT INTO entries (entry_id, tenant, class, grant_id, transfer_id, kind, amount, ref_entry_id, at_ms)
         VALUES ('ent_x.0', 'acme', 'paid', NULL, 'ent_x', 'reversal', 500, NULL, 1);
       UPDATE balances SET posted = posted + 500 WHERE tenant = 'acme' AND class = 'paid';`,
    );
    expect((await verify(path)).verification).toMatchObject({
      ok: false,
      reason: "ledger_mismatch",
    });
  });

  it("names an index column rewritten to hide a record from ?principal=", async () => {
    const path = tampered(
      "index",
      "UPDATE audit_records SET principal = 'nobody' WHERE principal = 'alice';",
    );
    const { verification } = await verify(path);
    expect(verification).toMatchObject({ ok: false, reason: "index_mismatch" });
    expect(verification.ok ? "" : verification.row).toContain('principal "nobody"');
  });
});

describe("credit given back to a grant that expired with nothing left", () => {
  // The grant expires while all of it is held or spent, so its own expiry moves nothing and is
  // not recorded; the credit given back later expires at once, recorded before its cause.
  it("reconciles after a commit, a release and a reversal into such grants, and a revoked one", async () => {
    const clock = new ManualClock(t0);
    const store = SqliteLedgerStore.open({ path: join(dir, "given-back.db"), clock });
    try {
      const t = "acme";
      const grant = (key: string, amount: number, expiresAtMs?: number) =>
        store.grant({
          tenant: t,
          key,
          class: "promo",
          amount,
          source: "s",
          ...(expiresAtMs === undefined ? {} : { expiresAtMs }),
        });
      value(await grant("g1", 18, t0 + 1_000));
      const held = value(
        await store.hold({ tenant: t, key: "h1", amount: 18, drawOrder: ["promo"], ttlMs: 60_000 }),
      );
      clock.tick(2_000);
      value(await store.commit({ tenant: t, key: "c1", holdId: held.holdId, amount: 5 }));
      value(await grant("g2", 7, t0 + 3_000));
      const held2 = value(
        await store.hold({ tenant: t, key: "h2", amount: 7, drawOrder: ["promo"], ttlMs: 60_000 }),
      );
      clock.tick(2_000);
      value(await store.release({ tenant: t, key: "r2", holdId: held2.holdId }));
      value(await grant("g3", 9, t0 + 5_000));
      const spent = value(
        await store.debit({ tenant: t, key: "d3", amount: 9, drawOrder: ["promo"] }),
      );
      clock.tick(2_000);
      value(
        await store.reverse({ tenant: t, key: "rv3", transferId: spent.transferId, reason: "x" }),
      );
      const g4 = value(await grant("g4", 4));
      value(await store.debit({ tenant: t, key: "d4", amount: 4, drawOrder: ["promo"] }));
      value(
        await store.revoke({
          tenant: t,
          key: "k4",
          kind: "grant",
          subject: g4.grantId,
          reason: "y",
        }),
      );
      expect(await store.verifyAudit()).toMatchObject({ ok: true });
      expect(await store.checkInvariants()).toEqual({ ok: true, problems: [] });
    } finally {
      await store.close();
    }
  });
});

describe("LedgerWatch", () => {
  it("refuses decisions of a tenant whose rows disagree, until they reconcile", async () => {
    const path = tampered(
      "watch",
      "UPDATE balances SET posted = posted + 5 WHERE tenant = 'acme' AND class = 'paid';",
    );
    const store = SqliteLedgerStore.open({ path, clock: new ManualClock(t0 + 1_000_000) });
    const alerts: string[] = [];
    try {
      const watch = new LedgerWatch(store, (alert) => alerts.push(alert.message));
      expect(watch.refusal("acme")).toBeNull();
      await watch.check();
      expect(watch.refusal("acme")).toMatchObject({ code: "LEDGER_INVARIANT_VIOLATED" });
      expect(watch.refusal("globex")).toBeNull();
      expect(alerts).toEqual([expect.stringMatching(/refusing decisions for acme$/)]);
      // The operator puts the row back; the next check lifts the refusal.
      const db = new Database(path);
      db.exec("UPDATE balances SET posted = posted - 5 WHERE tenant = 'acme' AND class = 'paid'");
      db.close();
      await watch.check();
      expect(watch.refusal("acme")).toBeNull();
    } finally {
      await store.close();
    }
  });
});

describe("the service fails closed on a tenant whose ledger disagrees with the trail", () => {
  it("answers LEDGER_INVARIANT_VIOLATED for that tenant only, with nothing charged", async () => {
    const svc = await startTestService();
    try {
      await svc.grant("acme", "trial", 100);
      await svc.grant("globex", "trial", 100);
      const decide = (tenant: string, key: string) =>
        svc.userToken({ tenant, plan: "trial" }).then((token) =>
          svc.request("POST", "/v1/decisions", {
            token,
            headers: decisionHeaders(key),
            body: { action: { type: "prompt.submit" } },
          }),
        );
      expect((await decide("acme", "a1")).status).toBe(200);
      // Credits minted behind the trail's back, consistently in the balance and an entry.
      const db = new Database(svc.config.store.sqlite?.path as string);
      db.exec(`
        INSERT INTO entries (entry_id, tenant, class, grant_id, transfer_id, kind, amount, ref_entry_id, at_ms)
          VALUES ('ent_m.0', 'acme', 'trial', NULL, 'ent_m', 'reversal', 999000, NULL, 1);
        UPDATE balances SET posted = posted + 999000 WHERE tenant = 'acme' AND class = 'trial';`);
      db.close();
      await svc.service.ledger.check();
      const refused = await decide("acme", "a2");
      expect({ status: refused.status, body: refused.body }).toMatchObject({
        status: 500,
        body: { error: { code: "LEDGER_INVARIANT_VIOLATED" } },
      });
      expect((await decide("globex", "g1")).status).toBe(200);
      const audit = await svc.request("GET", "/v1/audit/verify", { token: await svc.adminToken() });
      expect(audit.body).toMatchObject({
        ok: false,
        reason: "ledger_mismatch",
        row: expect.any(String),
      });
      // A tenant admin learns that the trail does not verify, not which tenant's row disagrees.
      const scoped = await svc.request("GET", "/v1/audit/verify", {
        token: await svc.tenantAdminToken("globex"),
      });
      expect(scoped.body).toMatchObject({ ok: false, reason: "ledger_mismatch" });
      expect(scoped.text).not.toContain("acme");
    } finally {
      await svc.close();
    }
  });
});
