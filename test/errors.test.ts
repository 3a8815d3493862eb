/** docs/errors.md lists exactly the codes of src/errors.ts, with the same status and retryability. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CreditgateError, type ErrorSpec, errorSpecs } from "../src/errors.js";
import { packageRoot } from "../src/paths.js";

const doc = readFileSync(join(packageRoot, "docs", "errors.md"), "utf8");
const rows = [...doc.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \| (\d{3}) \| (yes|no) \|/gm)].map((m) => ({
  code: m[1] as string,
  status: Number(m[2]),
  retryable: m[3] === "yes",
}));

describe("the error registry", () => {
  it("is documented exactly, code for code", () => {
    expect(rows.map((r) => r.code).sort()).toEqual(Object.keys(errorSpecs).sort());
  });

  it("documents each code's HTTP status and retryability as registered", () => {
    for (const row of rows) {
      const spec = (errorSpecs as Record<string, ErrorSpec>)[row.code];
      expect({ code: row.code, status: spec?.status, retryable: spec?.retryable }).toEqual(row);
    }
  });

  it("uses upper-snake codes and sane statuses", () => {
    for (const [code, spec] of Object.entries(errorSpecs) as [string, ErrorSpec][]) {
      expect(code).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect(spec.status).toBeGreaterThanOrEqual(400);
      expect(spec.status).toBeLessThan(600);
      expect(spec.message.length).toBeGreaterThan(0);
    }
  });

  it("carries code, status and retryability on the thrown error", () => {
    const error = new CreditgateError("BUNDLE_UNSIGNED", { details: { file: "x" } });
    expect(error).toMatchObject({
      code: "BUNDLE_UNSIGNED",
      status: 422,
      retryable: false,
      details: { file: "x" },
    });
    expect(error.message).toBe(errorSpecs.BUNDLE_UNSIGNED.message);
  });
});
