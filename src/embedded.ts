/**
 * `createEngine()`: the same decision flow as the service, in-process and without HTTP. It opens
 * the configured store and bundle (defaults: SQLite under ./data, the committed bundle), verifies
 * tokens with the configured issuers, and answers exactly what POST /v1/decisions answers.
 */
import { loadConfig } from "./config/load.js";
import type { Config } from "./config/types.js";
import type { DecisionResponse } from "./decision/types.js";
import { CreditgateError } from "./errors.js";
import type { IdentityVerifier, VerifiedPrincipal } from "./identity/index.js";
import type { LedgerStore } from "./ledger/port.js";
import type { ActivePolicy } from "./policy/active-policy.js";
import type { Action } from "./policy/types.js";
import { type CoreOptions, createCore } from "./service/core.js";

export interface EngineOptions extends CoreOptions {
  /** A loaded configuration; else `configFile`, else $CREDITGATE_CONFIG, else the defaults. */
  readonly config?: Config;
  readonly configFile?: string;
}

export interface DecideOptions {
  /** Required unless dryRun; a retry with the same key returns the identical response. */
  readonly idempotencyKey?: string;
  readonly dryRun?: boolean;
}

export interface Engine {
  /** Verifies a bearer token (without the "Bearer " prefix) as the service would. */
  authenticate(token: string): Promise<VerifiedPrincipal>;
  /** Decides for a token, verified first, or for a principal the caller has already verified. */
  decide(
    who: { readonly token: string } | { readonly principal: VerifiedPrincipal },
    action: Action,
    options?: DecideOptions,
  ): Promise<DecisionResponse>;
  readonly store: LedgerStore;
  readonly policy: ActivePolicy;
  readonly identity: IdentityVerifier;
  close(): Promise<void>;
}

export async function createEngine(options: EngineOptions = {}): Promise<Engine> {
  const config =
    options.config ??
    (await loadConfig(options.configFile === undefined ? {} : { file: options.configFile }));
  const core = await createCore(config, { watch: false, ...options });
  // The store's read connections throw a bare TypeError once closed; answer with the code.
  let closed = false;
  return {
    store: core.store,
    policy: core.policy,
    identity: core.identity,
    authenticate: (token) => core.identity.authenticate(token),
    async decide(who, action, decideOptions = {}) {
      if (closed) throw new CreditgateError("STORE_CLOSED");
      const principal =
        "token" in who ? await core.identity.authenticate(who.token) : who.principal;
      return core.engine.decide({
        principal,
        action,
        ...(decideOptions.idempotencyKey === undefined
          ? {}
          : { idempotencyKey: decideOptions.idempotencyKey }),
        ...(decideOptions.dryRun === true ? { dryRun: true } : {}),
      });
    },
    close: () => {
      closed = true;
      return core.close();
    },
  };
}
