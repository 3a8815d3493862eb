/**
 * Byte-level mutations of a valid token are always refused with an AUTH_* code: never
 * accepted, never a non-Creditgate error. Covers flipped characters (including the unused
 * trailing bits of base64url), insertions, deletions, truncation and arbitrary Unicode.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { CreditgateError } from "../../src/errors.js";
import { createIdentityVerifier, type IdentityVerifier } from "../../src/identity/index.js";
import { claimsFor, headerFor, issuerConfig, makeKey, newClock, signRaw } from "./fixtures.js";

const clock = newClock();
const ed = makeKey("EdDSA", "ed");
const es = makeKey("ES256", "es");
const config = issuerConfig([ed, es]);
const tokens = [
  signRaw(ed, headerFor(ed), claimsFor(config, clock)),
  signRaw(es, headerFor(es), claimsFor(config, clock)),
];

let verifier: IdentityVerifier;
beforeAll(async () => {
  verifier = await createIdentityVerifier({ issuers: [config], clock });
  // The originals are accepted, so every refusal below is caused by the mutation.
  for (const token of tokens) await verifier.authenticate(token);
});

const base64urlChar = fc.constantFrom(
  ..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".split(""),
);
const anyChar = fc.oneof(
  base64urlChar,
  fc.constantFrom(".", "=", "+", "/", " ", "\u0000", "é", "😀"),
  fc.string({ minLength: 1, maxLength: 1, unit: "binary" }),
);

type Mutation = {
  readonly kind: "replace" | "insert" | "delete" | "truncate";
  readonly at: number;
  readonly char: string;
};

const mutation = fc.record({
  kind: fc.constantFrom("replace", "insert", "delete", "truncate") as fc.Arbitrary<
    Mutation["kind"]
  >,
  at: fc.nat(),
  char: anyChar,
});

function apply(token: string, steps: readonly Mutation[]): string {
  let out = token;
  for (const step of steps) {
    const at = out.length === 0 ? 0 : step.at % out.length;
    if (step.kind === "replace") out = out.slice(0, at) + step.char + out.slice(at + 1);
    else if (step.kind === "insert") out = out.slice(0, at) + step.char + out.slice(at);
    else if (step.kind === "delete") out = out.slice(0, at) + out.slice(at + 1);
    else out = out.slice(0, at);
  }
  return out;
}

describe("mutated tokens", () => {
  it("are always refused with an AUTH_* code", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...tokens),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        async (token, steps) => {
          const mutated = apply(token, steps);
          fc.pre(mutated !== token);
          const outcome = await verifier.authenticate(mutated).then(
            () => "accepted",
            (error: unknown) => error,
          );
          expect(outcome).toBeInstanceOf(CreditgateError);
          expect((outcome as CreditgateError).code).toMatch(/^AUTH_/);
        },
      ),
      { numRuns: 1500 },
    );
  });

  it("are refused when only the last character of a part changes (trailing-bit malleability)", async () => {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (const token of tokens) {
      const parts = token.split(".");
      for (let part = 0; part < 3; part++) {
        for (const char of alphabet) {
          const copy = [...parts];
          const original = copy[part]!;
          if (original.at(-1) === char) continue;
          copy[part] = original.slice(0, -1) + char;
          const mutated = copy.join(".");
          const outcome = await verifier.authenticate(mutated).then(
            () => "accepted",
            (error: unknown) => error,
          );
          expect(outcome, `part ${part} last char ${char}`).toBeInstanceOf(CreditgateError);
        }
      }
    }
  });
});
