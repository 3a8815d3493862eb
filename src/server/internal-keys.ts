/**
 * Idempotency keys the service makes up itself (a release without a key, a task's completion).
 * They start with "~", which the Idempotency-Key header cannot carry
 * (schemas/api/idempotency-headers.schema.json), so no client key can ever collide with one. A
 * long id is named by digest, so the key always fits the ledger (src/ledger/bounded-key.ts).
 */
import { boundedKey } from "../ledger/bounded-key.js";

export function internalKey(purpose: string, id: string): string {
  return boundedKey(`~${purpose}`, [purpose, id], `~${purpose}:${id}`);
}
