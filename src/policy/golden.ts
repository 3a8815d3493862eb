/**
 * Golden decision cases (`test/fixtures/decisions/*.yaml`): an input and the decision it must
 * get. They are schema-checked, then run through a built bundle, so the shipped Wasm is what
 * is tested, not only the Rego source.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse } from "yaml";
import { CreditgateError } from "../errors.js";
import { formatViolations, validate } from "../schema-registry.js";
import type { PolicyEvaluator } from "./evaluator.js";
import type { DecisionInput, DecisionResult } from "./types.js";

export interface GoldenWant {
  readonly allow: boolean;
  readonly cost?: number;
  readonly hold?: number;
  readonly draw_order?: readonly string[];
  readonly reason_codes?: readonly string[];
  /** Subset match: every key given must be deep-equal in the result. */
  readonly obligations?: Readonly<Record<string, unknown>>;
  readonly hold_carries_cost?: boolean;
  /** Exact match: the windows the action counts against, each with its maximum and retry. */
  readonly velocity?: Readonly<Record<string, unknown>>;
}

export interface GoldenCase {
  readonly file: string;
  readonly description: string;
  readonly input: DecisionInput;
  readonly want: GoldenWant;
}

export async function loadGoldenCases(dir: string): Promise<GoldenCase[]> {
  const files = (await readdir(dir)).filter((name) => name.endsWith(".yaml")).sort();
  const cases: GoldenCase[] = [];
  for (const file of files) {
    const content: unknown = parse(await readFile(join(dir, file), "utf8"));
    const violations = validate("decision-fixture", content);
    if (violations.length > 0) {
      throw new CreditgateError("FIXTURE_INVALID", {
        message: `${file}: ${formatViolations(violations)}`,
        details: { file, violations },
      });
    }
    cases.push({ file, ...(content as Omit<GoldenCase, "file">) });
  }
  return cases;
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b) || isDeepEqualUnordered(a, b);
}

function isDeepEqualUnordered(a: unknown, b: unknown): boolean {
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  return keysA.every((key) =>
    isDeepEqualUnordered((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]),
  );
}

/** What differs between a result and what a case wants; empty when the case passes. */
export function mismatches(result: DecisionResult, want: GoldenWant): string[] {
  const out: string[] = [];
  const show = (value: unknown) => JSON.stringify(value);
  if (result.allow !== want.allow) out.push(`allow: want ${want.allow}, got ${result.allow}`);
  if (want.cost !== undefined && result.cost !== want.cost)
    out.push(`cost: want ${want.cost}, got ${result.cost}`);
  if (want.hold !== undefined && result.hold !== want.hold)
    out.push(`hold: want ${want.hold}, got ${result.hold}`);
  if (want.draw_order !== undefined && !deepEqual(result.draw_order, want.draw_order)) {
    out.push(`draw_order: want ${show(want.draw_order)}, got ${show(result.draw_order)}`);
  }
  if (want.hold_carries_cost !== undefined && result.hold_carries_cost !== want.hold_carries_cost)
    out.push(`hold_carries_cost: want ${want.hold_carries_cost}, got ${result.hold_carries_cost}`);
  if (want.velocity !== undefined && !deepEqual(result.velocity, want.velocity))
    out.push(`velocity: want ${show(want.velocity)}, got ${show(result.velocity)}`);
  const codes = result.reasons.map((reason) => reason.code);
  if (want.reason_codes !== undefined && !deepEqual(codes, want.reason_codes)) {
    out.push(`reason codes: want ${show(want.reason_codes)}, got ${show(codes)}`);
  }
  for (const [key, value] of Object.entries(want.obligations ?? {})) {
    const got = (result.obligations as Record<string, unknown>)[key];
    if (!deepEqual(got, value))
      out.push(`obligations.${key}: want ${show(value)}, got ${show(got)}`);
  }
  return out;
}

export interface GoldenOutcome {
  readonly file: string;
  readonly description: string;
  readonly problems: readonly string[];
}

export function runGoldenCases(
  evaluator: PolicyEvaluator,
  cases: readonly GoldenCase[],
): GoldenOutcome[] {
  return cases.map((c) => {
    try {
      return {
        file: c.file,
        description: c.description,
        problems: mismatches(evaluator.evaluate(c.input), c.want),
      };
    } catch (error) {
      return {
        file: c.file,
        description: c.description,
        problems: [`evaluation failed: ${(error as Error).message}`],
      };
    }
  });
}
