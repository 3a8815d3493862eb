/**
 * `creditgate serve`: the decision service. Starts only with a valid configuration, store and
 * policy bundle; reloads the bundle on SIGHUP (and when the file changes, if policy.watch);
 * on SIGINT or SIGTERM stops accepting, drains in-flight requests within
 * server.shutdown_grace_ms, closes the store and exits 0; requests still in flight after the
 * grace are cut (their connections destroyed), the store is flushed and closed, and it exits 1.
 */
import { parseArgs } from "node:util";
import type { Config } from "../config/types.js";
import { CreditgateError } from "../errors.js";
import { limits } from "../limits.js";
import { createService } from "../service/service.js";
import { type CliIO, UsageError } from "./io.js";
import { configHelp, configOption, integer, loadCliConfig } from "./options.js";

export const serveHelp = `Usage: creditgate serve [--port N] [--host H] [--config FILE]

Runs the decision service. With no configuration: SQLite at ./data/creditgate.db, the committed
policy bundle, the development issuer, port 8080 on 127.0.0.1 (PORT or CREDITGATE_PORT override).

Signals: SIGHUP reloads the policy bundle (a bad bundle is rejected and the last good one kept);
SIGINT and SIGTERM shut down gracefully: in-flight requests get server.shutdown_grace_ms,
then their connections are cut, the store is flushed and the exit code is 1.

Options:
  --port N                     listen port (0 picks a free one)
  --host H                     listen address
  --log-level L                fatal, error, warn, info (default), debug, trace, silent;
                               debug and trace also log every request
${configHelp}
`;

/** The socket errors a listen can meet, as one readable line with a stable code. */
const listenProblems: Readonly<Record<string, string>> = {
  EADDRINUSE: "is in use",
  EACCES: "needs privileges this process does not have",
  EADDRNOTAVAIL: "is not an address of this machine",
};

function listenFailure(error: unknown, port: number, host: string): unknown {
  const code = (error as { code?: unknown }).code;
  const problem = typeof code === "string" ? listenProblems[code] : undefined;
  if (problem === undefined) return error;
  const message =
    code === "EADDRNOTAVAIL"
      ? `cannot listen on port ${port}: ${host} ${problem}`
      : `port ${port} on ${host} ${problem}`;
  return new CreditgateError("LISTEN_FAILED", { message, details: { port, host, reason: code } });
}

const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

export async function serveCommand(args: readonly string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      ...configOption,
      port: { type: "string" },
      host: { type: "string" },
      "log-level": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.stdout(serveHelp);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const level = values["log-level"] ?? io.env.CREDITGATE_LOG_LEVEL ?? "info";
  if (!(logLevels as readonly string[]).includes(level)) {
    throw new UsageError(`--log-level must be one of ${logLevels.join(", ")}, got "${level}"`);
  }
  const port = values.port === undefined ? undefined : integer(values.port, "port", 0, 65_535);
  const loaded = await loadCliConfig(io, values.config);
  const config: Config = {
    ...loaded,
    server: {
      ...loaded.server,
      ...(port === undefined ? {} : { port }),
      ...(values.host === undefined ? {} : { host: values.host }),
    },
  };

  const service = await createService(config, {
    logger: { level },
    requestLogging: level === "debug" || level === "trace",
    baseDir: io.cwd,
  });
  let address: string;
  try {
    address = await service.listen();
  } catch (error) {
    // E.g. the port is taken: release the store, keys and watchers before reporting it.
    await service.close();
    throw listenFailure(error, config.server.port, config.server.host);
  }
  const active = service.policy.current;
  io.stdout(
    `creditgate listening on ${address} (policy ${active.revision}, store ${config.store.kind})\n`,
  );

  return new Promise<number>((resolve) => {
    const onHangup = () => {
      service.app.log.info("SIGHUP: reloading the policy bundle");
      void service.reload();
    };
    const onStop = (signal: NodeJS.Signals) => {
      process.off("SIGHUP", onHangup);
      process.off("SIGINT", onStop);
      process.off("SIGTERM", onStop);
      service.app.log.info({ signal }, "shutting down");
      const graceMs = config.server.shutdown_grace_ms;
      let cut: number | undefined;
      let flushTimer: NodeJS.Timeout | undefined;
      let done = false;
      const finish = (code: number) => {
        if (done) return;
        done = true;
        clearTimeout(graceTimer);
        clearTimeout(flushTimer);
        resolve(code);
        // Work still stuck (a handler awaiting something that never answers) must not keep a
        // stopped service alive; a clean exit happens long before this fires.
        if (cut !== undefined)
          setTimeout(() => process.exit(code), limits.shutdownFlushTimeoutMs).unref();
      };
      // After the grace, what is still open is cut, so the server closes and the store flushes
      // its pending batch and closes; the exit code says requests were cut.
      const graceTimer = setTimeout(() => {
        cut = service.cutConnections();
        io.stderr(
          `creditgate: shutdown grace of ${graceMs} ms ran out; cut ${cut} ${cut === 1 ? "request" : "requests"} in flight\n`,
        );
        flushTimer = setTimeout(() => {
          io.stderr(
            `creditgate: the store did not close within ${limits.shutdownFlushTimeoutMs} ms\n`,
          );
          finish(1);
        }, limits.shutdownFlushTimeoutMs);
      }, graceMs);
      service.close().then(
        () => finish(cut === undefined ? 0 : 1),
        (error: unknown) => {
          io.stderr(`creditgate: shutdown failed: ${(error as Error).message}\n`);
          finish(1);
        },
      );
    };
    process.on("SIGHUP", onHangup);
    process.on("SIGINT", onStop);
    process.on("SIGTERM", onStop);
  });
}
