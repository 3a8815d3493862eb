import { describe, expect, it } from "vitest";
import { isCreditgateError } from "../../src/errors.js";
import { parseBearer } from "../../src/identity/index.js";
import { limits } from "../../src/limits.js";

function codeOf(header: string | undefined): string {
  try {
    parseBearer(header);
  } catch (error) {
    if (isCreditgateError(error)) return error.code;
    throw error;
  }
  return "accepted";
}

describe("parseBearer", () => {
  it("returns the token of a Bearer header, scheme case-insensitive", () => {
    expect(parseBearer("Bearer abc.def.ghi")).toBe("abc.def.ghi");
    expect(parseBearer("bearer abc.def.ghi")).toBe("abc.def.ghi");
    expect(parseBearer("BEARER  abc.def.ghi ")).toBe("abc.def.ghi");
  });

  it.each([
    [undefined, "AUTH_TOKEN_MISSING"],
    ["", "AUTH_TOKEN_MISSING"],
    ["   ", "AUTH_TOKEN_MISSING"],
    ["Bearer", "AUTH_TOKEN_MALFORMED"],
    ["Bearer ", "AUTH_TOKEN_MALFORMED"],
    ["Basic dXNlcjpwYXNz", "AUTH_TOKEN_MALFORMED"],
    ["Bearer a b", "AUTH_TOKEN_MALFORMED"],
    ["Bearer\tabc", "AUTH_TOKEN_MALFORMED"],
    ["abc.def.ghi", "AUTH_TOKEN_MALFORMED"],
    [`Bearer ${"a".repeat(limits.tokenBytesMax + 100)}`, "AUTH_TOKEN_TOO_LARGE"],
  ])("refuses %j with %s", (header, code) => {
    expect(codeOf(header)).toBe(code);
  });
});
