/**
 * createEngine: the service's decision flow in-process. Decides for a development token and for
 * a principal the caller verified itself, answers what POST /v1/decisions answers (same schema,
 * same cost, balances and reasons for the same ledger), replays an idempotency key, and stops
 * deciding once closed.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/load.js";
import type { Config } from "../src/config/types.js";
import { createEngine, type Engine } from "../src/embedded.js";
import { CreditgateError, isCreditgateError } from "../src/errors.js";
import { mintDevToken, type VerifiedPrincipal } from "../src/identity/index.js";
import { validate } from "../src/schema-registry.js";
import { SqliteLedgerStore } from "../src/storage/sqlite/store.js";
import { decisionHeaders, startTestService } from "./helpers/service.js";

let dir: string;
let config: Config;
let engine: Engine;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "creditgate-embedded-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Like test/helpers/service.ts: the defaults, on SQLite in the temp dir; a fresh file per test. */
let n = 0;
beforeEach(async () => {
  const defaults = await loadConfig({ env: {}, cwd: dir });
  config = {
    ...defaults,
    store: {
      kind: "sqlite",
      sqlite: { path: join(dir, `ledger-${n++}.db`), synchronous: "FULL" },
    },
  };
  engine = await createEngine({ config });
});
afterEach(async () => {
  await engine.close();
});

const userToken = (tenant = "acme") => mintDevToken({ sub: "usr_1", tenant, plan: "pro" });

async function grant(tenant: string, amount: number): Promise<void> {
  const granted = await engine.store.grant({
    tenant,
    key: `grant-${tenant}`,
    class: "paid",
    amount,
    source: "test",
  });
  expect(granted.ok).toBe(true);
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.unreachable("expected a rejection"),
    (error: unknown) => error,
  );
}

