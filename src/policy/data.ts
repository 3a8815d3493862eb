/**
 * Policy data: each `policies/data/NAME.yaml` becomes `data.NAME` in the bundle, after it
 * validates against `schemas/policy-data/NAME.schema.json`. All problems in all files are
 * collected into one error, each with its file, JSON path, line and message.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { basename, join, relative } from "node:path";
import { LineCounter, parseDocument } from "yaml";
import { CreditgateError } from "../errors.js";
import { limits } from "../limits.js";
import { packageRoot } from "../paths.js";
import { hasSchema, validate } from "../schema-registry.js";

export interface DataViolation {
  readonly file: string;
  /** JSON Pointer into the file's content ("" is the root). */
  readonly path: string;
  readonly line?: number;
  readonly message: string;
}

const dataNamePattern = /^[a-z][a-z0-9_]*$/;

function pointerSegments(pointer: string): string[] {
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function formatDataViolations(violations: readonly DataViolation[]): string {
  return violations
    .map(
      (v) =>
        `${v.file}${v.line === undefined ? "" : `:${v.line}`} ${v.path === "" ? "/" : v.path}: ${v.message}`,
    )
    .join("\n");
}

/** Loads and validates every data file; throws POLICY_DATA_INVALID listing every violation. */
export async function loadPolicyData(dataDir: string): Promise<Record<string, unknown>> {
  const names = (await readdir(dataDir)).filter((name) => /\.ya?ml$/.test(name)).sort();
  const data: Record<string, unknown> = {};
  const violations: DataViolation[] = [];

  for (const fileName of names) {
    const file = relative(packageRoot, join(dataDir, fileName)) || fileName;
    const name = basename(fileName).replace(/\.ya?ml$/, "");
    if (!dataNamePattern.test(name) || name === "creditgate") {
      violations.push({
        file,
        path: "",
        message: `file name must match ${dataNamePattern} and not be "creditgate" (it becomes data.${name})`,
      });
      continue;
    }
    const size = (await stat(join(dataDir, fileName))).size;
    if (size > limits.policyDataFileBytesMax) {
      violations.push({
        file,
        path: "",
        message: `file is ${size} bytes, limit ${limits.policyDataFileBytesMax}`,
      });
      continue;
    }
    const lineCounter = new LineCounter();
    const doc = parseDocument(await readFile(join(dataDir, fileName), "utf8"), {
      lineCounter,
      uniqueKeys: true,
      prettyErrors: false,
    });
    if (doc.errors.length > 0) {
      for (const error of doc.errors) {
        const line = lineCounter.linePos(error.pos[0]).line;
        violations.push({ file, path: "", line, message: `YAML: ${error.message.split("\n")[0]}` });
      }
      continue;
    }
    const content: unknown = doc.toJS({ maxAliasCount: 100 });
    const schemaName = `policy-data/${name}`;
    if (!hasSchema(schemaName)) {
      violations.push({
        file,
        path: "",
        message: `no schema schemas/${schemaName}.schema.json for this data file`,
      });
      continue;
    }
    for (const violation of validate(schemaName, content)) {
      const node = doc.getIn(pointerSegments(violation.path), true) as
        | { range?: [number, number, number] }
        | undefined;
      const offset = node?.range?.[0];
      violations.push({
        file,
        path: violation.path,
        ...(offset === undefined ? {} : { line: lineCounter.linePos(offset).line }),
        message: violation.message,
      });
    }
    data[name] = content;
  }

  if (violations.length > 0) {
    throw new CreditgateError("POLICY_DATA_INVALID", {
      message: `policy data is invalid:\n${formatDataViolations(violations)}`,
      details: { violations },
    });
  }
  return data;
}

/** Stable JSON for data.json: keys sorted, so the same data always gives the same bytes. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) =>
            a < b ? -1 : a > b ? 1 : 0,
          ),
        )
      : v,
  );
}
