/**
 * Request validation with the project's one ajv instance (src/schema-registry.ts): route schemas
 * are `{ $ref: <schema id> }` into schemas/api, so the API, the OpenAPI document and the tests
 * all read the same files. A violation becomes REQUEST_INVALID listing every failing path.
 */
import type { FastifySchemaCompiler } from "fastify";
import { CreditgateError } from "../errors.js";
import { schemaIdBase, validatorFor, violationsOf } from "../schema-registry.js";

/** The route schema for an API schema name ("api/decision-request"). */
export function apiSchema(name: string): { readonly $ref: string } {
  return { $ref: `${schemaIdBase}${name}.schema.json` };
}

export interface RequestViolation {
  /** Which part of the request: body, querystring, params or headers. */
  readonly in: string;
  /** JSON Pointer within that part ("" is the whole part). */
  readonly path: string;
  readonly message: string;
}

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const ref = (schema as { $ref?: unknown }).$ref;
  if (typeof ref !== "string") throw new TypeError("route schemas must be { $ref: <schema id> }");
  const validate = validatorFor(ref);
  const part = httpPart ?? "body";
  return (data: unknown) => {
    if (validate(data)) return { value: data };
    const violations: RequestViolation[] = violationsOf(validate.errors).map((v) => ({
      in: part,
      path: v.path,
      message: v.message,
    }));
    const summary = violations.map((v) => `${v.in}${v.path}: ${v.message}`).join("; ");
    return {
      error: new CreditgateError("REQUEST_INVALID", {
        message: `request is invalid: ${summary}`,
        details: { violations },
      }),
    };
  };
};
