/**
 * Which usage counters a decision reads and increments: calls per minute per principal, credits
 * per hour per key (the token's jti, else the principal), steps per workflow. Workflow steps are
 * counted in the hour window: a loop breaker, not a lifetime total.
 */
import { boundedKey } from "../ledger/bounded-key.js";
import type { UsageCounter, UsageIncrement, UsageKey } from "../ledger/types.js";
import type { Action, Usage } from "../policy/types.js";
import type { VelocityLimits } from "./velocity.js";

export interface UsageSubject {
  readonly tenant: string;
  readonly principalId: string;
  readonly keyId: string;
}

export interface UsagePlan {
  readonly principal: UsageKey;
  readonly key: UsageKey;
  readonly workflow: UsageKey | undefined;
}

/** `${kind}:${tenant}/${id}`, or its digest when that would not fit the ledger. */
function scope(kind: string, tenant: string, id: string): string {
  return boundedKey(kind, [kind, tenant, id], `${kind}:${tenant}/${id}`);
}

export function usagePlan(subject: UsageSubject, action: Action): UsagePlan {
  return {
    principal: { scope: scope("principal", subject.tenant, subject.principalId), window: "minute" },
    key: { scope: scope("key", subject.tenant, subject.keyId), window: "hour" },
    workflow:
      action.workflow_id === undefined
        ? undefined
        : { scope: scope("workflow", subject.tenant, action.workflow_id), window: "hour" },
  };
}

export function usageKeys(plan: UsagePlan): UsageKey[] {
  return plan.workflow === undefined
    ? [plan.principal, plan.key]
    : [plan.principal, plan.key, plan.workflow];
}

function find(counters: readonly UsageCounter[], key: UsageKey): UsageCounter | undefined {
  return counters.find((c) => c.scope === key.scope && c.window === key.window);
}

export function usageInput(plan: UsagePlan, counters: readonly UsageCounter[]): Usage {
  return {
    calls_per_minute: find(counters, plan.principal)?.calls ?? 0,
    credits_per_hour: find(counters, plan.key)?.credits ?? 0,
    workflow_steps: plan.workflow === undefined ? 0 : (find(counters, plan.workflow)?.calls ?? 0),
  };
}

/**
 * Every decision counts as a call; credits count only what was charged or reserved. With limits,
 * the ledger refuses the effect (usage_limit_exceeded) if it would take a window past its limit.
 */
export function usageIncrements(
  plan: UsagePlan,
  credits: number,
  steps: number,
  limits?: VelocityLimits,
): UsageIncrement[] {
  const increments: UsageIncrement[] = [
    {
      ...plan.principal,
      calls: 1,
      credits: 0,
      ...(limits === undefined ? {} : { maxCalls: limits.callsPerMinute }),
    },
    {
      ...plan.key,
      calls: 1,
      credits,
      ...(limits === undefined ? {} : { maxCredits: limits.creditsPerHour }),
    },
  ];
  if (plan.workflow !== undefined) {
    increments.push({
      ...plan.workflow,
      calls: steps,
      credits,
      ...(limits === undefined ? {} : { maxCalls: limits.workflowSteps }),
    });
  }
  return increments;
}
