/**
 * Velocity limits as the ledger enforces them. The policy denies with VELOCITY_LIMIT when the
 * usage it was shown is already at a limit; concurrent requests all see the same usage, so the
 * ledger checks the same limits again, atomically, when it adds this decision's usage. The limits
 * come from the active bundle's own data (`data.limits`), so both checks read one source.
 */
import type { Obligations, Reason } from "../policy/types.js";

/** The window with the least room left after this decision, by the snapshot the policy saw. */
export function tightestWindow(
  limits: VelocityLimits,
  usage: { calls_per_minute: number; credits_per_hour: number; workflow_steps: number },
  credits: number,
  steps: number,
  hasWorkflow: boolean,
): VelocityWindow {
  const room: [VelocityWindow, number][] = [
    [
      "calls_per_minute",
      (limits.callsPerMinute - usage.calls_per_minute - 1) / Math.max(1, limits.callsPerMinute),
    ],
    [
      "credits_per_hour",
      (limits.creditsPerHour - usage.credits_per_hour - credits) /
        Math.max(1, limits.creditsPerHour),
    ],
  ];
  if (hasWorkflow) {
    room.push([
      "workflow_steps",
      (limits.workflowSteps - usage.workflow_steps - steps) / Math.max(1, limits.workflowSteps),
    ]);
  }
  room.sort((a, b) => a[1] - b[1]);
  return (room[0] as [VelocityWindow, number])[0];
}

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

/** Which window most likely stopped a decision: the one with the least room left. */
export type VelocityWindow = "calls_per_minute" | "credits_per_hour" | "workflow_steps";

/**
 * The deny when the ledger found a limit reached that the policy's snapshot had not. The ledger
 * does not say which window it was; `tightest` (the engine's best guess from the snapshot) picks
 * the retry hint, so a minute window does not advise waiting an hour.
 */
export function velocityDeny(
  data: Readonly<Record<string, unknown>>,
  tightest: VelocityWindow,
): {
  reasons: Reason[];
  obligations: Obligations;
} {
  const retry = ((data.limits ?? {}) as LimitsData).retry_after_seconds ?? {};
  const seconds = count(retry[tightest]) || 60;
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
