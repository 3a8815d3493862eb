/**
 * The one precedence table (policies/data/reasons.yaml, data.reasons.precedence in the shipped
 * bundle) ranks every reason a decision can carry, the engine's own included, in the documented
 * group order; and the engine's TASK_ENDED words are the policy's.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type EndedStatus, taskEndedReason } from "../../src/decision/task-ended.js";
import { packageRoot } from "../../src/paths.js";
import { readBundleFile } from "../../src/policy/bundle.js";
import { PolicyEvaluator } from "../../src/policy/evaluator.js";
import type { DecisionInput } from "../../src/policy/types.js";
import { committedBundlePath, devVerificationKey } from "../helpers/bundles.js";

const bundle = await readBundleFile(committedBundlePath, {
  verificationKey: await devVerificationKey(),
});
const evaluator = await PolicyEvaluator.create(bundle);
const precedence = (bundle.data.reasons as { precedence: string[] }).precedence;
const rank = (code: string) => precedence.indexOf(code);

describe("the reason precedence table", () => {
  it("ranks every reason code docs/policy.md lists", async () => {
    const doc = await readFile(join(packageRoot, "docs", "policy.md"), "utf8");
    const section = doc.slice(doc.indexOf("### Reason codes"), doc.indexOf("## How the starter"));
    const documented = [...section.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1] as string);
    expect(documented.length).toBeGreaterThan(10);
    expect(documented.filter((code) => rank(code) < 0)).toEqual([]);
  });

  it("ranks the engine's own reasons (TASK_*, VELOCITY_LIMIT, INSUFFICIENT_CREDITS)", () => {
    for (const code of [
      "TASK_ENDED",
      "TASK_BUDGET_EXCEEDED",
      "VELOCITY_LIMIT",
      "INSUFFICIENT_CREDITS",
    ])
      expect(rank(code), code).toBeGreaterThanOrEqual(0);
  });

  it("puts hard stops, then identity and scope, then task, velocity and credits", () => {
    const groups = [
      ["TENANT_SUSPENDED", "TRIAL_HIGH_RISK_TOOL"],
      ["INVALID_INPUT", "UNKNOWN_PLAN", "UNKNOWN_ACTION", "UNKNOWN_MODEL", "UNKNOWN_TOOL"],
      ["ACTION_NOT_IN_PLAN", "MODEL_NOT_IN_PLAN", "SCOPE_DENIED"],
      ["TASK_ENDED", "TASK_BUDGET_EXCEEDED"],
      ["VELOCITY_LIMIT"],
      ["INSUFFICIENT_CREDITS"],
    ];
    for (let g = 1; g < groups.length; g++) {
      const last = Math.max(...(groups[g - 1] as string[]).map(rank));
      const first = Math.min(...(groups[g] as string[]).map(rank));
      expect(last, `${groups[g - 1]} before ${groups[g]}`).toBeLessThan(first);
    }
  });
});

describe("TASK_ENDED", () => {
  it.each(["committed", "released", "expired", "missing"] as EndedStatus[])(
    "says the same in the policy and the engine when the hold is %s",
    (status) => {
      const input: DecisionInput = {
        principal: {
          kind: "task",
          id: "tsk_9",
          tenant: "acme",
          plan: "pro",
          roles: [],
          scopes: ["prompt.submit"],
          task_status: status,
        },
        action: { type: "prompt.submit" },
        balances: { trial: 0, paid: 0, promo: 0, admin: 0 },
        usage: { calls_per_minute: 0, credits_per_hour: 0, workflow_steps: 0 },
        now: "2026-11-24T12:00:00Z",
      };
      expect(evaluator.evaluate(input).reasons).toEqual([taskEndedReason("tsk_9", status)]);
    },
  );
});
