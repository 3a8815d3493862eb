/**
 * The running HTTP service: the decision core plus the fastify app. `listen` starts serving;
 * `close` stops taking requests, lets the in-flight ones finish (or `cutConnections` cuts them),
 * then closes the store, which flushes its pending batch.
 */
import type { FastifyInstance, FastifyServerOptions } from "fastify";
import type { Config } from "../config/types.js";
import { buildApp } from "../server/app.js";
import type { AuthFailure } from "../server/plugins/auth.js";
import { type Core, type CoreOptions, createCore } from "./core.js";
import type { LedgerAlert } from "./ledger-watch.js";

export interface ServiceOptions extends CoreOptions {
  readonly logger?: FastifyServerOptions["logger"];
  readonly requestLogging?: boolean;
}

export interface Service extends Core {
  readonly app: FastifyInstance;
  /** Starts serving; resolves with the address (e.g. http://127.0.0.1:8080). */
  listen(port?: number, host?: string): Promise<string>;
  /**
   * Destroys every open connection, e.g. once a shutdown's grace has run out, so `close` can
   * go on to flush and close the store. Returns how many requests were cut in flight.
   */
  cutConnections(): number;
}

export async function createService(
  config: Config,
  options: ServiceOptions = {},
): Promise<Service> {
  let app: FastifyInstance | undefined;
  // The start-up reconciliation may report before the app (and its logger) exists.
  const early: LedgerAlert[] = [];
  const logLedgerAlert = (alert: LedgerAlert) =>
    app?.log.error({ code: "LEDGER_INVARIANT_VIOLATED", ...alert.verification }, alert.message);
  const core = await createCore(config, {
    ...options,
    onSweepError: (error) => app?.log.warn({ err: error }, "expiry sweep failed; retrying"),
    onLedgerAlert: (alert) => (app === undefined ? early.push(alert) : logLedgerAlert(alert)),
    onActivation: (event) => {
      options.onActivation?.(event);
      // The first activation happens before the app (and its logger) exists.
      if (event.kind === "rejected") {
        app?.log.error(
          { code: event.error.code, kept_revision: event.keptRevision },
          `policy bundle rejected: ${event.error.message}`,
        );
      } else if (event.kind === "activated") {
        app?.log.info(
          { revision: event.revision, previous_revision: event.previousRevision },
          "policy bundle activated",
        );
      }
    },
  });
  const onAuthFailure = async (failure: AuthFailure): Promise<void> => {
    try {
      await core.store.recordEvent({
        kind: "auth",
        // A verified admin refused another tenant is filed under its own tenant: its own trail.
        tenant: failure.principal?.tenant ?? null,
        data: {
          code: failure.code,
          audience: failure.audience,
          method: failure.method,
          route: failure.route,
          ip: failure.ip,
          request_id: failure.requestId,
          token_sha256: failure.tokenHash,
          // Where the audit query's principal filter looks.
          ...(failure.principal === undefined ? {} : { principal: { ...failure.principal } }),
          ...(failure.targetTenant === undefined ? {} : { target_tenant: failure.targetTenant }),
        },
      });
    } catch (error) {
      // The 401 goes out regardless; a store that cannot record it shows on /readyz.
      app?.log.error({ err: error }, "could not audit an authentication failure");
    }
  };
  try {
    app = await buildApp({ ...core, onAuthFailure }, config.server, {
      ...(options.logger === undefined ? {} : { logger: options.logger }),
      ...(options.requestLogging === undefined ? {} : { requestLogging: options.requestLogging }),
    });
  } catch (error) {
    await core.close();
    throw error;
  }
  const served = app;
  for (const alert of early.splice(0)) logLedgerAlert(alert);
  let closing: Promise<void> | undefined;
  return {
    ...core,
    app: served,
    listen(port = config.server.port, host = config.server.host) {
      return served.listen({ port, host });
    },
    cutConnections() {
      return served.connections.cutAll();
    },
    close() {
      closing ??= (async () => {
        try {
          await served.close();
        } finally {
          await core.close();
        }
      })();
      return closing;
    },
  };
}
