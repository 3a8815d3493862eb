/**
 * The service's own reconciliation of the ledger with the audit trail. It verifies the chain and
 * the rows behind it at start-up and then every `limits.ledgerReconcileIntervalMs`; a tenant
 * whose rows the chain does not account for is refused every decision (fail closed) until a
 * later check finds it reconciled, and a broken chain refuses every tenant: nothing can be
 * trusted to the credit then. Each finding is reported once per check, for the log.
 */
import { type ChainVerification, describeBreak } from "../audit/verify.js";
import { CreditgateError } from "../errors.js";
import type { LedgerStore } from "../ledger/port.js";

export interface LedgerAlert {
  readonly message: string;
  /** The failed verification; absent when the check itself could not run. */
  readonly verification?: Extract<ChainVerification, { ok: false }>;
}

export class LedgerWatch {
  readonly #store: Pick<LedgerStore, "verifyAudit">;
  readonly #onAlert: (alert: LedgerAlert) => void;
  #tenants: ReadonlySet<string> = new Set();
  #all: string | null = null;
  #running: Promise<ChainVerification> | null = null;

  constructor(store: Pick<LedgerStore, "verifyAudit">, onAlert: (alert: LedgerAlert) => void) {
    this.#store = store;
    this.#onAlert = onAlert;
  }

  /** One reconciliation; a call while one runs shares it. */
  check(): Promise<ChainVerification> {
    this.#running ??= this.#check().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  async #check(): Promise<ChainVerification> {
    let result: ChainVerification;
    try {
      result = await this.#store.verifyAudit();
    } catch (error) {
      // The refusals found last stand; the failure is reported, and the next check tries again.
      this.#onAlert({ message: `the ledger could not be reconciled: ${(error as Error).message}` });
      throw error;
    }
    if (result.ok) {
      this.#tenants = new Set();
      this.#all = null;
      return result;
    }
    const where = describeBreak(result);
    if (result.reason === "ledger_mismatch" && result.tenants !== undefined) {
      this.#tenants = new Set(result.tenants);
      this.#all = null;
      this.#onAlert({
        message: `the ledger disagrees with the audit trail at ${where}; refusing decisions for ${result.tenants.join(", ")}`,
        verification: result,
      });
    } else {
      this.#all = where;
      this.#onAlert({
        message: `the audit trail does not verify at ${where}; refusing every decision`,
        verification: result,
      });
    }
    return result;
  }

  /** Why decisions for `tenant` are refused now, or null when they are not. */
  refusal(tenant: string): CreditgateError | null {
    if (this.#all !== null) {
      return new CreditgateError("LEDGER_INVARIANT_VIOLATED", {
        message: "the audit trail does not verify; decisions are refused until it does",
      });
    }
    if (this.#tenants.has(tenant)) {
      return new CreditgateError("LEDGER_INVARIANT_VIOLATED", {
        message: `the ledger of tenant ${tenant} disagrees with the audit trail; decisions are refused until it is reconciled`,
      });
    }
    return null;
  }
}
