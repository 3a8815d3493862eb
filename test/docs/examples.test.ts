/**
 * Docs examples that cannot go stale: the client example decides an action the starter policy
 * knows (and holds, since it settles a hold), and no doc shows a revision or digest of one
 * particular build.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { packageRoot } from "../../src/paths.js";
import { readBundleFile } from "../../src/policy/bundle.js";
import { PolicyEvaluator } from "../../src/policy/evaluator.js";
import type { Action } from "../../src/policy/types.js";
import { committedBundlePath, devVerificationKey } from "../helpers/bundles.js";
import { baseInput } from "../helpers/inputs.js";

const docsDir = join(packageRoot, "docs");
const docs = [
  ["README.md", readFileSync(join(packageRoot, "README.md"), "utf8")],
  ...readdirSync(docsDir)
    .filter((name) => name.endsWith(".md"))
    .map((name) => [`docs/${name}`, readFileSync(join(docsDir, name), "utf8")]),
] as const;

/** The object literal passed to the first `creditgate.decide(...)` of docs/client.md, as JSON. */
function clientExampleAction(): Action {
  const doc = readFileSync(join(docsDir, "client.md"), "utf8");
  const literal = /creditgate\.decide\((\{[\s\S]*?\n\})\)/.exec(doc)?.[1];
  if (literal === undefined)
    throw new Error("docs/client.md has no creditgate.decide({...}) example");
  const json = literal
    .replace(/(\d)_(\d)/g, "$1$2")
    .replace(/([{,]\s*)([A-Za-z_][A-Za-z0-9_]*)\s*:/g, '$1"$2":')
    .replace(/,(\s*[}\]])/g, "$1");
  return JSON.parse(json) as Action;
}

describe("docs examples", () => {
  it("docs/client.md decides an action the starter policy allows and holds", async () => {
    const evaluator = await PolicyEvaluator.create(
      await readBundleFile(committedBundlePath, { verificationKey: await devVerificationKey() }),
    );
    const result = evaluator.evaluate(baseInput({ action: clientExampleAction() }));
    expect({ allow: result.allow, reasons: result.reasons.map((r) => r.code) }).toEqual({
      allow: true,
      reasons: ["PRICE_APPLIED"],
    });
    expect(result.hold).toBeGreaterThan(0);
  });

  it("names one unit, the credit, wherever amounts are explained", () => {
    const sources = [
      ...docs,
      [
        "policies/pricing.rego",
        readFileSync(join(packageRoot, "policies", "pricing.rego"), "utf8"),
      ],
      [
        "policies/data/prices.yaml",
        readFileSync(join(packageRoot, "policies", "data", "prices.yaml"), "utf8"),
      ],
      [
        "schemas/policy-data/prices.schema.json",
        readFileSync(join(packageRoot, "schemas", "policy-data", "prices.schema.json"), "utf8"),
      ],
    ];
    expect(sources.filter(([, text]) => /millicredit/i.test(text)).map(([name]) => name)).toEqual(
      [],
    );
  });

  it.each(docs.map(([name, text]) => [name, text]))(
    "%s shows placeholders, not one build's revision or digest",
    (_name, text) => {
      expect(text).not.toMatch(/"policy_revision":\s*"[0-9a-f]{7,}/);
      expect(text).not.toMatch(/\(policy [0-9a-f]{7,}/);
      expect(text).not.toMatch(/revision="[0-9a-f]{7,}/);
      expect(text).not.toMatch(/sha256:[0-9a-f]{8}/);
    },
  );
});
