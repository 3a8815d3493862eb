import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalize } from "../../src/audit/canonical.js";

describe("canonicalize", () => {
  it("sorts keys by UTF-16 code units and drops whitespace", () => {
    expect(canonicalize({ b: 1, a: [true, null, "x"], "\u00e9": 2, Z: { y: 1, x: 2 } })).toBe(
      '{"Z":{"x":2,"y":1},"a":[true,null,"x"],"b":1,"é":2}',
    );
  });

  it("escapes strings as JSON does and encodes -0 as 0", () => {
    expect(canonicalize({ s: 'a"\n\u0001', n: -0 })).toBe('{"n":0,"s":"a\\"\\n\\u0001"}');
  });

  it("rejects non-integer numbers, NaN, bigint and class instances", () => {
    expect(() => canonicalize({ x: 1.5 })).toThrow(TypeError);
    expect(() => canonicalize([Number.NaN])).toThrow(TypeError);
    expect(() => canonicalize(2 ** 60)).toThrow(TypeError);
    expect(() => canonicalize(10n)).toThrow(TypeError);
    expect(() => canonicalize(new Date(0))).toThrow(TypeError);
  });

  it("is independent of key insertion order and round-trips through JSON.parse", () => {
    const json = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: "small" },
        fc.constant(null),
        fc.boolean(),
        fc.integer(),
        fc.string(),
        fc.array(tie("value"), { maxLength: 4 }),
        fc.dictionary(fc.string(), tie("value"), { maxKeys: 4 }),
      ),
    })).value;
    fc.assert(
      fc.property(json, (value) => {
        const text = canonicalize(value);
        const reparsed: unknown = JSON.parse(text);
        expect(canonicalize(reparsed)).toBe(text);
        if (value !== null && typeof value === "object" && !Array.isArray(value)) {
          const reversed = Object.fromEntries(Object.entries(value).reverse());
          expect(canonicalize(reversed)).toBe(text);
        }
      }),
    );
  });
});
