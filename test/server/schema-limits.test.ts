/**
 * One limit per kind of id: every bound an API schema states is the src/limits.ts limit its
 * "x-limit" names, every string a route reads is bounded, and the router lets every valid path
 * parameter reach its schema.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { idempotencyKeyCharsMax as clientIdempotencyKeyCharsMax } from "../../src/client/limits.js";
import { limits } from "../../src/limits.js";
import { schemasDir } from "../../src/schema-registry.js";
import { apiRoutes } from "../../src/server/api.js";
import { fieldsOfRoute } from "../helpers/request-fields.js";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface Annotated {
  readonly file: string;
  readonly at: string;
  readonly maxLength: unknown;
  readonly limit: unknown;
}

function annotated(node: Json, file: string, at: string, out: Annotated[]): Annotated[] {
  if (node === null || typeof node !== "object") return out;
  if (Array.isArray(node)) {
    node.forEach((child, i) => {
      annotated(child, file, `${at}/${i}`, out);
    });
    return out;
  }
  if ("x-limit" in node || (node.type === "string" && "maxLength" in node)) {
    out.push({ file, at, maxLength: node.maxLength, limit: node["x-limit"] });
  }
  for (const [key, child] of Object.entries(node)) annotated(child, file, `${at}/${key}`, out);
  return out;
}

const apiSchemaFiles = readdirSync(join(schemasDir, "api")).filter((f) =>
  f.endsWith(".schema.json"),
);
const bounds = apiSchemaFiles.flatMap((file) =>
  annotated(JSON.parse(readFileSync(join(schemasDir, "api", file), "utf8")) as Json, file, "", []),
);
const routes = Object.values(apiRoutes);

describe("API schema bounds", () => {
  it("finds the bounds it checks", () => {
    expect(bounds.length).toBeGreaterThan(20);
  });

  it.each(bounds.map((b) => [`${b.file}#${b.at}`, b] as const))(
    "%s: maxLength is the limit its x-limit names",
    (_name, bound) => {
      expect(typeof bound.limit, "every maxLength names its limit").toBe("string");
      const limit = limits[bound.limit as keyof typeof limits];
      expect(limit, `src/limits.ts has ${String(bound.limit)}`).toBeTypeOf("number");
      expect(bound.maxLength).toBe(limit);
    },
  );

  it.each(routes.map((route) => [route.operationId, route] as const))(
    "%s: every string it reads is bounded",
    (_name, route) => {
      for (const field of fieldsOfRoute(route)) {
        const where = `${field.part}/${field.path.join("/")} (${field.schema})`;
        expect(field.maxLength, where).toBeTypeOf("number");
        if (field.schema.startsWith("api/")) expect(field.limit, where).toBeTypeOf("string");
      }
    },
  );

  it("bounds an action's workflow and task ids as the limits do", () => {
    const action = fieldsOfRoute(apiRoutes.decide).filter((f) => f.path[0] === "action");
    const bound = (name: string) => action.find((f) => f.path[1] === name)?.maxLength;
    expect(bound("workflow_id")).toBe(limits.workflowIdCharsMax);
    expect(bound("task_id")).toBeLessThanOrEqual(limits.workflowIdCharsMax);
  });

  it("lets every valid path parameter through the router", () => {
    const params = routes.flatMap(fieldsOfRoute).filter((f) => f.part === "params");
    expect(params.length).toBeGreaterThan(0);
    for (const field of params) {
      expect(field.maxLength).toBeLessThanOrEqual(limits.routeParamCharsMax);
    }
  });

  it("gives the client the service's idempotency key limit", () => {
    expect(clientIdempotencyKeyCharsMax).toBe(limits.idempotencyKeyCharsMax);
  });
});
