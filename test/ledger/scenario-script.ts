/**
 * Ledger scenarios as scripts on a virtual clock, TigerBeetle-style: each line is one operation
 * and the code it must answer. Labels name what an operation created (a hold, a debit) and double
 * as idempotency keys, so repeating a line is a replay.
 *
 *   grant g1 paid 100 expires=+10m    -> ok
 *   hold h1 40 paid ttl=1m            -> ok
 *   tick 1m
 *   commit c1 h1 10                   -> hold_expired
 *   expect available paid=100
 */
import { expect } from "vitest";
import type { ManualClock } from "../../src/clock.js";
import type { OpResult } from "../../src/ledger/codes.js";
import type { LedgerStore } from "../../src/ledger/port.js";
import type { CreditClass } from "../../src/ledger/types.js";

export interface Scenario {
  readonly name: string;
  readonly lines: readonly string[];
}

export function parseScenarios(text: string): Scenario[] {
  const out: { name: string; lines: string[] }[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*$/, "").trim();
    if (line === "") continue;
    if (line.startsWith("scenario:")) out.push({ name: line.slice(9).trim(), lines: [] });
    else if (out.length === 0) throw new Error(`line before any scenario: ${line}`);
    else out[out.length - 1]!.lines.push(line);
  }
  return out;
}

function duration(text: string): number {
  const m = /^\+?(\d+)(ms|s|m|h)?$/.exec(text);
  if (!m) throw new Error(`bad duration ${text}`);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[(m[2] ?? "ms") as "ms"];
  return Number(m[1]) * unit;
}

export async function runScenario(
  scenario: Scenario,
  store: LedgerStore,
  clock: ManualClock,
  tenant: string,
): Promise<void> {
  const ids = new Map<string, string>();
  for (const [i, line] of scenario.lines.entries()) {
    const where = `${scenario.name}, line ${i + 1}: ${line}`;
    const [body, want] = line.split("->").map((s) => s.trim()) as [string, string | undefined];
    const words = body.split(/\s+/);
    const opts = new Map<string, string>();
    const args: string[] = [];
    for (const w of words.slice(1)) {
      const eq = w.indexOf("=");
      if (eq > 0) opts.set(w.slice(0, eq), w.slice(eq + 1));
      else args.push(w);
    }
    const floors = Object.fromEntries(
      [...opts].filter(([k]) => k.startsWith("floor.")).map(([k, v]) => [k.slice(6), Number(v)]),
    ) as Partial<Record<CreditClass, number>>;
    const label = args[0] ?? "";
    const key = opts.get("key") ?? label;
    const now = clock.nowMs();
    let result: OpResult<unknown> | undefined;
    switch (words[0]) {
      case "tick":
        clock.tick(duration(args[0]!));
        break;
      case "sweep":
        await store.sweep();
        break;
      case "grant": {
        const r = await store.grant({
          tenant,
          key,
          class: args[1] as CreditClass,
          amount: Number(args[2]),
          source: "scenario",
          ...(opts.has("expires") ? { expiresAtMs: now + duration(opts.get("expires")!) } : {}),
          ...(opts.has("effective")
            ? { effectiveAtMs: now + duration(opts.get("effective")!) }
            : {}),
          ...(opts.has("priority") ? { priority: Number(opts.get("priority")) } : {}),
        });
        if (r.ok) ids.set(label, r.value.grantId);
        result = r;
        break;
      }
      case "debit": {
        const r = await store.debit({
          tenant,
          key,
          amount: Number(args[1]),
          drawOrder: args[2]!.split(",") as CreditClass[],
          floors,
        });
        if (r.ok) ids.set(label, r.value.transferId);
        result = r;
        break;
      }
      case "hold": {
        const r = await store.hold({
          tenant,
          key,
          amount: Number(args[1]),
          drawOrder: args[2]!.split(",") as CreditClass[],
          ttlMs: duration(opts.get("ttl") ?? "1m"),
          floors,
        });
        if (r.ok) ids.set(label, r.value.holdId);
        result = r;
        break;
      }
      case "commit": {
        const r = await store.commit({
          tenant,
          key,
          holdId: ids.get(args[1]!) ?? args[1]!,
          amount: Number(args[2]),
          ...(opts.has("overage") ? { overageAllowance: Number(opts.get("overage")) } : {}),
          floors,
        });
        if (r.ok) ids.set(label, r.value.transferId);
        result = r;
        break;
      }
      case "release":
        result = await store.release({ tenant, key, holdId: ids.get(args[1]!) ?? args[1]! });
        break;
      case "reverse":
        result = await store.reverse({
          tenant,
          key,
          transferId: ids.get(args[1]!) ?? args[1]!,
          ...(args[2] !== undefined ? { amount: Number(args[2]) } : {}),
          reason: "scenario",
        });
        break;
      case "expect": {
        const what = args[0] as "available" | "posted" | "held";
        const balances = await store.balances(tenant);
        const want = Object.fromEntries([...opts].map(([k, v]) => [k, Number(v)]));
        const got = Object.fromEntries(
          Object.keys(want).map((k) => [k, balances[what][k as CreditClass]]),
        );
        expect(got, where).toEqual(want);
        break;
      }
      default:
        throw new Error(`unknown step: ${where}`);
    }
    if (want !== undefined) expect(result?.code, where).toBe(want);
    else if (result !== undefined) throw new Error(`an operation needs an expected code: ${where}`);
  }
}
