/** What the HTTP layer is given: built by the service (src/service/) or by a test. */
import type { Clock } from "../clock.js";
import type { DecisionEngine, PolicySource } from "../decision/engine.js";
import type { IdentityVerifier } from "../identity/index.js";
import type { OpResult } from "../ledger/codes.js";
import type { LedgerStore } from "../ledger/port.js";
import type { RevokeRequest, RevokeValue } from "../ledger/types.js";
import type { TaskCredentials } from "../tasks/index.js";
import type { ServiceMetrics } from "./metrics.js";
import type { AuthFailure } from "./plugins/auth.js";

export interface AppDeps {
  readonly engine: DecisionEngine;
  readonly store: LedgerStore;
  readonly identity: IdentityVerifier;
  readonly policy: PolicySource;
  readonly metrics: ServiceMetrics;
  readonly clock: Clock;
  /** Task credentials (keys for /.well-known/jwks.json, the signer); absent: none are issued. */
  readonly tasks?: TaskCredentials;
  /** Records a revocation and applies it everywhere (see src/service/revoke.ts). */
  readonly revoke: (request: RevokeRequest) => Promise<OpResult<RevokeValue>>;
  /** Records a refused authentication (audit trail); awaited before the 401 is sent. */
  readonly onAuthFailure: (failure: AuthFailure) => Promise<void>;
}
