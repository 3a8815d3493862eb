/** A valid decision input to start from; tests override only what they are about. */
import type { DecisionInput } from "../../src/policy/types.js";

export function baseInput(overrides: Partial<DecisionInput> = {}): DecisionInput {
  return {
    principal: { kind: "user", id: "usr_1", tenant: "acme", plan: "pro", roles: [], scopes: [] },
    action: { type: "prompt.submit" },
    balances: { trial: 0, paid: 100_000, promo: 0, admin: 0 },
    usage: { calls_per_minute: 0, credits_per_hour: 0, workflow_steps: 0 },
    now: "2026-11-24T12:00:00.000Z",
    ...overrides,
  };
}
