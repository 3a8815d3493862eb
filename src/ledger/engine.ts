/**
 * The ledger service for one write transaction (one group-commit batch). Operations run in
 * arrival order against state loaded once per tenant and updated in memory, so later operations
 * see earlier ones; the adapter writes the resulting change set in the same transaction.
 *
 * Each operation validates, checks its idempotency key, loads what it needs (awaits), plans
 * (pure), and only then mutates state synchronously: a refusal leaves no trace.
 */
import { createHash } from "node:crypto";
import { canonicalize, type JsonValue } from "../audit/canonical.js";
import {
  type AuditKind,
  type AuditRecord,
  type ChainHead,
  emptyHead,
  linkRecord,
} from "../audit/chain.js";
import { type AuditIndexKeys, auditIndexKeys } from "../audit/index-keys.js";
import { maskFields } from "../audit/mask.js";
import { CreditgateError } from "../errors.js";
import { newId } from "../ids.js";
import { limits } from "../limits.js";
import { type OpResult, type RefusalCode, refuse } from "./codes.js";
import {
  type DrawClass,
  mergeParts,
  planDraw,
  remainingParts,
  splitParts,
  sumParts,
} from "./draw.js";
import { opId } from "./op-ids.js";
import type {
  ChangeSet,
  EntryKind,
  EntryRow,
  GrantRow,
  HoldDrawRow,
  HoldRow,
  HoldState,
  IdempotencyRow,
  LedgerTx,
  TenantRow,
  TransferEntry,
  UsageDelta,
} from "./rows.js";
import {
  type AuditContext,
  type Balances,
  type CommitRequest,
  type CommitValue,
  type CreditClass,
  creditClasses,
  type DebitRequest,
  type DebitValue,
  type DecisionRequest,
  type DecisionValue,
  type DrawHoldRequest,
  type DrawHoldValue,
  type EventRequest,
  type EventValue,
  eventKinds,
  type GrantRequest,
  type GrantValue,
  type HoldRequest,
  type HoldStatus,
  type HoldValue,
  type IdempotencyRecord,
  type Outcome,
  type Part,
  type RecordOutcome,
  type ReleaseRequest,
  type ReleaseValue,
  type ReverseRequest,
  type ReverseValue,
  type Revocation,
  type RevokeRequest,
  type RevokeValue,
  type Snapshot,
  type SweepResult,
  type TenantInfo,
  type TenantStatus,
  type TenantStatusRequest,
  type TenantStatusValue,
  type UsageIncrement,
  type UsageKey,
  usageWindows,
  zeroAmounts,
} from "./types.js";
import {
  assertClass,
  assertIdentifier,
  assertInteger,
  assertRevocationKind,
  assertTenantStatus,
  assertText,
  checkAmount,
  checkDrawOrder,
  checkFloors,
  checkUsage,
} from "./validate.js";

export interface EngineOptions {
  /** Dotted paths into audit `data` replaced before hashing. */
  readonly maskFields?: readonly string[];
}

interface TenantState {
  readonly tenant: string;
  readonly isNew: boolean;
  touched: boolean;
  readonly fromPosted: Record<CreditClass, number>;
  readonly fromHeld: Record<CreditClass, number>;
  readonly posted: Record<CreditClass, number>;
  readonly held: Record<CreditClass, number>;
  readonly fromNextHoldExpiry: number | null;
  nextHoldExpiry: number | null;
  readonly fromStatus: TenantStatus;
  status: TenantStatus;
  statusAtMs: number | null;
  statusReason: string | null;
  readonly grants: Map<string, GrantRow>;
}

type Op =
  | "grant"
  | "debit"
  | "hold"
  | "draw"
  | "commit"
  | "release"
  | "reverse"
  | "revoke"
  | "tenant_status"
  | "decision";

/**
 * sha256 of the canonical request (tenant and key included, the audit context and `record` left
 * out: they are metadata, and a retry may carry a new decision id). Compared only for the same (tenant, key);
 * it also seeds the ids the operation creates, so one hash serves both.
 */
function requestFingerprint(op: Op, request: object): string {
  const {
    audit: _audit,
    record: _record,
    ...rest
  } = request as {
    audit?: unknown;
    record?: unknown;
  };
  return createHash("sha256")
    .update(canonicalize({ op, request: rest }))
    .digest("hex");
}

export class LedgerEngine {
  readonly #tx: LedgerTx;
  readonly #nowMs: number;
  readonly #mask: readonly string[];
  #head: ChainHead;
  readonly #fromHead: ChainHead;
  readonly #tenants = new Map<string, TenantState>();
  readonly #tenantLoads = new Map<string, Promise<TenantState>>();
  readonly #grantOrigin = new Map<string, { remaining: number; status: GrantRow["status"] }>();
  readonly #newGrants = new Set<string>();
  readonly #holds = new Map<string, HoldRow>();
  readonly #holdOrigin = new Map<string, { state: HoldState; drawn: number }>();
  readonly #holdDraws: HoldDrawRow[] = [];
  readonly #newHolds = new Set<string>();
  readonly #transfers = new Map<string, TransferEntry[]>();
  readonly #idem = new Map<string, IdempotencyRow | null>();
  readonly #newIdem: IdempotencyRow[] = [];
  readonly #entries: EntryRow[] = [];
  readonly #entryCounts = new Map<string, number>();
  readonly #audit: { record: AuditRecord; dataText: string; keys: AuditIndexKeys }[] = [];
  readonly #usage = new Map<string, UsageDelta>();
  /** Usage counters as stored, read once per batch for limit checks (pending ones are in #usage). */
  readonly #usageStored = new Map<string, { calls: number; credits: number }>();
  readonly #revocations: Revocation[] = [];

  private constructor(tx: LedgerTx, nowMs: number, head: ChainHead, options: EngineOptions) {
    this.#tx = tx;
    this.#nowMs = nowMs;
    this.#head = head;
    this.#fromHead = head;
    this.#mask = options.maskFields ?? [];
  }

  static async begin(
    tx: LedgerTx,
    nowMs: number,
    options: EngineOptions = {},
  ): Promise<LedgerEngine> {
    assertInteger(nowMs, "nowMs");
    return new LedgerEngine(tx, nowMs, await tx.readHead(), options);
  }

  /**
   * An engine for a read that is thrown away: no chain head is read (on PostgreSQL that would
   * take the writers' lock), because whatever it appends is discarded — a read that finds
   * something due is run again on the write path (`dirty`).
   */
  static forRead(tx: LedgerTx, nowMs: number, options: EngineOptions = {}): LedgerEngine {
    assertInteger(nowMs, "nowMs");
    return new LedgerEngine(tx, nowMs, emptyHead, options);
  }

  get nowMs(): number {
    return this.#nowMs;
  }