describe("createEngine", () => {
  it("decides for a development token, as the HTTP API would answer", async () => {
    await grant("acme", 10_000);
    const decision = await engine.decide(
      { token: await userToken() },
      { type: "prompt.submit" },
      { idempotencyKey: "emb-1" },
    );
    expect(validate("api/decision-response", decision)).toEqual([]);
    expect(decision).toMatchObject({ allow: true, cost: 10, balances: { paid: 9_990 } });
    expect(decision.policy_revision).toBe(engine.policy.current.revision);
    expect((await engine.store.balances("acme")).posted.paid).toBe(9_990);

    // The same ledger state behind HTTP gives the same answer, but for the decision id.
    const svc = await startTestService();
    try {
      await svc.grant("acme", "paid", 10_000);
      const res = await svc.request("POST", "/v1/decisions", {
        token: await svc.userToken({ sub: "usr_1", tenant: "acme", plan: "pro" }),
        headers: decisionHeaders("emb-1"),
        body: { action: { type: "prompt.submit" } },
      });
      expect(res.status).toBe(200);
      const overHttp = res.body as typeof decision;
      expect({ ...decision, decision_id: "" }).toEqual({ ...overHttp, decision_id: "" });
    } finally {
      await svc.close();
    }
  });

  it("decides for a principal the caller verified, with the engine's holds", async () => {
    await grant("acme", 10_000);
    // E.g. a gateway that authenticated the caller itself: no token is involved.
    const principal: VerifiedPrincipal = {
      kind: "user",
      id: "usr_gateway",
      tenant: "acme",
      plan: "pro",
      roles: [],
      scopes: [],
      expMs: Date.now() + 60_000,
      issuer: "https://gateway.internal",
      tokenHash: "0".repeat(64),
    };
    const held = await engine.decide(
      { principal },
      { type: "model.infer", model: "gpt-4o-mini", units: { input_tokens: 2_000 } },
      { idempotencyKey: "emb-infer" },
    );
    expect(validate("api/decision-response", held)).toEqual([]);
    expect(held.allow).toBe(true);
    expect(held.hold_id).toMatch(/^hld_/);
    const balances = await engine.store.balances("acme");
    expect(balances.held.paid).toBe(held.hold);
    const trail = await engine.store.queryAudit({ decisionId: held.decision_id, limit: 10 });
    expect(trail.records).toHaveLength(1);
    expect(trail.records[0]?.data).toMatchObject({
      context: { principal: { id: "usr_gateway" } },
    });
  });

  it("replays an idempotency key with the identical response and charges once", async () => {
    await grant("acme", 10_000);
    const token = await userToken();
    const action = { type: "tool.call", tool: "web.search" };
    const first = await engine.decide({ token }, action, { idempotencyKey: "emb-retry" });
    const again = await engine.decide({ token }, action, { idempotencyKey: "emb-retry" });
    expect(again).toEqual(first);
    expect((await engine.store.balances("acme")).posted.paid).toBe(10_000 - first.cost);

    const conflict = await rejection(
      engine.decide({ token }, { type: "prompt.submit" }, { idempotencyKey: "emb-retry" }),
    );
    expect(isCreditgateError(conflict) && conflict.code).toBe("IDEMPOTENCY_CONFLICT");

    // Enforcing needs a key; a quote does not and changes nothing.
    const missing = await rejection(engine.decide({ token }, { type: "prompt.submit" }));
    expect(isCreditgateError(missing) && missing.code).toBe("IDEMPOTENCY_KEY_MISSING");
    const quote = await engine.decide({ token }, { type: "prompt.submit" }, { dryRun: true });
    expect(quote).toMatchObject({ allow: true, cost: 10, dry_run: true });
    expect(validate("api/decision-response", quote)).toEqual([]);
    expect((await engine.store.balances("acme")).posted.paid).toBe(10_000 - first.cost);
  });

  it("refuses a token the configured issuers do not accept", async () => {
    const error = await rejection(engine.decide({ token: "not-a-jwt" }, { type: "prompt.submit" }));
    expect(error).toBeInstanceOf(CreditgateError);
    expect((error as CreditgateError).code).toMatch(/^AUTH_TOKEN_/);
  });

  it("close() closes the store: later decisions reject, the file stays consistent", async () => {
    await grant("acme", 1_000);
    const token = await userToken();
    await engine.decide({ token }, { type: "prompt.submit" }, { idempotencyKey: "emb-before" });
    await engine.close();
    await engine.close(); // idempotent
    // The store itself is closed, not only the engine in front of it.
    await expect(
      engine.store.grant({ tenant: "acme", key: "late", class: "paid", amount: 1, source: "t" }),
    ).rejects.toMatchObject({ code: "STORE_CLOSED" });

    const error = await rejection(
      engine.decide({ token }, { type: "prompt.submit" }, { idempotencyKey: "emb-after" }),
    );
    expect(isCreditgateError(error) && error.code).toBe("STORE_CLOSED");

    const path = config.store.sqlite?.path as string;
    const store = SqliteLedgerStore.open({ path });
    try {
      expect(await store.verifyAudit()).toMatchObject({ ok: true });
      expect((await store.balances("acme")).posted.paid).toBe(990);
    } finally {
      await store.close();
    }
  });

  it("loads a configuration file, paths relative to it", async () => {
    const sub = await mkdtemp(join(dir, "file-"));
    await writeFile(
      join(sub, "creditgate.yaml"),
      "store:\n  kind: sqlite\n  sqlite:\n    path: nested/ledger.db\n",
    );
    const fromFile = await createEngine({ configFile: join(sub, "creditgate.yaml") });
    try {
      expect(fromFile.policy.current.revision).toBe(engine.policy.current.revision);
      const quote = await fromFile.decide(
        { token: await mintDevToken({ sub: "usr_1", tenant: "acme", plan: "trial" }) },
        { type: "prompt.submit" },
        { dryRun: true },
      );
      // A trial plan has no overdraft: no credits in this fresh ledger means a deny.
      expect(quote.allow).toBe(false);
      expect(quote.reasons.map((r) => r.code)).toContain("INSUFFICIENT_CREDITS");
    } finally {
      await fromFile.close();
    }
    const reopened = SqliteLedgerStore.open({ path: join(sub, "nested", "ledger.db") });
    await reopened.close();
  });
});
