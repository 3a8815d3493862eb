/** Attenuation, as a property: whatever the parent and the request, a credential never exceeds its parent. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isCreditgateError } from "../../src/errors.js";
import type { VerifiedPrincipal } from "../../src/identity/index.js";
import { attenuate, parentAllows } from "../../src/tasks/attenuate.js";

const nowMs = Date.UTC(2026, 10, 24, 12);
const limits = { ttlSecondsDefault: 900, ttlSecondsMax: 3_600 };
const actionTypes = ["prompt.submit", "model.infer", "tool.call", "workflow.step", "agent.task"];
const toolNames = ["web.search", "calculator", "code.exec", "email.send"];

const scope = fc.oneof(
  fc.constantFrom(...actionTypes),
  fc.constantFrom(...toolNames).map((t) => `tool.call:${t}`),
);

const parent: fc.Arbitrary<VerifiedPrincipal> = fc.record({
  kind: fc.constantFrom("user", "workload", "task") as fc.Arbitrary<VerifiedPrincipal["kind"]>,
  id: fc.constant("p_1"),
  tenant: fc.constant("acme"),
  plan: fc.constant("pro"),
  roles: fc.constant([]),
  scopes: fc.uniqueArray(scope, { maxLength: 6 }),
  jti: fc.constant("jti-1"),
  expMs: fc.integer({ min: nowMs - 10_000, max: nowMs + 86_400_000 }),
  issuer: fc.constant("https://idp.example.com"),
  tokenHash: fc.constant("0".repeat(64)),
});

const request = fc.record({
  actions: fc.uniqueArray(fc.constantFrom(...actionTypes), { minLength: 1, maxLength: 4 }),
  tools: fc.option(fc.uniqueArray(fc.constantFrom(...toolNames), { maxLength: 3 }), {
    nil: undefined,
  }),
  budget: fc.integer({ min: 1, max: 1_000_000 }),
  ttlSeconds: fc.option(fc.integer({ min: 1, max: 100_000 }), { nil: undefined }),
});

describe("attenuate", () => {
  it("never grants a scope, lifetime or budget beyond the parent and the request", () => {
    fc.assert(
      fc.property(parent, request, (p, r) => {
        try {
          const granted = attenuate(p, r, nowMs, limits);
          expect(p.kind).not.toBe("task");
          for (const s of granted.scopes) expect(parentAllows(p, s)).toBe(true);
          if (p.kind === "workload") {
            for (const s of granted.scopes) {
              const [action] = s.split(":");
              expect(p.scopes.includes(s) || p.scopes.includes(action as string)).toBe(true);
            }
          }
          // Only what was asked for.
          for (const s of granted.scopes) {
            const [action, tool] = s.split(":");
            if (tool === undefined) expect(r.actions).toContain(action);
            else expect(r.tools ?? []).toContain(tool);
          }
          expect(granted.budget).toBeLessThanOrEqual(r.budget);
          expect(granted.ttlSeconds).toBeGreaterThanOrEqual(1);
          expect(granted.ttlSeconds).toBeLessThanOrEqual(limits.ttlSecondsMax);
          expect(nowMs + granted.ttlSeconds * 1000).toBeLessThanOrEqual(p.expMs);
        } catch (error) {
          if (!isCreditgateError(error)) throw error;
          expect(["AUTH_FORBIDDEN", "TASK_SCOPE_EXCEEDS_PARENT", "AUTH_TOKEN_EXPIRED"]).toContain(
            error.code,
          );
          if (error.code === "AUTH_FORBIDDEN") expect(p.kind).toBe("task");
          if (error.code === "TASK_SCOPE_EXCEEDS_PARENT") {
            const excess = (error.details as { scopes: string[] }).scopes;
            expect(excess.length).toBeGreaterThan(0);
            for (const s of excess) expect(parentAllows(p, s)).toBe(false);
          }
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it("narrows tool.call to the named tools", () => {
    const user = {
      kind: "user",
      id: "u",
      tenant: "acme",
      plan: "pro",
      roles: [],
      scopes: [],
      expMs: nowMs + 3_600_000,
      issuer: "i",
      tokenHash: "0",
    } as const;
    expect(
      attenuate(
        user,
        { actions: ["tool.call", "model.infer"], tools: ["web.search"], budget: 5 },
        nowMs,
        limits,
      ).scopes,
    ).toEqual(["model.infer", "tool.call:web.search"]);
  });
});
