/**
 * One error envelope for every failure: `{ error: { code, message, details } }` with the status
 * from the registry. Schema violations carry their JSON paths; unexpected errors are logged with
 * the request id and answered as INTERNAL without internals.
 */
import type { FastifyError, FastifyInstance, FastifyReply } from "fastify";
import fp from "fastify-plugin";
import { CreditgateError, type ErrorCode, errorSpecs } from "../../errors.js";
import { limits } from "../../limits.js";
import type { SchemaViolation } from "../../schema-registry.js";

export interface ErrorEnvelope {
  readonly error: {
    readonly code: string;
    readonly message: string;
    readonly details: Readonly<Record<string, unknown>>;
  };
}

/** Server-side failures whose messages may carry driver, host or file details. */
const internalFailures = new Set([
  "INTERNAL",
  "CONFIG_INVALID",
  "TOOLCHAIN_MISSING",
  "TOOLCHAIN_FAILED",
  "BUNDLE_NOT_FOUND",
  "BUNDLE_TOO_LARGE",
  "SIGNING_KEY_INVALID",
  "TASK_KEYS_INVALID",
  "STORE_UNAVAILABLE",
  "LEDGER_INVARIANT_VIOLATED",
  "STORE_DURABILITY_UNSAFE",
  "STORE_MIGRATION_FAILED",
  "AUDIT_CHAIN_BROKEN",
]);

export function sendError(reply: FastifyReply, error: CreditgateError): FastifyReply {
  if (error.code === "RATE_LIMITED" && !reply.hasHeader("retry-after"))
    reply.header("retry-after", "1");
  // Those answer the registry's message; the cause goes to the log with the request id.
  const internal = internalFailures.has(error.code);
  if (internal && error.message !== errorSpecs[error.code].message) {
    reply.log.error({ err: error, cause: error.cause }, error.message);
  }
  const body: ErrorEnvelope = {
    error: {
      code: error.code,
      message: internal ? errorSpecs[error.code].message : error.message,
      details: internal ? {} : error.details,
    },
  };
  return reply.code(error.status).type("application/json").send(body);
}

/** Fastify's own error codes for body parsing, mapped onto ours. */
const fastifyCodes: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: "REQUEST_TOO_LARGE",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "REQUEST_UNSUPPORTED_MEDIA_TYPE",
  FST_ERR_CTP_EMPTY_JSON_BODY: "REQUEST_MALFORMED",
  FST_ERR_CTP_INVALID_JSON_BODY: "REQUEST_MALFORMED",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "REQUEST_MALFORMED",
};

export function toCreditgateError(error: FastifyError | Error): CreditgateError {
  if (error instanceof CreditgateError) return error;
  const fastifyError = error as FastifyError & {
    validation?: { instancePath: string; message?: string }[];
  };
  if (Array.isArray(fastifyError.validation)) {
    const violations: SchemaViolation[] = fastifyError.validation.map((v) => ({
      path: `${fastifyError.validationContext ?? "body"}${v.instancePath}`,
      message: v.message ?? "is invalid",
    }));
    return new CreditgateError("REQUEST_INVALID", {
      message: `request is invalid: ${violations.map((v) => `${v.path}: ${v.message}`).join("; ")}`,
      details: { violations },
    });
  }
  // Only a path longer than every id limit gets here; shorter ones reach the params schema.
  if (fastifyError.code === "FST_ERR_MAX_PARAM_LENGTH") {
    const message = `is longer than ${limits.routeParamCharsMax} characters`;
    return new CreditgateError("REQUEST_INVALID", {
      message: `request is invalid: a path parameter ${message}`,
      details: { violations: [{ in: "params", path: "", message }] },
    });
  }
  if (fastifyError.code === "FST_ERR_BAD_URL") {
    return new CreditgateError("REQUEST_MALFORMED", {
      message: "the request URL is not valid (a malformed percent-escape)",
    });
  }
  const mapped = fastifyError.code === undefined ? undefined : fastifyCodes[fastifyError.code];
  if (mapped !== undefined)
    return new CreditgateError(mapped, { message: errorSpecs[mapped].message });
  if (error instanceof SyntaxError) return new CreditgateError("REQUEST_MALFORMED");
  return new CreditgateError("INTERNAL");
}

export const errorsPlugin = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((error: FastifyError, request, reply) => {
      const mapped = toCreditgateError(error);
      if (mapped.code === "INTERNAL") request.log.error({ err: error }, "unexpected error");
      return sendError(reply, mapped);
    });
    app.setNotFoundHandler((request, reply) =>
      sendError(
        reply,
        new CreditgateError("NOT_FOUND", {
          message: `no route ${request.method} ${request.url.split("?")[0]}`,
        }),
      ),
    );
  },
  { name: "creditgate-errors" },
);
