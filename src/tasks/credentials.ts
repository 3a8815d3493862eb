/**
 * Task credentials as one capability: the key set and a signer bound to a clock. The core
 * builds it; HTTP routes (the JWKS document, /v1/tasks) receive it through their dependencies.
 */
import type { Clock } from "../clock.js";
import type { TaskKeyStore } from "./key-store.js";
import { type SignedTaskToken, signTaskToken, type TaskTokenRequest } from "./token.js";

export interface TaskCredentials {
  /** The task key set: published keys, rotation; also resolves task tokens' kids. */
  readonly keys: TaskKeyStore;
  /**
   * Signs a task token issued at `issuedAtMs` (default the clock's now), with the key that signs
   * then. A retried task creation passes the original instant, so it gets the same claims.
   */
  sign(request: TaskTokenRequest, issuedAtMs?: number): Promise<SignedTaskToken>;
}

export function taskCredentials(keys: TaskKeyStore, clock: Clock): TaskCredentials {
  return {
    keys,
    sign: (request, issuedAtMs) => signTaskToken(keys, request, issuedAtMs ?? clock.nowMs()),
  };
}
