/**
 * The engine enforces what the policy's result says, and nothing it re-derives: whether a hold
 * carries the whole cost comes from the pricing kind (a new token-priced action in a scratch
 * copy of the policy data is held, not debited), and the ledger's velocity maxima and retry
 * hints are the result's own `velocity` windows.
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Pseudonyms } from "../../src/audit/pseudonym.js";
import { ManualClock } from "../../src/clock.js";
import { DecisionEngine, type PolicySource } from "../../src/decision/engine.js";
import type { VerifiedPrincipal } from "../../src/identity/index.js";
import { buildBundle } from "../../src/policy/build.js";
import { readBundleFile } from "../../src/policy/bundle.js";
import { PolicyEvaluator } from "../../src/policy/evaluator.js";
import type { DecisionInput, DecisionResult } from "../../src/policy/types.js";
import { SqliteLedgerStore } from "../../src/storage/sqlite/store.js";
import { committedBundlePath, devVerificationKey } from "../helpers/bundles.js";
import { type PolicySandbox, policySandbox } from "../helpers/policy-sandbox.js";

const clock = new ManualClock(Date.UTC(2026, 10, 24, 12));
const pseudonyms = new Pseudonyms(Buffer.alloc(32, 7));
let box: PolicySandbox;
let store: SqliteLedgerStore;

const principal: VerifiedPrincipal = {
  kind: "user",
  id: "usr_1",
  tenant: "acme",
  plan: "pro",
  roles: [],
  scopes: [],
  jti: "jti-1",
  expMs: clock.nowMs() + 3_600_000,
  issuer: "https://idp.example.com",
  tokenHash: "0".repeat(64),
};

function engineOn(policy: PolicySource): DecisionEngine {
  return new DecisionEngine({ policy, store, clock, holdTtlMs: 60_000, pseudonyms });
}

beforeAll(async () => {
  box = await policySandbox();
  store = SqliteLedgerStore.open({ path: join(box.root, "ledger.db"), clock });
  const granted = await store.grant({
    tenant: "acme",
    key: "g-paid",
    class: "paid",
    amount: 100_000,
    source: "test",
  });
  expect(granted.ok).toBe(true);
});
afterAll(async () => {
  await store.close();
  await rm(box.root, { recursive: true, force: true });
});

describe("a token-priced action the engine has never heard of", () => {
  it("is held for its whole estimate and nothing is debited", async () => {
    const prices = join(box.layout.dataDir, "prices.yaml");
    const plans = join(box.layout.dataDir, "plans.yaml");
    const priceText = await readFile(prices, "utf8");
    await writeFile(
      prices,
      priceText.replace("actions:\n", "actions:\n  model.embed:\n    pricing: tokens\n"),
    );
    const planText = await readFile(plans, "utf8");
    const withEmbed = planText.replace(
      "actions: [prompt.submit, model.infer, tool.call, workflow.step, agent.task]",
      "actions: [prompt.submit, model.infer, model.embed, tool.call, workflow.step, agent.task]",
    );
    expect(withEmbed).not.toBe(planText);
    await writeFile(plans, withEmbed);
    await box.commit("a token-priced model.embed");
    const outFile = join(box.root, "embed.tar.gz");
    await buildBundle({ layout: box.layout, outFile, skipLint: true });
    const evaluator = await PolicyEvaluator.create(
      await readBundleFile(outFile, { allowUnsigned: true }),
    );

    const answer = await engineOn({ current: evaluator }).decide({
      principal,
      action: {
        type: "model.embed",
        model: "gpt-4o",
        units: { input_tokens: 2000, max_output_tokens: 0 },
      },
      idempotencyKey: "embed-1",
    });
    // 2000 input tokens at 250/1k; no output.
    expect(answer).toMatchObject({ allow: true, cost: 500, hold: 500 });
    expect(answer.hold_id).toMatch(/^hld_/);
    const balances = await store.balances("acme");
    expect(balances.posted.paid).toBe(100_000);
    expect(balances.held.paid).toBe(500);
    expect(answer.balances.paid).toBe(99_500);
  });
});

describe("velocity windows from the result", () => {
  it("are the maxima the ledger enforces and the retry hint of its deny", async () => {
    const committed = await PolicyEvaluator.create(
      await readBundleFile(committedBundlePath, { verificationKey: await devVerificationKey() }),
    );
    // The policy allows (usage 0 is under every limit), but its result names a window whose
    // maximum this call already exceeds: the ledger refuses with the result's own retry hint.
    const strict: PolicySource = {
      current: Object.assign(Object.create(committed) as PolicyEvaluator, {
        evaluate: (input: DecisionInput): DecisionResult => {
          const result = committed.evaluate(input);
          return {
            ...result,
            velocity: {
              ...result.velocity,
              calls_per_minute: { max: 0, retry_after_seconds: 7 },
            },
          };
        },
      }),
    };
    const before = await store.balances("acme");
    const answer = await engineOn(strict).decide({
      principal,
      action: { type: "prompt.submit" },
      idempotencyKey: "strict-1",
    });
    expect(answer).toMatchObject({
      allow: false,
      reasons: [{ code: "VELOCITY_LIMIT" }],
      obligations: { retry_after_seconds: 7 },
    });
    expect((await store.balances("acme")).posted.paid).toBe(before.posted.paid);
  });
});