  /** Whether anything would be written: a read that matured something must go the write path. */
  get dirty(): boolean {
    if (this.#audit.length > 0 || this.#entries.length > 0 || this.#holdDraws.length > 0)
      return true;
    for (const ts of this.#tenants.values()) if (ts.touched) return true;
    return false;
  }

  /**
   * Loads, in one go, the idempotency records and tenants a batch's operations will ask for, so a
   * batch costs a fixed number of round trips however many operations it carries. Only a cache:
   * each operation still validates and reads through the same paths.
   */
  async prefetch(hints: readonly { tenant: unknown; key?: unknown }[]): Promise<void> {
    const keys: { tenant: string; key: string }[] = [];
    const tenants = new Set<string>();
    for (const h of hints) {
      if (typeof h.tenant !== "string") continue;
      if (!this.#tenantLoads.has(h.tenant)) tenants.add(h.tenant);
      if (typeof h.key === "string" && !this.#idem.has(idemId(h.tenant, h.key))) {
        keys.push({ tenant: h.tenant, key: h.key });
      }
    }
    if (keys.length === 0 && tenants.size === 0) return;
    const loaded = await this.#tx.loadBatch(keys, [...tenants]);
    for (const k of keys) this.#idem.set(idemId(k.tenant, k.key), null);
    for (const row of loaded.idempotency) this.#idem.set(idemId(row.tenant, row.key), row);
    for (const tenant of tenants) {
      const found = loaded.tenants.get(tenant);
      this.#tenantLoads.set(
        tenant,
        Promise.resolve(this.#makeTenant(tenant, found?.row ?? null, found?.grants ?? [])),
      );
    }
  }

  // --- operations --------------------------------------------------------------------------

  async grant(req: GrantRequest): Promise<OpResult<GrantValue>> {
    this.#assertKeyed(req);
    assertClass(req.class, "class");
    assertIdentifier(req.source, "source");
    if (req.reference !== undefined) assertIdentifier(req.reference, "reference");
    const priority = req.priority ?? 0;
    assertInteger(priority, "priority");
    if (priority < 0 || priority > limits.grantPriorityMax)
      throw new TypeError("priority out of range");
    if (req.effectiveAtMs !== undefined) assertInteger(req.effectiveAtMs, "effectiveAtMs");
    if (req.expiresAtMs !== undefined) assertInteger(req.expiresAtMs, "expiresAtMs");
    const now = this.#nowMs;
    const effectiveAtMs = Math.max(req.effectiveAtMs ?? now, now);
    const code =
      checkAmount(req.amount) ??
      (req.expiresAtMs === undefined
        ? null
        : req.expiresAtMs <= now
          ? "expires_in_past"
          : req.expiresAtMs <= effectiveAtMs
            ? "expires_not_after_effective"
            : null);
    return this.#idempotent("grant", req, code, async (fingerprint) => {
      const ts = await this.#tenant(req.tenant);
      const grant: GrantRow = {
        grantId: opId("grant", now, fingerprint),
        tenant: req.tenant,
        class: req.class,
        amount: req.amount,
        remaining: req.amount,
        status: effectiveAtMs <= now ? "active" : "pending",
        effectiveAtMs,
        expiresAtMs: req.expiresAtMs ?? null,
        priority,
        source: req.source,
        reference: req.reference ?? null,
        createdAtMs: now,
      };
      ts.grants.set(grant.grantId, grant);
      this.#newGrants.add(grant.grantId);
      ts.touched = true;
      if (grant.status === "active") {
        this.#entry(
          ts,
          grant.class,
          grant.grantId,
          grant.grantId,
          "grant",
          grant.amount,
          null,
          now,
        );
      }
      const auditSeq = this.#append("grant", req.tenant, now, {
        key: req.key,
        grant_id: grant.grantId,
        class: grant.class,
        amount: grant.amount,
        effective_at_ms: grant.effectiveAtMs,
        expires_at_ms: grant.expiresAtMs,
        priority,
        source: grant.source,
        reference: grant.reference,
        context: req.audit ?? null,
      });
      return {
        grantId: grant.grantId,
        class: grant.class,
        amount: grant.amount,
        effectiveAtMs,
        expiresAtMs: grant.expiresAtMs,
        auditSeq,
      };
    });
  }

  async debit(req: DebitRequest): Promise<OpResult<DebitValue>> {
    this.#assertKeyed(req);
    checkUsage(req.usage);
    const code = checkAmount(req.amount) ?? checkDrawOrder(req.drawOrder, req.floors);
    return this.#idempotent("debit", req, code, async (fingerprint) => {
      const ts = await this.#tenant(req.tenant);
      const limited = await this.#usageLimit(req.tenant, req.usage);
      if (limited !== null) return limited;
      const plan = planDraw(req.amount, req.drawOrder, this.#drawClasses(ts), req.floors);
      if (!plan.ok) return plan.code;
      // Before any mutation: a bad recording is a TypeError that must leave no trace.
      const recording = recordingOf(req, { parts: plan.parts });
      const now = this.#nowMs;
      const transferId = opId("entry", now, fingerprint);
      for (const part of plan.parts) {
        if (part.grantId !== null) this.#adjustGrant(ts, part.grantId, -part.amount);
        this.#entry(ts, part.class, part.grantId, transferId, "debit", -part.amount, null, now);
      }
      this.#addUsage(req.tenant, req.usage);
      const auditSeq = this.#append("debit", req.tenant, now, {
        key: req.key,
        transfer_id: transferId,
        amount: req.amount,
        draw_order: [...req.drawOrder],
        parts: partsJson(plan.parts),
        context: recording.context,
      });
      return {
        transferId,
        amount: req.amount,
        parts: plan.parts,
        atMs: now,
        auditSeq,
        ...recording.replay,
      };
    });
  }

  async hold(req: HoldRequest): Promise<OpResult<HoldValue>> {
    this.#assertKeyed(req);
    checkUsage(req.usage);
    assertInteger(req.ttlMs, "ttlMs");
    const fee = req.fee ?? 0;
    assertInteger(fee, "fee");
    if (req.owner !== undefined) assertIdentifier(req.owner, "owner");
    const code =
      checkAmount(req.amount) ??
      (fee === 0 ? null : checkAmount(fee)) ??
      checkDrawOrder(req.drawOrder, req.floors) ??
      (req.ttlMs < limits.holdTtlMsMin || req.ttlMs > limits.holdTtlMsMax
        ? "ttl_out_of_range"
        : null);
    return this.#idempotent("hold", req, code, async (fingerprint) => {
      const ts = await this.#tenant(req.tenant);
      const limited = await this.#usageLimit(req.tenant, req.usage);
      if (limited !== null) return limited;
      // One plan for fee and hold together, so both fit or neither applies.
      const plan = planDraw(fee + req.amount, req.drawOrder, this.#drawClasses(ts), req.floors);
      if (!plan.ok) return plan.code;
      const { taken: feeParts, rest: holdParts } = splitParts(plan.parts, fee);
      const now = this.#nowMs;
      const hold: HoldRow = {
        holdId: opId("hold", now, fingerprint),
        tenant: req.tenant,
        amount: req.amount,
        parts: holdParts,
        drawOrder: [...req.drawOrder],
        owner: req.owner ?? null,
        state: "active",
        createdAtMs: now,
        expiresAtMs: now + req.ttlMs,
        resolvedAtMs: null,
        drawn: 0,
        released: null,
      };
      const recording = recordingOf(req, { parts: plan.parts, holdId: hold.holdId });
      let feeValue: HoldValue["fee"];
      if (fee > 0) {
        const transferId = opId("entry", now, fingerprint);
        for (const part of feeParts) {
          if (part.grantId !== null) this.#adjustGrant(ts, part.grantId, -part.amount);
          this.#entry(ts, part.class, part.grantId, transferId, "debit", -part.amount, null, now);
        }
        this.#append("debit", req.tenant, now, {
          key: req.key,
          transfer_id: transferId,
          amount: fee,
          draw_order: [...req.drawOrder],
          parts: partsJson(feeParts),
          // The fee belongs to the hold recorded next, which carries the caller's context.
          hold_id: hold.holdId,
          context: null,
        });
        feeValue = { transferId, amount: fee, parts: feeParts };
      }
      for (const part of holdParts) {
        if (part.grantId !== null) this.#adjustGrant(ts, part.grantId, -part.amount);
        ts.held[part.class] += part.amount;
      }
      ts.touched = true;
      this.#holds.set(hold.holdId, hold);
      this.#newHolds.add(hold.holdId);
      ts.nextHoldExpiry = minOrNull(ts.nextHoldExpiry, hold.expiresAtMs);
      this.#addUsage(req.tenant, req.usage);
      const auditSeq = this.#append("hold", req.tenant, now, {
        key: req.key,
        hold_id: hold.holdId,
        amount: req.amount,
        expires_at_ms: hold.expiresAtMs,
        draw_order: [...req.drawOrder],
        parts: partsJson(holdParts),
        context: recording.context,
      });
      return {
        holdId: hold.holdId,
        amount: req.amount,
        parts: holdParts,
        expiresAtMs: hold.expiresAtMs,
        auditSeq,
        ...(feeValue === undefined ? {} : { fee: feeValue }),
        ...recording.replay,
      };
    });
  }

  async commit(req: CommitRequest): Promise<OpResult<CommitValue>> {
    this.#assertKeyed(req);
    assertIdentifier(req.holdId, "holdId");
    if (req.owner !== undefined) assertIdentifier(req.owner, "owner");
    if (req.formerOwner !== undefined) assertIdentifier(req.formerOwner, "formerOwner");
    checkUsage(req.usage);
    assertInteger(req.amount, "amount");
    const allowance = req.overageAllowance ?? 0;
    assertInteger(allowance, "overageAllowance");
    const code: RefusalCode | null =
      req.amount < 0
        ? "amount_not_positive"
        : req.amount > limits.creditAmountMax
          ? "amount_exceeds_max"
          : (checkFloors(req.floors) ??
            (allowance < 0 || allowance > limits.creditAmountMax
              ? "overage_allowance_invalid"
              : null));
    return this.#idempotent("commit", req, code, async (fingerprint) => {
      const ts = await this.#tenant(req.tenant);
      const hold = await this.#hold(ts, req.holdId);
      const stateCode = ownerCode(hold, req.owner, req.formerOwner) ?? holdStateCode(hold);
      if (stateCode !== null || hold === null) return stateCode ?? "hold_not_found";
      // A partly drawn hold settles against what it still reserves.
      const reserved = remainingParts(hold.parts, hold.drawn);
      const left = hold.amount - hold.drawn;
      if (req.amount > left + allowance) return "commit_exceeds_hold";
      const limited = await this.#usageLimit(req.tenant, req.usage);
      if (limited !== null) return limited;
      let extra: readonly Part[] = [];
      if (req.amount > left) {
        const plan = planDraw(req.amount - left, hold.drawOrder, this.#drawClasses(ts), req.floors);
        if (!plan.ok) return plan.code;
        extra = plan.parts;
      }
      const { taken, rest } = splitParts(reserved, Math.min(req.amount, left));
      await this.#loadGrants(ts, rest);
      const now = this.#nowMs;
      const transferId = opId("entry", now, fingerprint);
      this.#resolveHold(ts, hold, "committed", now, rest);
      for (const part of extra) {
        if (part.grantId !== null) this.#adjustGrant(ts, part.grantId, -part.amount);
      }
      const posted = mergeParts([...taken, ...extra]);
      for (const part of posted) {
        this.#entry(ts, part.class, part.grantId, transferId, "commit", -part.amount, null, now);
      }
      this.#addUsage(req.tenant, req.usage);
      const released = sumParts(rest);
      const auditSeq = this.#append("commit", req.tenant, now, {
        key: req.key,
        transfer_id: transferId,
        hold_id: hold.holdId,
        committed: req.amount,
        released,
        parts: partsJson(posted),
        context: req.audit ?? null,
      });
      return {
        transferId,
        holdId: hold.holdId,
        committed: req.amount,
        released,
        parts: posted,
        auditSeq,
      };
    });
  }

  /**
   * Spends `amount` of an active hold's reservation, in the hold's part order: debit entries on
   * the same classes and grants, the hold and the tenant's held totals go down, the hold stays
   * active. The grants do not move: their credit already left `remaining` when the hold took it.
   */
  async drawHold(req: DrawHoldRequest): Promise<OpResult<DrawHoldValue>> {
    this.#assertKeyed(req);
    assertIdentifier(req.holdId, "holdId");
    checkUsage(req.usage);
    const code = checkAmount(req.amount);
    return this.#idempotent("draw", req, code, async (fingerprint) => {
      const ts = await this.#tenant(req.tenant);
      const hold = await this.#hold(ts, req.holdId);
      const stateCode = holdStateCode(hold);
      if (stateCode !== null || hold === null) return stateCode ?? "hold_not_found";
      const left = hold.amount - hold.drawn;
      if (req.amount > left) return "hold_insufficient";
      const limited = await this.#usageLimit(req.tenant, req.usage);
      if (limited !== null) return limited;
      const { taken } = splitParts(remainingParts(hold.parts, hold.drawn), req.amount);
      const recording = recordingOf(req, { parts: taken });
      const now = this.#nowMs;
      const transferId = opId("entry", now, fingerprint);
      hold.drawn += req.amount;
      for (const part of taken) {
        ts.held[part.class] -= part.amount;
        this.#entry(ts, part.class, part.grantId, transferId, "debit", -part.amount, null, now);
      }
      this.#holdDraws.push({
        transferId,
        holdId: hold.holdId,
        tenant: req.tenant,
        amount: req.amount,
        atMs: now,
      });
      this.#addUsage(req.tenant, req.usage);
      const remaining = left - req.amount;
      const auditSeq = this.#append("draw", req.tenant, now, {
        key: req.key,
        transfer_id: transferId,
        hold_id: hold.holdId,
        amount: req.amount,
        remaining,
        parts: partsJson(taken),
        context: recording.context,
      });
      return {
        transferId,
        holdId: hold.holdId,
        amount: req.amount,
        parts: taken,
        remaining,
        auditSeq,
        ...recording.replay,
      };
    });
  }

  async release(req: ReleaseRequest): Promise<OpResult<ReleaseValue>> {
    this.#assertKeyed(req);
    assertIdentifier(req.holdId, "holdId");
    if (req.owner !== undefined) assertIdentifier(req.owner, "owner");
    if (req.formerOwner !== undefined) assertIdentifier(req.formerOwner, "formerOwner");
    return this.#idempotent("release", req, null, async () => {
      const ts = await this.#tenant(req.tenant);
      const hold = await this.#hold(ts, req.holdId);
      const stateCode = ownerCode(hold, req.owner, req.formerOwner) ?? holdStateCode(hold);
      if (stateCode !== null || hold === null) return stateCode ?? "hold_not_found";
      const reserved = remainingParts(hold.parts, hold.drawn);
      await this.#loadGrants(ts, reserved);
      const now = this.#nowMs;
      this.#resolveHold(ts, hold, "released", now, reserved);
      const released = sumParts(reserved);
      const auditSeq = this.#append("release", req.tenant, now, {
        key: req.key,
        hold_id: hold.holdId,
        released,
        context: req.audit ?? null,
      });
      return { holdId: hold.holdId, released, auditSeq };
    });
  }

  async reverse(req: ReverseRequest): Promise<OpResult<ReverseValue>> {
    this.#assertKeyed(req);
    assertIdentifier(req.transferId, "transferId");
    assertText(req.reason, "reason", limits.reasonCharsMax);
    const code = req.amount === undefined ? null : checkAmount(req.amount);
    return this.#idempotent("reverse", req, code, async (fingerprint) => {
      const ts = await this.#tenant(req.tenant);
      const entries = await this.#transfer(req.tenant, req.transferId);
      if (entries.length === 0) return "transfer_not_found";
      if (entries.some((e) => e.kind !== "debit" && e.kind !== "commit"))
        return "transfer_not_reversible";
      const left = entries.reduce((sum, e) => sum - e.amount - e.reversed, 0);
      const amount = req.amount ?? left;
      if (amount <= 0 || amount > left) return "reversal_exceeds_remaining";
      await this.#loadGrants(ts, entries);
      const now = this.#nowMs;
      const transferId = opId("reversal", now, fingerprint);
      const parts: Part[] = [];
      let need = amount;
      // Last drawn, first refunded: the mirror image of the draw order.
      for (const original of [...entries].reverse()) {
        const take = Math.min(need, -original.amount - original.reversed);
        if (take <= 0) continue;
        need -= take;
        original.reversed += take;
        parts.push({ class: original.class, grantId: original.grantId, amount: take });
        this.#entry(
          ts,
          original.class,
          original.grantId,
          transferId,
          "reversal",
          take,
          original.entryId,
          now,
        );
        if (original.grantId !== null)
          this.#returnToGrant(ts, original.grantId, original.class, take, now);
      }
      const auditSeq = this.#append("reversal", req.tenant, now, {
        key: req.key,
        transfer_id: transferId,
        reversed_transfer_id: req.transferId,
        amount,
        reason: req.reason,
        parts: partsJson(parts),
        context: req.audit ?? null,
      });
      return { transferId, reversedTransferId: req.transferId, amount, parts, auditSeq };
    });
  }

  async revoke(req: RevokeRequest): Promise<OpResult<RevokeValue>> {
    this.#assertKeyed(req);
    assertRevocationKind(req.kind);
    assertIdentifier(req.subject, "subject");
    assertText(req.reason, "reason", limits.reasonCharsMax);
    return this.#idempotent("revoke", req, null, async (fingerprint) => {
      const now = this.#nowMs;
      const revocation: Revocation = {
        revocationId: opId("revocation", now, fingerprint),
        tenant: req.tenant,
        kind: req.kind,
        subject: req.subject,
        reason: req.reason,
        atMs: now,
      };
      this.#revocations.push(revocation);
      const auditSeq = this.#append("revocation", req.tenant, now, {
        key: req.key,
        revocation_id: revocation.revocationId,
        revoked_kind: req.kind,
        subject: req.subject,
        reason: req.reason,
        context: req.audit ?? null,
      });
      // A revoked grant stops paying at once: what is left of it expires now (after the
      // revocation record, so the trail reads cause then effect). Credits it still has in
      // open holds expire when those holds give them back.
      if (req.kind === "grant") await this.#revokeGrant(req.tenant, req.subject, now);
      return { revocationId: revocation.revocationId, auditSeq };
    });
  }

  /**
   * Suspends or reinstates a tenant: the tenant row's status (what every decision's snapshot
   * reads) and an audit record, in this transaction. The status a tenant already has is not
   * changed again (its time and reason stay), but the request is still keyed and audited.
   */
  async setTenantStatus(req: TenantStatusRequest): Promise<OpResult<TenantStatusValue>> {
    this.#assertKeyed(req);
    assertTenantStatus(req.status);
    assertText(req.reason, "reason", limits.reasonCharsMax);
    return this.#idempotent("tenant_status", req, null, async () => {
      const now = this.#nowMs;
      const ts = await this.#tenant(req.tenant);
      const previousStatus = ts.status;
      const changed = previousStatus !== req.status;
      if (changed) {
        ts.status = req.status;
        ts.statusAtMs = now;
        ts.statusReason = req.reason;
        ts.touched = true;
      }
      const auditSeq = this.#append("tenant_status", req.tenant, now, {
        key: req.key,
        status: req.status,
        previous_status: previousStatus,
        changed,
        reason: req.reason,
        context: req.audit ?? null,
      });
      return {
        tenant: req.tenant,
        status: ts.status,
        previousStatus,
        changed,
        sinceMs: ts.statusAtMs,
        reason: ts.statusReason,
        auditSeq,
      };
    });
  }

  async recordDecision(req: DecisionRequest): Promise<OpResult<DecisionValue>> {
    this.#assertKeyed(req);
    checkUsage(req.usage);
    if (req.audit === undefined && req.record === undefined)
      throw new TypeError("a decision record needs an audit context or a record callback");
    return this.#idempotent("decision", req, null, async () => {
      this.#addUsage(req.tenant, req.usage);
      const recording = recordingOf(req, { parts: [] });
      const auditSeq = this.#append("decision", req.tenant, this.#nowMs, {
        key: req.key,
        context: recording.context,
      });
      return { auditSeq, ...recording.replay };
    });
  }

  /**
   * A service event: no idempotency key and no ledger effect, so nothing to check but the
   * request itself. The data sits under `context` like every other caller context, so masking
   * paths and the principal / decision-id columns apply to events the same way.
   */
  async recordEvent(req: EventRequest): Promise<EventValue> {
    if (!(eventKinds as readonly unknown[]).includes(req.kind)) {
      throw new TypeError(`event kind must be one of ${eventKinds.join(", ")}`);
    }
    if (req.tenant !== null) assertIdentifier(req.tenant, "tenant");
    assertContext(req.data, "event data");
    return { auditSeq: this.#append(req.kind, req.tenant, this.#nowMs, { context: req.data }) };
  }

  async balances(tenant: string): Promise<Balances> {
    assertIdentifier(tenant, "tenant");
    return this.#balancesOf(await this.#tenant(tenant));
  }

  #balancesOf(ts: TenantState): Balances {
    const tenant = ts.tenant;
    const available = zeroAmounts();
    for (const cls of creditClasses) available[cls] = ts.posted[cls] - ts.held[cls];
    return { tenant, atMs: this.#nowMs, posted: { ...ts.posted }, held: { ...ts.held }, available };
  }

  async tenantInfo(tenant: string): Promise<TenantInfo> {
    assertIdentifier(tenant, "tenant");
    const ts = await this.#tenant(tenant);
    return { tenant, status: ts.status, sinceMs: ts.statusAtMs, reason: ts.statusReason };
  }

  /** A hold of the tenant (null: none, or another tenant's), a due expiry applied first. */
  async holdStatus(tenant: string, holdId: string): Promise<HoldStatus | null> {
    assertIdentifier(tenant, "tenant");
    assertIdentifier(holdId, "holdId");
    const ts = await this.#tenant(tenant);
    const hold = await this.#hold(ts, holdId);
    if (hold === null) return null;
    const remainingByClass = zeroAmounts();
    if (hold.state === "active") {
      for (const part of remainingParts(hold.parts, hold.drawn))
        remainingByClass[part.class] += part.amount;
    }
    return {
      holdId: hold.holdId,
      tenant: hold.tenant,
      amount: hold.amount,
      drawn: hold.drawn,
      remaining: hold.state === "active" ? hold.amount - hold.drawn : 0,
      state: hold.state,
      expiresAtMs: hold.expiresAtMs,
      owner: hold.owner,
      remainingByClass,
    };
  }

  async snapshot(
    tenant: string,
    keys: readonly UsageKey[],
    idempotencyKey?: string,
  ): Promise<Snapshot> {
    assertIdentifier(tenant, "tenant");
    // One load and maturation of the tenant for its balances and its status (the same row).
    const ts = await this.#tenant(tenant);
    const balances = this.#balancesOf(ts);
    const tenantStatus = ts.status;
    const windows = keys.map((k) => ({ ...k, windowStartMs: windowStart(k.window, this.#nowMs) }));
    const stored = await this.#tx.loadUsage(tenant, windows);
    const usage = windows.map((w) => {
      const row = stored.find(
        (s) => s.scope === w.scope && s.window === w.window && s.windowStartMs === w.windowStartMs,
      );
      const pending = this.#usage.get(usageId(tenant, w.scope, w.window, w.windowStartMs));
      return {
        ...w,
        calls: (row?.calls ?? 0) + (pending?.calls ?? 0),
        credits: (row?.credits ?? 0) + (pending?.credits ?? 0),
      };
    });
    if (idempotencyKey === undefined) return { nowMs: this.#nowMs, balances, usage, tenantStatus };
    const [prior] = (await this.idempotencyRecords(tenant, [idempotencyKey])).values();
    return { nowMs: this.#nowMs, balances, usage, tenantStatus, prior: prior ?? null };
  }

  async idempotencyRecords(
    tenant: string,
    keys: readonly string[],
  ): Promise<Map<string, IdempotencyRecord>> {
    assertIdentifier(tenant, "tenant");
    const out = new Map<string, IdempotencyRecord>();
    for (const key of keys) {
      const row = await this.#tx.loadIdempotency(tenant, key);
      if (row !== null) out.set(key, { op: row.op, value: JSON.parse(row.result) as unknown });
    }
    return out;
  }

  /** The sweeper: matures up to `limit` tenants with due activations or expiries. */
  async sweep(limit: number): Promise<SweepResult> {
    const before = this.#audit.length;
    for (const tenant of await this.#tx.dueTenants(this.#nowMs, limit)) await this.#tenant(tenant);
    const kinds = this.#audit.slice(before).map((a) => a.record);
    return {
      grantsActivated: kinds.filter((r) => r.kind === "activation").length,
      grantsExpired: kinds.filter((r) => r.kind === "expiry" && r.data.grant_id !== undefined)
        .length,
      holdsExpired: kinds.filter((r) => r.kind === "expiry" && r.data.hold_id !== undefined).length,
    };
  }

  // --- the change set ----------------------------------------------------------------------

  changes(): ChangeSet {
    const newTenants: string[] = [];
    const tenantUpdates: ChangeSet["tenantUpdates"][number][] = [];
    const balanceUpdates: ChangeSet["balanceUpdates"][number][] = [];
    const grantInserts: GrantRow[] = [];
    const grantUpdates: ChangeSet["grantUpdates"][number][] = [];
    for (const ts of this.#tenants.values()) {
      if (!ts.touched) continue;
      this.#assertTenant(ts);
      if (ts.isNew) newTenants.push(ts.tenant);
      if (ts.isNew || ts.nextHoldExpiry !== ts.fromNextHoldExpiry || ts.status !== ts.fromStatus) {
        tenantUpdates.push({
          tenant: ts.tenant,
          nextHoldExpiryAtMs: ts.nextHoldExpiry,
          // A new tenant's row starts active: the update sets what it is to be.
          fromStatus: ts.isNew ? "active" : ts.fromStatus,
          status: ts.status,
          statusAtMs: ts.statusAtMs,
          statusReason: ts.statusReason,
        });
      }
      for (const cls of creditClasses) {
        if (ts.posted[cls] !== ts.fromPosted[cls] || ts.held[cls] !== ts.fromHeld[cls]) {
          balanceUpdates.push({
            tenant: ts.tenant,
            class: cls,
            fromPosted: ts.fromPosted[cls],
            fromHeld: ts.fromHeld[cls],
            posted: ts.posted[cls],
            held: ts.held[cls],
          });
        }
      }
      for (const grant of ts.grants.values()) {
        if (this.#newGrants.has(grant.grantId)) {
          grantInserts.push(grant);
          continue;
        }
        const origin = this.#grantOrigin.get(grant.grantId);
        if (origin && (origin.remaining !== grant.remaining || origin.status !== grant.status)) {
          grantUpdates.push({
            grantId: grant.grantId,
            fromRemaining: origin.remaining,
            fromStatus: origin.status,
            remaining: grant.remaining,
            status: grant.status,
          });
        }
      }
    }
    const holdInserts: HoldRow[] = [];
    const holdUpdates: ChangeSet["holdUpdates"][number][] = [];
    for (const hold of this.#holds.values()) {
      if (this.#newHolds.has(hold.holdId)) {
        holdInserts.push(hold);
        continue;
      }
      const origin = this.#holdOrigin.get(hold.holdId)!;
      if (origin.state !== hold.state || origin.drawn !== hold.drawn) {
        holdUpdates.push({
          holdId: hold.holdId,
          fromState: origin.state,
          fromDrawn: origin.drawn,
          state: hold.state,
          drawn: hold.drawn,
          resolvedAtMs: hold.resolvedAtMs,
          released: hold.released,
        });
      }
    }
    return {
      newTenants,
      tenantUpdates,
      balanceUpdates,
      grantInserts,
      grantUpdates,
      holdInserts,
      holdUpdates,
      holdDraws: this.#holdDraws,
      entries: this.#entries,
      audit: this.#audit,
      head: { from: this.#fromHead, to: this.#head },
      idempotency: this.#newIdem,
      usage: [...this.#usage.values()],
      revocations: this.#revocations,
    };
  }

  // --- internals ---------------------------------------------------------------------------

  #assertKeyed(req: { tenant: unknown; key: unknown; audit?: unknown; record?: unknown }): void {
    assertIdentifier(req.tenant, "tenant");
    assertIdentifier(req.key, "key");
    if (req.audit !== undefined) assertContext(req.audit, "audit context");
    if (req.record !== undefined && typeof req.record !== "function")
      throw new TypeError("record must be a function");
  }

  /** Same key and request: the original result; same key, other request: a conflict. */
  async #idempotent<V>(
    op: Op,
    req: { tenant: string; key: string },
    validation: RefusalCode | null,
    run: (fingerprint: string) => Promise<V | RefusalCode>,
  ): Promise<OpResult<V>> {
    const id = idemId(req.tenant, req.key);
    if (!this.#idem.has(id))
      this.#idem.set(id, await this.#tx.loadIdempotency(req.tenant, req.key));
    const fingerprint = requestFingerprint(op, req);
    const prior = this.#idem.get(id);
    if (prior) {
      if (prior.op !== op || prior.fingerprint !== fingerprint)
        return refuse("exists_with_different_request");
      return { ok: true, code: "exists", value: JSON.parse(prior.result) as V };
    }
    if (validation !== null) return refuse(validation);
    const outcome = await run(fingerprint);
    if (typeof outcome === "string") return refuse(outcome as RefusalCode);
    const row = {
      tenant: req.tenant,
      key: req.key,
      op,
      fingerprint,
      result: JSON.stringify(outcome),
    };
    this.#idem.set(id, row);
    this.#newIdem.push(row);
    return { ok: true, code: "ok", value: outcome };
  }

  #tenant(tenant: string): Promise<TenantState> {
    let load = this.#tenantLoads.get(tenant);
    if (!load) {
      load = this.#loadTenant(tenant);
      this.#tenantLoads.set(tenant, load);
    }
    return load.then(async (ts) => {
      await this.#mature(ts);
      return ts;
    });
  }

  async #loadTenant(tenant: string): Promise<TenantState> {
    const row = await this.#tx.loadTenant(tenant);
    const grants = row ? await this.#tx.loadOpenGrants(tenant) : [];
    return this.#makeTenant(tenant, row, grants);
  }

  #makeTenant(tenant: string, row: TenantRow | null, grants: readonly GrantRow[]): TenantState {
    if (grants.length > limits.tenantOpenGrantsMax) {
      throw new CreditgateError("LEDGER_INVARIANT_VIOLATED", {
        message: `tenant ${tenant} has more than ${limits.tenantOpenGrantsMax} open grants`,
      });
    }
    const ts: TenantState = {
      tenant,
      isNew: row === null,
      touched: false,
      fromPosted: { ...(row?.posted ?? zeroAmounts()) },
      fromHeld: { ...(row?.held ?? zeroAmounts()) },
      posted: { ...(row?.posted ?? zeroAmounts()) },
      held: { ...(row?.held ?? zeroAmounts()) },
      fromNextHoldExpiry: row?.nextHoldExpiryAtMs ?? null,
      nextHoldExpiry: row?.nextHoldExpiryAtMs ?? null,
      fromStatus: row?.status ?? "active",
      status: row?.status ?? "active",
      statusAtMs: row?.statusAtMs ?? null,
      statusReason: row?.statusReason ?? null,
      grants: new Map(),
    };
    for (const grant of grants) this.#trackGrant(ts, grant);
    this.#tenants.set(tenant, ts);
    return ts;
  }

  #trackGrant(ts: TenantState, grant: GrantRow): void {
    if (ts.grants.has(grant.grantId)) return;
    ts.grants.set(grant.grantId, grant);
    this.#grantOrigin.set(grant.grantId, { remaining: grant.remaining, status: grant.status });
  }

  /** Lazy maturation: activations, hold expiries and grant expiries due now, in time order. */
  async #mature(ts: TenantState): Promise<void> {
    const now = this.#nowMs;
    const dueHolds: HoldRow[] = [];
    if (ts.nextHoldExpiry !== null && ts.nextHoldExpiry <= now) {
      for (const row of await this.#tx.loadDueHolds(ts.tenant, now)) {
        if (!this.#holds.has(row.holdId)) this.#trackHold(row);
      }
      for (const hold of this.#holds.values()) {
        if (hold.tenant === ts.tenant && hold.state === "active" && hold.expiresAtMs <= now) {
          dueHolds.push(hold);
        }
      }
      for (const hold of dueHolds)
        await this.#loadGrants(ts, remainingParts(hold.parts, hold.drawn));
    }
    type Event = { at: number; rank: number; run: () => void };
    const events: Event[] = [];
    for (const grant of ts.grants.values()) {
      if (grant.status === "pending" && grant.effectiveAtMs <= now) {
        events.push({ at: grant.effectiveAtMs, rank: 0, run: () => this.#activate(ts, grant) });
      }
      if (grant.status !== "expired" && grant.expiresAtMs !== null && grant.expiresAtMs <= now) {
        const at = grant.expiresAtMs;
        events.push({ at, rank: 2, run: () => this.#expireGrant(ts, grant, at) });
      }
    }
    for (const hold of dueHolds) {
      events.push({ at: hold.expiresAtMs, rank: 1, run: () => this.#expireHold(ts, hold) });
    }
    events.sort((a, b) => a.at - b.at || a.rank - b.rank);
    for (const event of events) event.run();
    if (ts.nextHoldExpiry !== null && ts.nextHoldExpiry <= now) {
      let next = await this.#tx.nextHoldExpiry(ts.tenant, now);
      for (const hold of this.#holds.values()) {
        if (hold.tenant === ts.tenant && hold.state === "active")
          next = minOrNull(next, hold.expiresAtMs);
      }
      ts.nextHoldExpiry = next;
      ts.touched = true;
    }
  }

  #activate(ts: TenantState, grant: GrantRow): void {
    if (grant.status !== "pending") return;
    grant.status = "active";
    ts.touched = true;
    const at = grant.effectiveAtMs;
    this.#entry(ts, grant.class, grant.grantId, grant.grantId, "grant", grant.amount, null, at);
    this.#append("activation", ts.tenant, at, {
      grant_id: grant.grantId,
      class: grant.class,
      amount: grant.amount,
    });
  }

  async #revokeGrant(tenant: string, grantId: string, at: number): Promise<void> {
    const ts = await this.#tenant(tenant);
    if (!ts.grants.has(grantId)) {
      const row = await this.#tx.loadGrant(grantId);
      // Another tenant's grant, or none: the revocation is recorded and changes no balance.
      if (row === null || row.tenant !== tenant) return;
      await this.#loadGrants(ts, [{ grantId }]);
    }
    const grant = ts.grants.get(grantId);
    if (grant !== undefined) this.#expireGrant(ts, grant, at);
  }

  /** Expiry is an entry for what is left; held credits expire when their hold gives them back. */
  #expireGrant(ts: TenantState, grant: GrantRow, at: number): void {
    if (grant.status === "expired") return;
    if (grant.status === "pending") this.#activate(ts, grant);
    const amount = grant.remaining;
    grant.status = "expired";
    grant.remaining = 0;
    ts.touched = true;
    if (amount === 0) return;
    this.#entry(ts, grant.class, grant.grantId, newId("entry", at), "expiry", -amount, null, at);
    this.#append("expiry", ts.tenant, at, { grant_id: grant.grantId, class: grant.class, amount });
  }

  #expireHold(ts: TenantState, hold: HoldRow): void {
    if (hold.state !== "active") return;
    const reserved = remainingParts(hold.parts, hold.drawn);
    this.#resolveHold(ts, hold, "expired", hold.expiresAtMs, reserved);
    this.#append("expiry", ts.tenant, hold.expiresAtMs, {
      hold_id: hold.holdId,
      released: sumParts(reserved),
    });
  }

  #resolveHold(
    ts: TenantState,
    hold: HoldRow,
    state: HoldState,
    at: number,
    giveBack: readonly Part[],
  ): void {
    if (hold.state !== "active") throw new Error(`hold ${hold.holdId} resolved twice`);
    hold.state = state;
    hold.resolvedAtMs = at;
    hold.released = sumParts(giveBack);
    ts.touched = true;
    // Only what draws left is still held.
    for (const part of remainingParts(hold.parts, hold.drawn)) ts.held[part.class] -= part.amount;
    for (const part of giveBack) {
      if (part.grantId !== null) this.#returnToGrant(ts, part.grantId, part.class, part.amount, at);
    }
  }

  /** Credit given back to an expired grant expires at once, so expiry stays exact. */
  #returnToGrant(
    ts: TenantState,
    grantId: string,
    cls: CreditClass,
    amount: number,
    at: number,
  ): void {
    const grant = ts.grants.get(grantId);
    if (!grant) throw new Error(`grant ${grantId} not loaded`);
    if (grant.status !== "expired") {
      this.#adjustGrant(ts, grantId, amount);
      return;
    }
    this.#entry(ts, cls, grantId, newId("entry", at), "expiry", -amount, null, at);
    this.#append("expiry", ts.tenant, at, { grant_id: grantId, class: cls, amount });
  }

  async #loadGrants(ts: TenantState, parts: readonly { grantId: string | null }[]): Promise<void> {
    for (const { grantId } of parts) {
      if (grantId === null || ts.grants.has(grantId)) continue;
      const grant = await this.#tx.loadGrant(grantId);
      if (!grant || grant.tenant !== ts.tenant) {
        throw new CreditgateError("LEDGER_INVARIANT_VIOLATED", {
          message: `grant ${grantId} missing`,
        });
      }
      this.#trackGrant(ts, grant);
      if (
        grant.status === "active" &&
        grant.expiresAtMs !== null &&
        grant.expiresAtMs <= this.#nowMs
      ) {
        this.#expireGrant(ts, grant, grant.expiresAtMs);
      }
    }
  }

  #adjustGrant(ts: TenantState, grantId: string, delta: number): void {
    const grant = ts.grants.get(grantId);
    if (!grant) throw new Error(`grant ${grantId} not loaded`);
    grant.remaining += delta;
    if (grant.remaining < 0 || grant.remaining > grant.amount) {
      throw new CreditgateError("LEDGER_INVARIANT_VIOLATED", {
        message: `grant ${grantId} remaining ${grant.remaining} outside [0, ${grant.amount}]`,
      });
    }
    ts.touched = true;
  }

  #trackHold(hold: HoldRow): void {
    this.#holds.set(hold.holdId, hold);
    this.#holdOrigin.set(hold.holdId, { state: hold.state, drawn: hold.drawn });
  }

  async #hold(ts: TenantState, holdId: string): Promise<HoldRow | null> {
    let hold = this.#holds.get(holdId);
    if (!hold) {
      const row = await this.#tx.loadHold(holdId);
      if (!row) return null;
      this.#trackHold(row);
      hold = row;
    }
    if (hold.tenant !== ts.tenant) return null;
    if (hold.state === "active" && hold.expiresAtMs <= this.#nowMs) {
      await this.#loadGrants(ts, remainingParts(hold.parts, hold.drawn));
      this.#expireHold(ts, hold);
    }
    return hold;
  }

  async #transfer(tenant: string, transferId: string): Promise<TransferEntry[]> {
    let entries = this.#transfers.get(transferId);
    if (!entries) {
      entries = await this.#tx.loadTransfer(tenant, transferId);
      this.#transfers.set(transferId, entries);
    }
    return entries.filter((e) => e.tenant === tenant);
  }

  #drawClasses(ts: TenantState): Record<CreditClass, DrawClass> {
    const out = {} as Record<CreditClass, DrawClass>;
    for (const cls of creditClasses) {
      out[cls] = {
        available: ts.posted[cls] - ts.held[cls],
        grants: [...ts.grants.values()].filter(
          (g) => g.class === cls && g.status === "active" && g.remaining > 0,
        ),
      };
    }
    return out;
  }

  #entry(
    ts: TenantState,
    cls: CreditClass,
    grantId: string | null,
    transferId: string,
    kind: EntryKind,
    amount: number,
    refEntryId: string | null,
    atMs: number,
  ): void {
    const entry: EntryRow = {
      // A transfer's entries are all written by one operation, so an index makes them unique.
      entryId: `${transferId}.${this.#entryIndex(transferId)}`,
      tenant: ts.tenant,
      class: cls,
      grantId,
      transferId,
      kind,
      amount,
      refEntryId,
      atMs,
    };
    this.#entries.push(entry);
    ts.posted[cls] += amount;
    ts.touched = true;
    if (kind === "debit" || kind === "commit") {
      const list = this.#transfers.get(transferId) ?? [];
      list.push({ ...entry, reversed: 0 });
      this.#transfers.set(transferId, list);
    }
  }

  #entryIndex(transferId: string): number {
    const n = this.#entryCounts.get(transferId) ?? 0;
    this.#entryCounts.set(transferId, n + 1);
    return n;
  }

  /**
   * `usage_limit_exceeded` if any increment with a max would take its window past it: stored
   * (read inside this write transaction, after the write lock, so current) plus what earlier
   * operations of this batch added plus this operation's increments on the same counter.
   */
  async #usageLimit(
    tenant: string,
    usage: readonly UsageIncrement[] | undefined,
  ): Promise<RefusalCode | null> {
    if (!usage?.some((u) => u.maxCalls !== undefined || u.maxCredits !== undefined)) return null;
    const start = (u: UsageIncrement) => windowStart(u.window, this.#nowMs);
    const id = (u: UsageIncrement) => usageId(tenant, u.scope, u.window, start(u));
    const missing = usage.filter((u) => !this.#usageStored.has(id(u)));
    if (missing.length > 0) {
      const keys = missing.map((u) => ({
        scope: u.scope,
        window: u.window,
        windowStartMs: start(u),
      }));
      const rows = await this.#tx.loadUsage(tenant, keys);
      for (const k of keys) {
        const row = rows.find(
          (r) =>
            r.scope === k.scope && r.window === k.window && r.windowStartMs === k.windowStartMs,
        );
        this.#usageStored.set(usageId(tenant, k.scope, k.window, k.windowStartMs), {
          calls: row?.calls ?? 0,
          credits: row?.credits ?? 0,
        });
      }
    }
    const adding = new Map<string, { calls: number; credits: number }>();
    for (const u of usage) {
      const prior = adding.get(id(u));
      adding.set(id(u), {
        calls: (prior?.calls ?? 0) + u.calls,
        credits: (prior?.credits ?? 0) + u.credits,
      });
    }
    for (const u of usage) {
      const stored = this.#usageStored.get(id(u))!;
      const pending = this.#usage.get(id(u));
      const add = adding.get(id(u))!;
      const calls = stored.calls + (pending?.calls ?? 0) + add.calls;
      const credits = stored.credits + (pending?.credits ?? 0) + add.credits;
      if (u.maxCalls !== undefined && calls > u.maxCalls) return "usage_limit_exceeded";
      if (u.maxCredits !== undefined && credits > u.maxCredits) return "usage_limit_exceeded";
    }
    return null;
  }

  #addUsage(tenant: string, usage: readonly UsageIncrement[] | undefined): void {
    for (const u of usage ?? []) {
      const start = windowStart(u.window, this.#nowMs);
      const id = usageId(tenant, u.scope, u.window, start);
      const prior = this.#usage.get(id);
      this.#usage.set(id, {
        tenant,
        scope: u.scope,
        window: u.window,
        windowStartMs: start,
        calls: (prior?.calls ?? 0) + u.calls,
        credits: (prior?.credits ?? 0) + u.credits,
      });
    }
  }

  #append(kind: AuditKind, tenant: string | null, atMs: number, data: AuditContext): number {
    const masked = this.#mask.length > 0 ? maskFields(data, this.#mask) : data;
    const dataText = canonicalize(masked);
    const record = linkRecord(this.#head, { at_ms: atMs, kind, tenant, data: masked }, dataText);
    this.#audit.push({ record, dataText, keys: auditIndexKeys(masked) });
    this.#head = { seq: record.seq, hash: record.hash };
    return record.seq;
  }

  /** Pair assertion before writing: posted moved by exactly the entries, holds add up. */
  #assertTenant(ts: TenantState): void {
    const moved = zeroAmounts();
    for (const e of this.#entries) if (e.tenant === ts.tenant) moved[e.class] += e.amount;
    for (const cls of creditClasses) {
      if (ts.posted[cls] - ts.fromPosted[cls] !== moved[cls] || ts.held[cls] < 0) {
        throw new CreditgateError("LEDGER_INVARIANT_VIOLATED", {
          message: `tenant ${ts.tenant} class ${cls}: balance does not match its entries`,
        });
      }
    }
  }
}

