/**
 * Idempotency keys the service makes up itself (a release without a key, a task's completion).
 * They start with "~", which the Idempotency-Key header cannot carry
 * (schemas/api/idempotency-headers.schema.json), so no client key can ever collide with one.
 */
export function internalKey(purpose: string, id: string): string {
  return `~${purpose}:${id}`;
}
