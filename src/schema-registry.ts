/**
 * Every JSON Schema in `schemas/`, registered by `$id` in one ajv instance, so schemas can
 * `$ref` each other and every boundary (policy data, decision input and result, config, API
 * bodies) validates with the same rules. Validators compile on first use and are cached.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  Ajv2020,
  type AnySchemaObject,
  type ErrorObject,
  type ValidateFunction,
} from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { packageRoot } from "./paths.js";

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

export const schemasDir = join(packageRoot, "schemas");
export const schemaIdBase = "https://creditgate.dev/schemas/";

export interface SchemaViolation {
  /** JSON Pointer into the validated value ("" is the root). */
  readonly path: string;
  readonly message: string;
}

function listSchemaFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listSchemaFiles(full));
    else if (entry.name.endsWith(".schema.json")) out.push(full);
  }
  return out.sort();
}

let ajvInstance: Ajv2020 | undefined;

function ajv(): Ajv2020 {
  if (ajvInstance !== undefined) return ajvInstance;
  const instance = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
  addFormats(instance);
  // An annotation: the src/limits.ts limit a maxLength equals (test/server/limits.test.ts).
  instance.addKeyword({ keyword: "x-limit", schemaType: "string" });
  for (const file of listSchemaFiles(schemasDir)) {
    const schema = JSON.parse(readFileSync(file, "utf8")) as AnySchemaObject;
    if (typeof schema.$id !== "string") throw new TypeError(`${file} has no $id`);
    instance.addSchema(schema);
  }
  ajvInstance = instance;
  return instance;
}

const validators = new Map<string, ValidateFunction>();

/** The validator for a schema by `$id`, or by its path under schemas/ ("decision-input"). */
export function validatorFor(idOrName: string): ValidateFunction {
  const id = idOrName.startsWith("https://") ? idOrName : `${schemaIdBase}${idOrName}.schema.json`;
  let validate = validators.get(id);
  if (validate === undefined) {
    validate = ajv().getSchema(id);
    if (validate === undefined) throw new TypeError(`no schema with $id ${id} in ${schemasDir}`);
    validators.set(id, validate);
  }
  return validate;
}

export function hasSchema(idOrName: string): boolean {
  const id = idOrName.startsWith("https://") ? idOrName : `${schemaIdBase}${idOrName}.schema.json`;
  return ajv().getSchema(id) !== undefined;
}

export function violationsOf(errors: readonly ErrorObject[] | null | undefined): SchemaViolation[] {
  return (errors ?? []).map((error) => {
    let message = error.message ?? "is invalid";
    if (error.keyword === "additionalProperties") {
      message = `has unknown property "${(error.params as { additionalProperty: string }).additionalProperty}"`;
    } else if (error.keyword === "enum") {
      message = `must be one of ${JSON.stringify((error.params as { allowedValues: unknown[] }).allowedValues)}`;
    }
    return { path: error.instancePath, message };
  });
}

/** Validates and returns the violations; an empty list means valid. */
export function validate(idOrName: string, value: unknown): SchemaViolation[] {
  const fn = validatorFor(idOrName);
  return fn(value) ? [] : violationsOf(fn.errors);
}

export function formatViolations(violations: readonly SchemaViolation[]): string {
  return violations.map((v) => `${v.path === "" ? "/" : v.path}: ${v.message}`).join("; ");
}
