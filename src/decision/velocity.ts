/**
 * Velocity limits as the ledger enforces them. The policy denies with VELOCITY_LIMIT when the
 * usage it was shown is already at a limit; concurrent requests all see the same usage, so the
 * ledger checks the same limits again, atomically, when it adds this decision's usage. The limits
 * come from the active bundle's own data (`data.limits`), so both checks read one source.
 */
import type { Obligations, Reason } from "../policy/types.js";

export interface VelocityLimits {
  readonly callsPerMinute: number;
  readonly creditsPerHour: number;
  readonly workflowSteps: number;
}

interface LimitsData {
  readonly velocity?: Readonly<Record<string, Partial<Record<string, unknown>>>>;
  readonly retry_after_seconds?: Readonly<Record<string, unknown>>;
}

function count(value: unknown): number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? value : 0;
}

/** A plan without limits gets 0 everywhere, as in the policy: fail closed. */
export function velocityLimits(
  data: Readonly<Record<string, unknown>>,
  plan: string,
): VelocityLimits {
  const limits = (data.limits ?? {}) as LimitsData;
  const perPlan = limits.velocity?.[plan] ?? {};
  return {
    callsPerMinute: count(perPlan.calls_per_minute),
    creditsPerHour: count(perPlan.credits_per_hour),
    workflowSteps: count(perPlan.workflow_steps),
  };
}

/** The deny when the ledger found a limit reached that the policy's snapshot had not. */
export function velocityDeny(data: Readonly<Record<string, unknown>>): {
  reasons: Reason[];
  obligations: Obligations;
} {
  const retry = ((data.limits ?? {}) as LimitsData).retry_after_seconds ?? {};
  const seconds = count(retry.calls_per_minute) || 60;
  return {
    reasons: [
      {
        code: "VELOCITY_LIMIT",
        message: "a velocity limit was reached by concurrent requests before this one was enforced",
      },
    ],
    obligations: { retry_after_seconds: seconds },
  };
}
