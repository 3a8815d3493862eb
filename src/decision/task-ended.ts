/**
 * A task principal whose hold is resolved (the task was completed, released or expired) has
 * ended: every decision it asks for, free ones included, is a deny with TASK_ENDED alone. The
 * policy decides this itself from `principal.task_status`; the engine holds any policy to it
 * (fail closed), and says the same when the hold ends between evaluation and the draw.
 */
import type { HoldStatus } from "../ledger/types.js";
import type { DecisionResult, Reason, TaskStatus } from "../policy/types.js";

export type EndedStatus = Exclude<TaskStatus, "active">;

/** What the policy is told about a task's hold: active, or how the task ended. */
export function taskStatusOf(hold: HoldStatus | null): TaskStatus {
  return hold === null ? "missing" : hold.state;
}

/** The ledger's refusal of a draw, as the way the task ended; undefined for other refusals. */
export function endedByLedger(code: string): EndedStatus | undefined {
  switch (code) {
    case "hold_not_found":
      return "missing";
    case "hold_expired":
      return "expired";
    case "hold_released":
      return "released";
    case "hold_already_committed":
      return "committed";
    default:
      return undefined;
  }
}

// The same words as policies/tasks.rego (a test keeps them equal).
const because: Readonly<Record<EndedStatus, string>> = {
  committed: "its hold was committed",
  released: "its hold was released",
  expired: "its hold expired",
  missing: "it has no hold",
};

export function taskEndedReason(taskPrincipalId: string, status: EndedStatus): Reason {
  return {
    code: "TASK_ENDED",
    message: `task ${taskPrincipalId} has ended: ${because[status]}; its credential spends nothing more`,
  };
}

export function taskEndedDeny(taskPrincipalId: string, status: EndedStatus): DecisionResult {
  return {
    allow: false,
    cost: 0,
    hold: 0,
    draw_order: [],
    obligations: {},
    reasons: [taskEndedReason(taskPrincipalId, status)],
  };
}

/**
 * The policy's answer for an ended task if it is a TASK_ENDED deny, else the engine's: a policy
 * that ignores `task_status` (or fails) must not let an ended task spend, nor answer with the
 * INSUFFICIENT_CREDITS its zeroed balances would give.
 */
export function heldToTaskEnded(
  result: DecisionResult,
  taskPrincipalId: string,
  status: EndedStatus,
): DecisionResult {
  const said = !result.allow && result.reasons[0]?.code === "TASK_ENDED";
  return said ? result : taskEndedDeny(taskPrincipalId, status);
}
