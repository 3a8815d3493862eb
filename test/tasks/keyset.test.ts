/** The key set's time logic as pure functions: the rotation timeline, publication, pruning. */
import { describe, expect, it } from "vitest";
import { limits } from "../../src/limits.js";
import {
  generateTaskKey,
  initialKeySet,
  keyState,
  parseTaskKeySet,
  prune,
  publishedKeys,
  rotate,
  serializeTaskKeySet,
  signingKey,
  type TaskKeySet,
} from "../../src/tasks/index.js";
import { leadSeconds, second, startMs, ttlMaxSeconds } from "./fixtures.js";

const lead = leadSeconds * second;
const ttl = ttlMaxSeconds * second;
const tolerance = limits.taskTokenClockToleranceSeconds * second;
const kids = (set: TaskKeySet, nowMs: number) => publishedKeys(set, nowMs, ttl).map((k) => k.kid);

describe("the rotation timeline", () => {
  const first = initialKeySet(startMs);
  const oldKid = first.keys[0]!.kid;
  const rotatedAt = startMs + 3_600 * second;
  const rotated = rotate(first, rotatedAt, lead);
  const newKid = rotated.keys.find((k) => k.kid !== oldKid)!.kid;
  const switchAt = rotatedAt + lead;
  const goneAt = switchAt + ttl + tolerance;

  it("starts with one key that signs at once and never retires on its own", () => {
    expect(signingKey(first, startMs)?.kid).toBe(oldKid);
    expect(first.keys[0]!.retiresAtMs).toBeNull();
    expect(kids(first, startMs + 365 * 24 * 3_600 * second)).toEqual([oldKid]);
  });

  it("publishes the new key at once while the old one still signs until the lead passes", () => {
    expect(kids(rotated, rotatedAt).sort()).toEqual([oldKid, newKid].sort());
    expect(signingKey(rotated, rotatedAt)?.kid).toBe(oldKid);
    expect(signingKey(rotated, switchAt - 1)?.kid).toBe(oldKid);
    expect(keyState(rotated, rotated.keys.find((k) => k.kid === newKid)!, rotatedAt, ttl)).toBe(
      "next",
    );
  });

  it("switches signing to the new key exactly when the old one retires", () => {
    const old = rotated.keys.find((k) => k.kid === oldKid)!;
    expect(old.retiresAtMs).toBe(switchAt);
    expect(signingKey(rotated, switchAt)?.kid).toBe(newKid);
    expect(keyState(rotated, old, switchAt, ttl)).toBe("retiring");
  });

  it("keeps the old key published until its last token has expired, then drops it", () => {
    expect(kids(rotated, goneAt - 1).sort()).toEqual([oldKid, newKid].sort());
    expect(kids(rotated, goneAt)).toEqual([newKid]);
    const old = rotated.keys.find((k) => k.kid === oldKid)!;
    expect(keyState(rotated, old, goneAt, ttl)).toBe("retired");
    expect(prune(rotated, goneAt - 1, ttl).keys).toHaveLength(2);
    expect(prune(rotated, goneAt, ttl).keys.map((k) => k.kid)).toEqual([newKid]);
  });

  it("retires a still pending key when rotating again, so exactly one key signs at a time", () => {
    const again = rotate(rotated, rotatedAt + 10 * second, lead);
    const third = again.keys.find((k) => k.kid !== oldKid && k.kid !== newKid)!;
    const second_ = again.keys.find((k) => k.kid === newKid)!;
    expect(second_.retiresAtMs).toBe(third.activatesAtMs);
    expect(again.keys.find((k) => k.kid === oldKid)!.retiresAtMs).toBe(switchAt);
    for (let t = rotatedAt; t < third.activatesAtMs + 2 * lead; t += 60 * second) {
      const active = again.keys.filter((k) => keyState(again, k, t, ttl) === "active");
      expect(active).toHaveLength(1);
    }
    expect(signingKey(again, third.activatesAtMs)?.kid).toBe(third.kid);
  });
});

describe("the key file format", () => {
  const set = rotate(initialKeySet(startMs), startMs + second, lead);

  it("round-trips", () => {
    expect(parseTaskKeySet(serializeTaskKeySet(set), "f")).toEqual(set);
  });

  const broken: Record<string, (value: Record<string, unknown>) => unknown> = {
    "not JSON": () => "{",
    "wrong version": (v) => ({ ...v, version: 2 }),
    "no keys": (v) => ({ ...v, keys: [] }),
    "an unknown member": (v) => ({ ...v, extra: 1 }),
    "a kid that is not the thumbprint": (v) => {
      const keys = v.keys as Record<string, unknown>[];
      return { ...v, keys: [{ ...keys[0], kid: "mine" }, keys[1]] };
    },
    "a private key from another pair": (v) => {
      const keys = v.keys as Record<string, unknown>[];
      const other = generateTaskKey(startMs, startMs);
      const privateJwk = { ...(keys[0]!.privateJwk as object), d: other.privateJwk.d };
      return { ...v, keys: [{ ...keys[0], privateJwk }, keys[1]] };
    },
    "the same key twice": (v) => {
      const keys = v.keys as unknown[];
      return { ...v, keys: [keys[0], keys[0]] };
    },
    "a retirement before activation": (v) => {
      const keys = v.keys as Record<string, unknown>[];
      return { ...v, keys: [{ ...keys[0], retiresAtMs: -1 }, keys[1]] };
    },
    "too many keys": (v) => ({
      ...v,
      keys: Array.from({ length: limits.taskKeysMax + 1 }, () =>
        JSON.parse(JSON.stringify(generateTaskKey(startMs, startMs))),
      ),
    }),
  };
  it.each(Object.keys(broken))("refuses %s with TASK_KEYS_INVALID", (name) => {
    const value = JSON.parse(serializeTaskKeySet(set)) as Record<string, unknown>;
    const mutated = broken[name]!(value);
    const text = typeof mutated === "string" ? mutated : JSON.stringify(mutated);
    expect(() => parseTaskKeySet(text, "keys.json")).toThrow(
      expect.objectContaining({ code: "TASK_KEYS_INVALID" }),
    );
  });
});
