/**
 * Velocity limits as the ledger enforces them. The policy denies with VELOCITY_LIMIT when the
 * usage it was shown is already at a limit; concurrent requests all see the same usage, so the
 * ledger checks the same limits again, atomically, when it adds this decision's usage. The
 * limits are the ones the policy's result names (`velocity`: the windows the action counts
 * against, with their maxima), so both checks have one source and the engine reads no data.
 */
import type {
  DecisionResult,
  Obligations,
  Reason,
  VelocityWindow,
  VelocityWindows,
} from "../policy/types.js";

export type { VelocityWindow } from "../policy/types.js";

export interface VelocityLimits {
  readonly callsPerMinute: number;
  readonly creditsPerHour: number;
  readonly workflowSteps: number;
  /** Per window, how long to wait when it stopped a decision. */
  readonly retryAfterSeconds: Readonly<Record<VelocityWindow, number>>;
}

function count(value: unknown): number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? value : 0;
}

function retry(value: unknown): number {
  return count(value) || 60;
}

/** A window the result does not name gets maximum 0, as in the policy: fail closed. */
export function velocityLimits(result: DecisionResult): VelocityLimits {
  const windows: VelocityWindows = result.velocity ?? {};
  return {
    callsPerMinute: count(windows.calls_per_minute?.max),
    creditsPerHour: count(windows.credits_per_hour?.max),
    workflowSteps: count(windows.workflow_steps?.max),
    retryAfterSeconds: {
      calls_per_minute: retry(windows.calls_per_minute?.retry_after_seconds),
      credits_per_hour: retry(windows.credits_per_hour?.retry_after_seconds),
      workflow_steps: retry(windows.workflow_steps?.retry_after_seconds),
    },
  };
}

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

/**
 * The deny when the ledger found a limit reached that the policy's snapshot had not. The ledger
 * does not say which window it was; `tightest` (the engine's best guess from the snapshot) picks
 * the retry hint, so a minute window does not advise waiting an hour.
 */
export function velocityDeny(
  limits: VelocityLimits,
  tightest: VelocityWindow,
): {
  reasons: Reason[];
  obligations: Obligations;
} {
  return {
    reasons: [
      {
        code: "VELOCITY_LIMIT",
        message: "a velocity limit was reached by concurrent requests before this one was enforced",
      },
    ],
    obligations: { retry_after_seconds: limits.retryAfterSeconds[tightest] },
  };
}
