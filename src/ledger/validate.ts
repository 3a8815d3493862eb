/**
 * Request checks. A wrong type is the calling code's bug and throws TypeError; a value out of
 * range (which may come from data) is a refusal code.
 */
import { limits } from "../limits.js";
import type { RefusalCode } from "./codes.js";
import {
  type CreditClass,
  creditClasses,
  type Floors,
  revocationKinds,
  tenantStatuses,
  type UsageIncrement,
  usageWindows,
} from "./types.js";

export function assertInteger(value: unknown, name: string): asserts value is number {
  if (!Number.isSafeInteger(value)) throw new TypeError(`${name} must be a safe integer`);
}

export function assertIdentifier(value: unknown, name: string): asserts value is string {
  if (typeof value !== "string" || value.length === 0 || value.length > limits.ledgerKeyCharsMax) {
    throw new TypeError(
      `${name} must be a non-empty string of at most ${limits.ledgerKeyCharsMax}`,
    );
  }
}

/** Free text (a reason): non-empty and bounded, but not an identifier. */
export function assertText(
  value: unknown,
  name: string,
  charsMax: number,
): asserts value is string {
  if (typeof value !== "string" || value.length === 0 || value.length > charsMax) {
    throw new TypeError(`${name} must be a non-empty string of at most ${charsMax}`);
  }
}

export function assertClass(value: unknown, name: string): asserts value is CreditClass {
  if (!(creditClasses as readonly unknown[]).includes(value)) {
    throw new TypeError(`${name} must be one of ${creditClasses.join(", ")}`);
  }
}

export function assertRevocationKind(value: unknown): void {
  if (!(revocationKinds as readonly unknown[]).includes(value)) {
    throw new TypeError(`kind must be one of ${revocationKinds.join(", ")}`);
  }
}

export function assertTenantStatus(value: unknown): void {
  if (!(tenantStatuses as readonly unknown[]).includes(value)) {
    throw new TypeError(`status must be one of ${tenantStatuses.join(", ")}`);
  }
}

export function checkAmount(amount: unknown, name = "amount"): RefusalCode | null {
  assertInteger(amount, name);
  if (amount <= 0) return "amount_not_positive";
  if (amount > limits.creditAmountMax) return "amount_exceeds_max";
  return null;
}

export function checkDrawOrder(order: unknown, floors: Floors | undefined): RefusalCode | null {
  if (!Array.isArray(order)) throw new TypeError("drawOrder must be an array");
  for (const cls of order) assertClass(cls, "drawOrder[]");
  if (order.length === 0 || new Set(order).size !== order.length) return "draw_order_invalid";
  return checkFloors(floors);
}

export function checkFloors(floors: Floors | undefined): RefusalCode | null {
  for (const [cls, floor] of Object.entries(floors ?? {})) {
    assertClass(cls, "floors key");
    assertInteger(floor, `floors.${cls}`);
    if (floor > 0 || -floor > limits.creditAmountMax) return "floor_invalid";
  }
  return null;
}

export function checkUsage(usage: readonly UsageIncrement[] | undefined): void {
  if (usage === undefined) return;
  if (!Array.isArray(usage) || usage.length > limits.usageIncrementsMax) {
    throw new TypeError(`usage must be an array of at most ${limits.usageIncrementsMax}`);
  }
  for (const u of usage) {
    assertIdentifier(u.scope, "usage.scope");
    if (!Object.hasOwn(usageWindows, u.window)) throw new TypeError("usage.window is invalid");
    assertInteger(u.calls, "usage.calls");
    assertInteger(u.credits, "usage.credits");
    if (u.calls < 0 || u.credits < 0) throw new TypeError("usage increments are non-negative");
    for (const name of ["maxCalls", "maxCredits"] as const) {
      const max = u[name];
      if (max === undefined) continue;
      assertInteger(max, `usage.${name}`);
      if (max < 0) throw new TypeError(`usage.${name} is non-negative`);
    }
  }
}
