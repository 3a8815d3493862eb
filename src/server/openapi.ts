/**
 * The OpenAPI 3.1 document, built from the API table and the JSON Schemas the routes validate
 * with. Schemas keep their `$id`, so the absolute `$ref`s between them resolve inside the
 * document the same way they do in the service.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type ErrorCode, errorSpecs } from "../errors.js";
import { packageRoot } from "../paths.js";
import { schemasDir } from "../schema-registry.js";
import { type ApiRoute, apiRoutes, commonErrors } from "./api.js";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** "api/decision-request" → "DecisionRequest"; "decision-input" → "DecisionInput". */
function componentName(schemaName: string): string {
  return schemaName
    .replace(/^api\//, "")
    .split(/[-/]/)
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join("");
}

function readSchema(name: string): JsonObject {
  return JSON.parse(readFileSync(join(schemasDir, `${name}.schema.json`), "utf8")) as JsonObject;
}

/** Schemas a document needs: all API schemas plus the policy contract they reference. */
function componentSchemas(): JsonObject {
  const names = [
    ...readdirSync(join(schemasDir, "api"))
      .filter((f) => f.endsWith(".schema.json"))
      .map((f) => `api/${f.replace(/\.schema\.json$/, "")}`)
      .sort(),
    "decision-input",
    "decision-result",
  ];
  const out: JsonObject = {};
  for (const name of names) {
    const { $schema: _dialect, ...schema } = readSchema(name);
    out[componentName(name)] = schema;
  }
  return out;
}

const ref = (schemaName: string): JsonObject => ({
  $ref: `#/components/schemas/${componentName(schemaName)}`,
});

function parametersFrom(schemaName: string, where: "path" | "query"): Json[] {
  const schema = readSchema(schemaName);
  const properties = (schema.properties ?? {}) as JsonObject;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: where,
    required: where === "path" || required.has(name),
    schema: property,
  }));
}

/** The header's schema as the route validates it, so the document states the same bounds. */
function idempotencyKeySchema(): Json {
  const properties = readSchema("api/idempotency-headers").properties as JsonObject;
  return properties["idempotency-key"] as Json;
}

function errorResponses(route: ApiRoute): JsonObject {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of [...route.errors, ...commonErrors]) {
    const status = errorSpecs[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const out: JsonObject = {};
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    out[String(status)] = {
      description: `Error envelope; code one of ${codes.join(", ")} (docs/errors.md).`,
      content: { "application/json": { schema: ref("api/error") } },
    };
  }
  return out;
}

function operation(route: ApiRoute): JsonObject {
  const parameters: Json[] = [
    ...(route.params === undefined ? [] : parametersFrom(route.params, "path")),
    ...(route.query === undefined ? [] : parametersFrom(route.query, "query")),
    ...(route.idempotency === undefined
      ? []
      : [
          {
            name: "Idempotency-Key",
            in: "header",
            required: route.idempotency === "required",
            description:
              "A retry with the same key returns the identical response and applies at most once.",
            schema: idempotencyKeySchema(),
          },
        ]),
  ];
  const responses: JsonObject = {};
  for (const [status, schemaName] of Object.entries(route.responses)) {
    responses[status] =
      schemaName === "text"
        ? {
            description: "Prometheus text format.",
            content: { "text/plain": { schema: { type: "string" } } },
          }
        : schemaName === "json"
          ? {
              description: "OpenAPI document.",
              content: { "application/json": { schema: { type: "object" } } },
            }
          : { description: "OK", content: { "application/json": { schema: ref(schemaName) } } };
  }
  return {
    operationId: route.operationId,
    summary: route.summary,
    tags: [route.tag],
    ...(route.auth === "none"
      ? { security: [] }
      : { security: [{ [route.auth === "admin" ? "adminBearer" : "bearer"]: [] }] }),
    ...(parameters.length === 0 ? {} : { parameters }),
    ...(route.body === undefined
      ? {}
      : {
          requestBody: {
            required: true,
            content: { "application/json": { schema: ref(route.body) } },
          },
        }),
    responses: { ...responses, ...(route.errors.length === 0 ? {} : errorResponses(route)) },
  };
}

export function buildOpenApi(): JsonObject {
  const pkg = JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")) as {
    version: string;
    description: string;
  };
  const paths: JsonObject = {};
  for (const route of Object.values(apiRoutes) as ApiRoute[]) {
    const item = (paths[route.path] ?? {}) as JsonObject;
    item[route.method.toLowerCase()] = operation(route);
    paths[route.path] = item;
  }
  return {
    openapi: "3.1.0",
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    info: { title: "creditgate", version: pkg.version, description: pkg.description },
    tags: [
      { name: "decisions", description: "Allow or deny, with cost, enforced in the ledger." },
      { name: "holds", description: "Settle reservations made by decisions." },
      { name: "tasks", description: "Short-lived, budgeted credentials for agent tasks." },
      { name: "admin", description: "Credits, reversals and revocations; admin issuer only." },
      { name: "audit", description: "The hash-chained audit trail." },
      { name: "operations", description: "Probes, metrics and this document." },
    ],
    paths,
    components: {
      schemas: componentSchemas(),
      securitySchemes: {
        bearer: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description: "A user or workload token from a trusted issuer.",
        },
        adminBearer: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description:
            "A token from the admin issuer carrying the admin role. It acts on its own tenant only, unless it also carries the platform admin role (any tenant).",
        },
      },
    },
  };
}
