/** fast-check generators of decision inputs, drawn from the names the bundle's data knows. */
import fc from "fast-check";
import type { DecisionInput } from "../../src/policy/types.js";

export interface KnownNames {
  readonly plans: readonly string[];
  readonly actions: readonly string[];
  readonly models: readonly string[];
  readonly tools: readonly string[];
}

const keysOf = (value: unknown): string[] =>
  value !== null && typeof value === "object" ? Object.keys(value as Record<string, unknown>) : [];

export function knownNames(data: Readonly<Record<string, unknown>>): KnownNames {
  const prices = data.prices as { actions?: unknown } | undefined;
  return {
    plans: keysOf(data.plans),
    actions: keysOf(prices?.actions),
    models: keysOf(data.models),
    tools: keysOf(data.tools),
  };
}

const smallInt = (max: number) =>
  fc.oneof(fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max }));

export function decisionInputArbitrary(names: KnownNames): fc.Arbitrary<DecisionInput> {
  const pick = (known: readonly string[], unknown: string) => fc.constantFrom(...known, unknown);
  const scopes = [
    ...names.actions,
    ...names.tools.map((tool) => `tool.call:${tool}`),
    "unknown.scope",
  ];
  return fc.record({
    principal: fc.record(
      {
        kind: fc.constantFrom("user", "workload", "task"),
        id: fc.constantFrom("usr_1", "wkl_2", "tsk_3"),
        tenant: fc.constantFrom("acme", "globex"),
        plan: pick(names.plans, "unknown-plan"),
        roles: fc.subarray(["admin", "member", "billing"]),
        scopes: fc.subarray(scopes),
        tenant_status: fc.constantFrom("active", "suspended"),
        // Mostly active: an ended task denies everything, and allows must stay common enough to
        // compare what they cost.
        task_status: fc.oneof(
          { arbitrary: fc.constant("active"), weight: 4 },
          { arbitrary: fc.constantFrom("committed", "released", "expired", "missing"), weight: 1 },
        ),
      },
      { requiredKeys: ["kind", "id", "tenant", "plan", "roles", "scopes"] },
    ),
    action: fc.record(
      {
        type: pick(names.actions, "unknown.action"),
        model: pick(names.models, "unknown-model"),
        tool: pick(names.tools, "unknown-tool"),
        units: fc.record(
          {
            input_tokens: smallInt(200_000),
            max_output_tokens: smallInt(100_000),
            steps: fc.integer({ min: 1, max: 50 }),
            budget: smallInt(500_000),
          },
          { requiredKeys: [] },
        ),
        workflow_id: fc.constantFrom("wf_1", "wf_2"),
        task_id: fc.constantFrom("tsk_1"),
      },
      { requiredKeys: ["type"] },
    ),
    balances: fc.record({
      trial: smallInt(1_000_000),
      paid: fc.integer({ min: -100_000, max: 5_000_000 }),
      promo: smallInt(1_000_000),
      admin: smallInt(1_000_000),
    }),
    usage: fc.record({
      calls_per_minute: smallInt(200_000),
      credits_per_hour: smallInt(5_000_000),
      workflow_steps: smallInt(20_000),
    }),
    now: fc
      .integer({ min: Date.UTC(2025, 0, 1), max: Date.UTC(2030, 0, 1) })
      .map((ms) => new Date(ms).toISOString()),
  }) as fc.Arbitrary<DecisionInput>;
}
