/**
 * The decision core, composed from configuration: the ledger store, the active policy bundle
 * (hot-reloaded, every activation audited), the identity verifier consulting revocations, and
 * the decision engine. The HTTP service and the embedded engine are both built on it.
 */

import { loadPseudonymKey } from "../audit/pseudonym-key.js";
import { type Clock, systemClock } from "../clock.js";
import type { Config } from "../config/types.js";
import { DecisionEngine } from "../decision/engine.js";
import {
  createIdentityVerifier,
  devIssuers,
  type IdentityVerifier,
  type IssuerConfig,
} from "../identity/index.js";
import type { OpResult } from "../ledger/codes.js";
import type { LedgerStore } from "../ledger/port.js";
import type { RevokeRequest, RevokeValue } from "../ledger/types.js";
import { limits } from "../limits.js";
import { type ActivationEvent, ActivePolicy } from "../policy/active-policy.js";
import { loadVerificationKey } from "../policy/keys.js";
import { ServiceMetrics } from "../server/metrics.js";
import { openRevocationFeed, openStore, type RevocationFeed } from "../storage/open.js";
import {
  type TaskCredentials,
  TaskKeyStore,
  taskCredentials,
  taskIssuerConfig,
  taskKeyResolverFactory,
} from "../tasks/index.js";
import { type LedgerAlert, LedgerWatch } from "./ledger-watch.js";
import { RevocationIndex } from "./revocations.js";
import { revoke } from "./revoke.js";

export interface CoreOptions {
  readonly clock?: Clock;
  /** Use this store instead of opening the configured one (closed with the core once started). */
  readonly store?: LedgerStore;
  /** Where relative `jwks_file` paths in issuer configuration start from. */
  readonly baseDir?: string;
  /** Watch the bundle file for changes (default: config.policy.watch). */
  readonly watch?: boolean;
  /** A background sweep failed (it is retried at the next interval). */
  readonly onSweepError?: (error: Error) => void;
  /** The ledger disagrees with the audit trail (decisions of the tenants named are refused). */
  readonly onLedgerAlert?: (alert: LedgerAlert) => void;
  /** Told of every bundle load attempt (after it is counted), e.g. to log it. */
  readonly onActivation?: (event: ActivationEvent) => void;
}

export interface Core {
  readonly clock: Clock;
  readonly store: LedgerStore;
  readonly policy: ActivePolicy;
  readonly identity: IdentityVerifier;
  readonly revocations: RevocationIndex;
  readonly engine: DecisionEngine;
  /** Reconciles the ledger with the audit trail; refuses tenants whose rows disagree. */
  readonly ledger: LedgerWatch;
  readonly metrics: ServiceMetrics;
  /** Task credentials: creditgate's own signing keys and the signer (src/tasks/). */
  readonly tasks: TaskCredentials;
  /** Records a revocation and applies it here at once and, on PostgreSQL, on every instance. */
  revoke(request: RevokeRequest): Promise<OpResult<RevokeValue>>;
  /** Re-reads the bundle now; resolves once the outcome is audited. */
  reload(): Promise<ActivationEvent>;
  /** Waits for pending activation audit records. */
  settled(): Promise<void>;
  /** Stops watching and closes the store. */
  close(): Promise<void>;
}

function activationAudit(event: ActivationEvent): Record<string, string | null> {
  switch (event.kind) {
    case "activated":
      return {
        event: "activated",
        revision: event.revision,
        digest: event.digest,
        previous_revision: event.previousRevision,
      };
    case "unchanged":
      return { event: "unchanged", revision: event.revision, digest: event.digest };
    case "rejected":
      return {
        event: "rejected",
        code: event.error.code,
        message: event.error.message,
        kept_revision: event.keptRevision,
      };
  }
}

