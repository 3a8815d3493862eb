/**
 * The paths `audit.mask_fields` may name: what callers put into a record's `context` that can
 * identify a person or reveal what they did. Nothing a replay or the ledger needs is read from
 * these (replays answer from the idempotency record), so masking any of them keeps retries and
 * verification working; anything else in a record (amounts, parts, ids the ledger made, the
 * decision id the audit query indexes) is not maskable. docs/api.md#audit-masking lists them.
 */
export const maskablePaths = [
  // A decision's requester (and, on hold and admin routes, whom the action is recorded for).
  "context.principal",
  "context.principal.id",
  "context.principal.issuer",
  "context.principal.jti",
  // A decision's action, its reasons and the response sent.
  "context.action",
  "context.reasons",
  "context.response",
  // Who made an admin write, a commit, a release or a task start.
  "context.actor",
  "context.actor.id",
  "context.actor.issuer",
  // An authentication failure's client address.
  "context.ip",
] as const;

export type MaskablePath = (typeof maskablePaths)[number];

export function isMaskablePath(path: string): path is MaskablePath {
  return (maskablePaths as readonly string[]).includes(path);
}