/** Caller context carried into a record: a plain object, canonical JSON, bounded in size. */
/**
 * The audit context and the replay value of an operation: from its `record` callback when it has
 * one (checked like any context), else its plain `audit` context and no replay.
 */
function recordingOf(
  req: { readonly audit?: AuditContext; readonly record?: RecordOutcome },
  outcome: Outcome,
): { context: AuditContext | null; replay: { replay?: JsonValue } } {
  if (req.record === undefined) return { context: req.audit ?? null, replay: {} };
  const recording = req.record(outcome);
  assertContext(recording.audit, "recorded audit context");
  if (Buffer.byteLength(canonicalize(recording.replay)) > limits.auditContextBytesMax) {
    throw new TypeError(`recorded replay exceeds ${limits.auditContextBytesMax} bytes`);
  }
  return { context: recording.audit, replay: { replay: recording.replay } };
}

function assertContext(value: unknown, name: string): void {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(`${name} must be an object`);
  }
  if (Buffer.byteLength(canonicalize(value)) > limits.auditContextBytesMax) {
    throw new TypeError(`${name} exceeds ${limits.auditContextBytesMax} bytes`);
  }
}

/**
 * A hold with an owner is settled (committed, released) only by that owner; another principal,
 * or none, hears `hold_not_owned` before anything about the hold's state. Draws do not ask: a
 * task draws by the hold id its signed credential names.
 */
function ownerCode(
  hold: HoldRow | null,
  owner: string | undefined,
  formerOwner: string | undefined,
): RefusalCode | null {
  if (hold === null || hold.owner === null) return null;
  if (hold.owner === owner) return null;
  return formerOwner !== undefined && hold.owner === formerOwner ? null : "hold_not_owned";
}

function holdStateCode(hold: HoldRow | null): RefusalCode | null {
  if (hold === null) return "hold_not_found";
  switch (hold.state) {
    case "active":
      return null;
    case "expired":
      return "hold_expired";
    case "committed":
      return "hold_already_committed";
    case "released":
      return "hold_released";
  }
}

function partsJson(parts: readonly Part[]): JsonValue {
  return parts.map((p) => ({ class: p.class, grant_id: p.grantId, amount: p.amount }));
}

function minOrNull(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}

function windowStart(window: keyof typeof usageWindows, nowMs: number): number {
  const size = usageWindows[window];
  return Math.floor(nowMs / size) * size;
}

function idemId(tenant: string, key: string): string {
  return `${tenant}\u0000${key}`;
}

function usageId(tenant: string, scope: string, window: string, start: number): string {
  return `${tenant}\u0000${scope}\u0000${window}\u0000${start}`;
}
