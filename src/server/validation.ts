/**
 * Request validation with the project's one ajv instance (src/schema-registry.ts): route schemas
 * are `{ $ref: <schema id> }` into schemas/api, so the API, the OpenAPI document and the tests
 * all read the same files. A violation becomes REQUEST_INVALID listing every failing path.
 */
import type { FastifySchemaCompiler } from "fastify";
import { CreditgateError } from "../errors.js";
import { schemaIdBase, validate, validatorFor, violationsOf } from "../schema-registry.js";

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

/** REQUEST_INVALID listing every violation, the one shape every request check answers with. */
export function requestInvalid(violations: readonly RequestViolation[]): CreditgateError {
  const summary = violations.map((v) => `${v.in}${v.path}: ${v.message}`).join("; ");
  return new CreditgateError("REQUEST_INVALID", {
    message: `request is invalid: ${summary}`,
    details: { violations },
  });
}

/** The violations of `data` against an API schema, as parts of the request. */
export function requestViolations(name: string, part: string, data: unknown): RequestViolation[] {
  return validate(name, data).map((v) => ({ in: part, path: v.path, message: v.message }));
}

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const ref = (schema as { $ref?: unknown }).$ref;
  if (typeof ref !== "string") throw new TypeError("route schemas must be { $ref: <schema id> }");
  const validateFn = validatorFor(ref);
  const part = httpPart ?? "body";
  return (data: unknown) => {
    if (validateFn(data)) return { value: data };
    const violations: RequestViolation[] = violationsOf(validateFn.errors).map((v) => ({
      in: part,
      path: v.path,
      message: v.message,
    }));
    return { error: requestInvalid(violations) };
  };
};

/**
 * Epoch ms of a date-time its schema accepted. RFC 3339 allows a leap second (23:59:60), which
 * JavaScript dates cannot hold; it is refused by name rather than moved to another second.
 */
export function instantOf(value: string, part: string, name: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) {
    throw requestInvalid([
      {
        in: part,
        path: `/${name}`,
        message: /:60(?:[.,]\d+)?(?:[zZ]|[+-]\d{2}:\d{2})$/.test(value)
          ? "is a leap second, which this service cannot represent"
          : "is not a time this service can use",
      },
    ]);
  }
  return ms;
}
