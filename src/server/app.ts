/**
 * The HTTP application: fastify with the project's validator, one error envelope, rate and size
 * limits, authentication per route, and the route plugins. `buildApp` never listens; the service
 * (src/service/) or a test decides where it runs.
 */
import fastify, { type FastifyInstance, type FastifyServerOptions, LogController } from "fastify";
import type { ServerConfig } from "../config/types.js";
import { CreditgateError, isCreditgateError } from "../errors.js";
import { newId } from "../ids.js";
import { limits } from "../limits.js";
import {
  type ConnectionGuard,
  connectionsCheckIntervalMs,
  createConnectionGuard,
} from "./connections.js";
import type { AppDeps } from "./deps.js";
import { authPlugin } from "./plugins/auth.js";
import { errorsPlugin, sendError, toCreditgateError } from "./plugins/errors.js";
import { rateLimitPlugin } from "./plugins/rate-limit.js";
import { adminRoutes } from "./routes/admin.js";
import { auditRoutes } from "./routes/audit.js";
import { decisionRoutes } from "./routes/decisions.js";
import { holdRoutes } from "./routes/holds.js";
import { jwksRoutes } from "./routes/jwks.js";
import { openApiRoutes } from "./routes/openapi.js";
import { operationsRoutes } from "./routes/operations.js";
import { taskRoutes } from "./routes/tasks.js";
import { validatorCompiler } from "./validation.js";

export type AppConfig = Pick<
  ServerConfig,
  | "body_limit_bytes"
  | "rate_limit"
  | "request_timeout_ms"
  | "headers_timeout_ms"
  | "keep_alive_timeout_ms"
  | "idle_timeout_ms"
  | "connections_max"
>;

declare module "fastify" {
  interface FastifyInstance {
    /** The connections the server holds: in-flight requests, and cutting them at shutdown. */
    readonly connections: ConnectionGuard;
  }
}

export interface BuildAppOptions {
  readonly logger?: FastifyServerOptions["logger"];
  /** Log every request and response (default off: thousands of decisions a second). */
  readonly requestLogging?: boolean;
}

/** Answers that mean the ledger refused or failed, not that the caller erred. */
function isLedgerError(error: CreditgateError): boolean {
  if (["LEDGER_", "STORE_", "AUDIT_"].some((prefix) => error.code.startsWith(prefix))) return true;
  if (error.code === "IDEMPOTENCY_CONFLICT" || error.code === "IDEMPOTENCY_IN_PROGRESS")
    return true;
  // A hold or transfer the ledger does not know: a 404 carrying the ledger's code.
  return error.code === "NOT_FOUND" && error.details.ledger_code !== undefined;
}

export async function buildApp(
  deps: AppDeps,
  config: AppConfig,
  options: BuildAppOptions = {},
): Promise<FastifyInstance> {
  const connections = createConnectionGuard(deps.metrics.connectionsCut);
  const app = fastify({
    // Node's own timeouts, so no connection is held open by a client that sends slowly, stops
    // sending, or stops reading (src/server/connections.ts answers and counts the cuts).
    requestTimeout: config.request_timeout_ms,
    keepAliveTimeout: config.keep_alive_timeout_ms,
    connectionTimeout: config.idle_timeout_ms,
    http: {
      headersTimeout: config.headers_timeout_ms,
      requestTimeout: config.request_timeout_ms,
      connectionsCheckingInterval: connectionsCheckIntervalMs(config),
    },
    clientErrorHandler: connections.onClientError,
    logger: options.logger ?? false,
    logController: new LogController({ disableRequestLogging: options.requestLogging !== true }),
    bodyLimit: config.body_limit_bytes,
    genReqId: () => newId("request"),
    // Requests arriving while closing get our own 503 envelope (the hook below).
    return503OnClosing: false,
    forceCloseConnections: "idle",
    routerOptions: {
      ignoreTrailingSlash: false,
      caseSensitive: true,
      // fastify's default (100) is below the id limits: a valid tenant or hold id got a 414.
      maxParamLength: limits.routeParamCharsMax,
    },
    // Errors the router raises before any route (a path parameter too long, a bad percent-escape)
    // answer in the one envelope too.
    frameworkErrors: (error, _request, reply) => sendError(reply, toCreditgateError(error)),
  });
  connections.attach(app.server, config.connections_max);
  app.decorate("connections", connections);
  app.setValidatorCompiler(validatorCompiler);
  // JSON only: text/plain bodies would reach handlers as strings.
  app.removeContentTypeParser("text/plain");

  await app.register(errorsPlugin);
  await app.register(authPlugin);
  await app.register(rateLimitPlugin, {
    requestsPerSecond: config.rate_limit.requests_per_second,
    burst: config.rate_limit.burst,
    clock: deps.clock,
    exempt: ["/healthz", "/readyz", "/metrics"],
  });

  // Graceful shutdown: in-flight requests finish; new ones on kept-alive connections get a 503
  // in the one error envelope, with the connection closed so clients reconnect elsewhere.
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  app.addHook("onRequest", async (_request, reply) => {
    if (!closing) return;
    reply.header("connection", "close");
    throw new CreditgateError("SERVICE_UNAVAILABLE", { message: "the service is shutting down" });
  });

  app.addHook("onError", async (_request, _reply, error) => {
    if (!isCreditgateError(error)) return;
    if (isLedgerError(error)) {
      const ledgerCode = error.details.ledger_code;
      deps.metrics.ledgerErrors.inc({
        code: typeof ledgerCode === "string" ? ledgerCode : error.code,
      });
    }
    if (error.code.startsWith("AUTH_")) deps.metrics.authFailures.inc({ code: error.code });
  });
  app.addHook("onResponse", async (request, reply) => {
    deps.metrics.httpResponses.inc({
      route: request.routeOptions.url ?? "unmatched",
      status: String(reply.statusCode),
    });
  });

  for (const routes of [
    decisionRoutes,
    holdRoutes,
    taskRoutes,
    adminRoutes,
    auditRoutes,
    operationsRoutes,
    jwksRoutes,
    openApiRoutes,
  ]) {
    await app.register(routes, { deps });
  }
  return app;
}