export async function createCore(config: Config, options: CoreOptions = {}): Promise<Core> {
  const clock = options.clock ?? systemClock;
  const store = options.store ?? (await openStore(config, { clock }));
  const metrics = new ServiceMetrics();
  let auditing: Promise<unknown> = Promise.resolve();
  const settled = async () => {
    await auditing;
  };
  let feed: RevocationFeed | undefined;
  let taskKeys: TaskKeyStore | undefined;
  try {
    const onActivation = (event: ActivationEvent): void => {
      metrics.policyActivations.inc({ outcome: event.kind });
      if (event.kind === "activated") metrics.setActivePolicy(event.revision, event.digest);
      options.onActivation?.(event);
      // "unchanged" is worth a metric, not an audit record.
      if (event.kind === "unchanged") return;
      auditing = auditing
        .then(() =>
          store.recordEvent({ kind: "policy", tenant: null, data: activationAudit(event) }),
        )
        .catch(() => undefined);
    };
    const policy = await ActivePolicy.start({
      bundlePath: config.policy.bundle,
      trust: {
        ...(config.policy.allow_unsigned ? { allowUnsigned: true } : {}),
        verificationKey: await loadVerificationKey({
          publicKeyPath: config.policy.public_key,
          algorithm: config.policy.algorithm,
        }),
      },
      // The engine builds every input from verified claims, ledger numbers and a schema-checked
      // action; the result is still validated on every evaluation.
      evaluator: { validateInput: false },
      onActivation,
    });
    await settled();
    if (options.watch ?? config.policy.watch) policy.watch();

    const revocations = new RevocationIndex(store, { clock });
    feed = await openRevocationFeed(config, {
      onNotice: (notice) => revocations.stale(notice.tenant),
    });
    const revocationFeed = feed;
    taskKeys = await TaskKeyStore.open(config.tasks, { clock });
    const keys = taskKeys;
    const issuers: IssuerConfig[] = [
      ...(config.identity.issuers as unknown as IssuerConfig[]),
      ...(config.identity.dev_issuer ? devIssuers : []),
      // Verified like any issuer; a configured issuer with the same iss is CONFIG_INVALID.
      taskIssuerConfig(config.tasks),
    ];
    const identity = await createIdentityVerifier({
      issuers,
      clock,
      keyResolverFactory: taskKeyResolverFactory(keys),
      isRevoked: (query) => revocations.isRevoked(query),
      ...(config.identity.platform_admin_role === undefined
        ? {}
        : { platformAdminRole: config.identity.platform_admin_role }),
      ...(options.baseDir === undefined ? {} : { baseDir: options.baseDir }),
    });
    const ledger = new LedgerWatch(store, (alert) => options.onLedgerAlert?.(alert));
    const engine = new DecisionEngine({
      policy,
      store,
      clock,
      pseudonyms: await loadPseudonymKey(config.audit.pseudonym_key_file),
      refuse: (tenant) => ledger.refusal(tenant),
      holdTtlMs: config.holds.default_ttl_ms,
      observe: (response, elapsedMs) => metrics.observeDecision(response, elapsedMs),
    });
    // Expiry is exact whenever a tenant is read; the sweeper also writes it (and its audit
    // record) for tenants nobody reads, so the trail and expired tasks' holds are timely.
    let sweeping: Promise<unknown> = Promise.resolve();
    const sweeper = setInterval(() => {
      sweeping = store.sweep(limits.sweepTenantsMax).catch((error: unknown) => {
        options.onSweepError?.(error as Error);
      });
    }, limits.sweepIntervalMs);
    sweeper.unref();
    // A walk of the whole chain: in the background, at start-up and then now and again.
    let reconciling: Promise<unknown> = ledger.check().catch(() => undefined);
    const reconciler = setInterval(() => {
      reconciling = ledger.check().catch(() => undefined);
    }, limits.ledgerReconcileIntervalMs);
    reconciler.unref();
    let closing: Promise<void> | undefined;
    return {
      clock,
      store,
      policy,
      identity,
      revocations,
      engine,
      ledger,
      metrics,
      tasks: taskCredentials(keys, clock),
      revoke: (request) =>
        revoke(
          { store, index: revocations, ...(revocationFeed ? { feed: revocationFeed } : {}) },
          request,
        ),
      async reload() {
        const event = await policy.reload();
        await settled();
        return event;
      },
      settled,
      close() {
        closing ??= (async () => {
          policy.close();
          clearInterval(sweeper);
          clearInterval(reconciler);
          await sweeping;
          await reconciling;
          await settled();
          await revocationFeed?.close();
          keys.close();
          await store.close();
        })();
        return closing;
      },
    };
  } catch (error) {
    await settled();
    await feed?.close();
    taskKeys?.close();
    if (options.store === undefined) await store.close();
    throw error;
  }
}
