/**
 * Every string field a route reads, found by walking its schemas under schemas/ (params, query,
 * body, and the Idempotency-Key header), following `$ref`s into other schemas. Tests derive their
 * cases from this walk, so a field added to a schema is covered without touching the test.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { schemaIdBase, schemasDir } from "../../src/schema-registry.js";
import type { ApiRoute } from "../../src/server/api.js";
import { emptyQuerySchema } from "../../src/server/route.js";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export type RequestPart = "params" | "querystring" | "body" | "headers";

export interface StringField {
  readonly part: RequestPart;
  /** Member names from the part's root; "0" stands for the first item of an array. */
  readonly path: readonly string[];
  readonly maxLength: number | undefined;
  readonly minLength: number;
  /** The src/limits.ts name the schema says maxLength equals. */
  readonly limit: string | undefined;
  readonly pattern: string | undefined;
  readonly format: string | undefined;
  /** The schema file the field is declared in ("api/grant-request"). */
  readonly schema: string;
}

const documents = new Map<string, JsonObject>();

function document(name: string): JsonObject {
  let doc = documents.get(name);
  if (doc === undefined) {
    doc = JSON.parse(readFileSync(join(schemasDir, `${name}.schema.json`), "utf8")) as JsonObject;
    documents.set(name, doc);
  }
  return doc;
}

function pointer(doc: JsonObject, fragment: string): JsonObject {
  let node: Json = doc;
  for (const segment of fragment.split("/").filter((s) => s !== "")) {
    node = (node as JsonObject)[segment.replace(/~1/g, "/").replace(/~0/g, "~")] as Json;
    if (node === undefined) throw new TypeError(`no ${fragment} in schema`);
  }
  return node as JsonObject;
}

/** A `$ref` resolved against the document it appears in: [schema name, node]. */
function resolve(ref: string, from: string): [string, JsonObject] {
  const [base, fragment = ""] = ref.split("#");
  const name =
    base === undefined || base === ""
      ? from
      : base.replace(schemaIdBase, "").replace(/\.schema\.json$/, "");
  return [name, pointer(document(name), fragment)];
}

function walk(
  node: JsonObject,
  from: string,
  part: RequestPart,
  path: string[],
  out: StringField[],
): void {
  if (typeof node.$ref === "string") {
    const [name, target] = resolve(node.$ref, from);
    walk(target, name, part, path, out);
    return;
  }
  if (node.type === "string") {
    out.push({
      part,
      path,
      maxLength: typeof node.maxLength === "number" ? node.maxLength : undefined,
      minLength: typeof node.minLength === "number" ? node.minLength : 0,
      limit: typeof node["x-limit"] === "string" ? node["x-limit"] : undefined,
      pattern: typeof node.pattern === "string" ? node.pattern : undefined,
      format: typeof node.format === "string" ? node.format : undefined,
      schema: from,
    });
    return;
  }
  if (node.type === "array" && node.items !== undefined) {
    walk(node.items as JsonObject, from, part, [...path, "0"], out);
  }
  for (const [key, child] of Object.entries((node.properties ?? {}) as JsonObject)) {
    walk(child as JsonObject, from, part, [...path, key], out);
  }
}

export function fieldsOfSchema(name: string, part: RequestPart): StringField[] {
  const out: StringField[] = [];
  walk(document(name), name, part, [], out);
  return out;
}

/** The schemas a route validates each part with, as src/server/route.ts registers them. */
export function routeSchemas(route: ApiRoute): [RequestPart, string][] {
  return [
    ...(route.params === undefined ? [] : [["params", route.params] as [RequestPart, string]]),
    ["querystring", route.query ?? emptyQuerySchema],
    ...(route.body === undefined ? [] : [["body", route.body] as [RequestPart, string]]),
    ...(route.idempotency === undefined
      ? []
      : [["headers", "api/idempotency-headers"] as [RequestPart, string]]),
  ];
}

export function fieldsOfRoute(route: ApiRoute): StringField[] {
  return routeSchemas(route).flatMap(([part, name]) => fieldsOfSchema(name, part));
}
