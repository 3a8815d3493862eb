/**
 * The bundle a running service decides with. Loads the configured bundle at start (refusing to
 * start without a valid one), reloads when the file changes or when asked (SIGHUP), and swaps
 * to a new evaluator only after it verified and instantiated: a bad bundle never replaces a
 * good one. Every attempt is reported, so the service can audit activations and failures.
 */
import { type FSWatcher, watch } from "node:fs";
import { basename, dirname } from "node:path";
import { CreditgateError } from "../errors.js";
import { type BundleTrust, readBundleFile } from "./bundle.js";
import { type EvaluatorOptions, PolicyEvaluator } from "./evaluator.js";

export type ActivationEvent =
  | {
      readonly kind: "activated";
      readonly revision: string;
      readonly digest: string;
      readonly previousRevision: string | null;
    }
  | { readonly kind: "unchanged"; readonly revision: string; readonly digest: string }
  | {
      readonly kind: "rejected";
      readonly error: CreditgateError;
      readonly keptRevision: string | null;
    };

export interface ActivePolicyOptions {
  readonly bundlePath: string;
  readonly trust: BundleTrust;
  readonly evaluator?: EvaluatorOptions;
  readonly onActivation?: (event: ActivationEvent) => void;
  /** Coalesces the bursts of change events one file replacement produces. */
  readonly watchDebounceMs?: number;
}

function asCreditgateError(error: unknown): CreditgateError {
  if (error instanceof CreditgateError) return error;
  return new CreditgateError("BUNDLE_MALFORMED", {
    message: (error as Error).message,
    cause: error,
  });
}

export class ActivePolicy {
  #current: PolicyEvaluator;
  #watcher: FSWatcher | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #reloading: Promise<ActivationEvent> | undefined;
  readonly #options: ActivePolicyOptions;

  private constructor(initial: PolicyEvaluator, options: ActivePolicyOptions) {
    this.#current = initial;
    this.#options = options;
  }

  /** Loads the bundle or throws: a service must not start without a valid policy. */
  static async start(options: ActivePolicyOptions): Promise<ActivePolicy> {
    const bundle = await readBundleFile(options.bundlePath, options.trust);
    const evaluator = await PolicyEvaluator.create(bundle, options.evaluator);
    const active = new ActivePolicy(evaluator, options);
    options.onActivation?.({
      kind: "activated",
      revision: bundle.revision,
      digest: bundle.digest,
      previousRevision: null,
    });
    return active;
  }

  /** The evaluator to use for one decision; read it once per decision so a swap never splits one. */
  get current(): PolicyEvaluator {
    return this.#current;
  }

  /** Re-reads the bundle file; concurrent calls share one reload. */
  reload(): Promise<ActivationEvent> {
    this.#reloading ??= this.#reload().finally(() => {
      this.#reloading = undefined;
    });
    return this.#reloading;
  }

  async #reload(): Promise<ActivationEvent> {
    let event: ActivationEvent;
    try {
      const bundle = await readBundleFile(this.#options.bundlePath, this.#options.trust);
      if (bundle.digest === this.#current.digest) {
        event = { kind: "unchanged", revision: bundle.revision, digest: bundle.digest };
      } else {
        const next = await PolicyEvaluator.create(bundle, this.#options.evaluator);
        const previousRevision = this.#current.revision;
        this.#current = next;
        event = {
          kind: "activated",
          revision: next.revision,
          digest: next.digest,
          previousRevision,
        };
      }
    } catch (error) {
      event = {
        kind: "rejected",
        error: asCreditgateError(error),
        keptRevision: this.#current.revision,
      };
    }
    this.#options.onActivation?.(event);
    return event;
  }

  /**
   * Watches the bundle's directory (not the file: deploys usually rename a new file into place,
   * which a watch on the old inode would miss).
   */
  watch(): void {
    if (this.#watcher !== undefined) return;
    const file = basename(this.#options.bundlePath);
    this.#watcher = watch(dirname(this.#options.bundlePath), (_event, name) => {
      if (name !== null && name !== file) return;
      clearTimeout(this.#debounce);
      this.#debounce = setTimeout(() => void this.reload(), this.#options.watchDebounceMs ?? 100);
    });
    this.#watcher.unref();
  }

  close(): void {
    clearTimeout(this.#debounce);
    this.#watcher?.close();
    this.#watcher = undefined;
  }
}
