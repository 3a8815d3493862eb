/**
 * Connections that would hold the server open. Node's own timeouts and connection cap do the
 * cutting (configured in buildApp); this module answers a timed-out request in the error
 * envelope where an answer can still be sent, counts every cut in
 * creditgate_connections_cut_total, and lets shutdown cut what is left once its grace runs out.
 */
import { type Server, type ServerResponse, STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { ServerConfig } from "../config/types.js";
import { type ErrorCode, errorSpecs } from "../errors.js";
import { limits } from "../limits.js";
import type { Counter } from "../metrics/registry.js";
import type { ErrorEnvelope } from "./plugins/errors.js";

export type CutReason =
  | "headers_timeout"
  | "request_timeout"
  | "idle_timeout"
  | "connections_max"
  | "shutdown";

export interface ConnectionGuard {
  /** fastify's clientErrorHandler: timeouts and unparseable requests, before any route. */
  readonly onClientError: (error: NodeJS.ErrnoException, socket: Socket) => void;
  /** Caps the server's connections and listens for requests, connections and idle sockets. */
  attach(server: Server, connectionsMax: number): void;
  /** Requests whose headers arrived and whose answer has not been sent in full. */
  readonly requestsInFlight: number;
  /** Destroys every open connection; returns how many requests were in flight on them. */
  cutAll(): number;
}

/**
 * How often Node looks for requests past their timeouts (its default is 30 s, which would let
 * a 1 s timeout run 31 s): a quarter of the shorter timeout, within the limits.
 */
export function connectionsCheckIntervalMs(
  config: Pick<ServerConfig, "headers_timeout_ms" | "request_timeout_ms">,
): number {
  const shorter = Math.min(config.headers_timeout_ms, config.request_timeout_ms);
  return Math.min(
    limits.connectionsCheckIntervalMsMax,
    Math.max(limits.connectionsCheckIntervalMsMin, Math.floor(shorter / 4)),
  );
}

/** A complete response written straight to the socket: there is no ServerResponse for it. */
function rawAnswer(code: ErrorCode): string {
  const spec = errorSpecs[code];
  const envelope: ErrorEnvelope = { error: { code, message: spec.message, details: {} } };
  const body = JSON.stringify(envelope);
  return [
    `HTTP/1.1 ${spec.status} ${STATUS_CODES[spec.status] ?? ""}`,
    "connection: close",
    "content-type: application/json; charset=utf-8",
    `content-length: ${Buffer.byteLength(body)}`,
    "",
    body,
  ].join("\r\n");
}

export function createConnectionGuard(cuts: Counter): ConnectionGuard {
  const sockets = new Set<Socket>();
  const inFlight = new Map<ServerResponse, Socket>();
  const responsesOn = (socket: Socket): ServerResponse[] =>
    [...inFlight].filter(([, s]) => s === socket).map(([response]) => response);

  const cut = (socket: Socket, reason: CutReason, answer?: ErrorCode): void => {
    cuts.inc({ reason });
    // An answer already under way cannot be replaced; the closed socket is all the client gets.
    if (
      answer !== undefined &&
      socket.writable &&
      !responsesOn(socket).some((r) => r.headersSent)
    ) {
      socket.write(rawAnswer(answer));
    }
    socket.destroy();
  };

  return {
    onClientError(error, socket) {
      if (error.code === "ECONNRESET" || socket.destroyed) return;
      if (error.code === "ERR_HTTP_REQUEST_TIMEOUT") {
        // Node reports both timeouts alike; a request is in flight once its headers are in.
        const reason = responsesOn(socket).length > 0 ? "request_timeout" : "headers_timeout";
        cut(socket, reason, "REQUEST_TIMEOUT");
        return;
      }
      if (socket.writable && responsesOn(socket).length === 0) {
        socket.write(
          rawAnswer(
            error.code === "HPE_HEADER_OVERFLOW" ? "REQUEST_HEADERS_TOO_LARGE" : "REQUEST_NOT_HTTP",
          ),
        );
      }
      socket.destroy();
    },

    attach(server, connectionsMax) {
      // Refused at accept, before anything is read: cheaper than parsing a request to 503 it.
      server.maxConnections = connectionsMax;
      server.on("connection", (socket: Socket) => {
        sockets.add(socket);
        socket.once("close", () => sockets.delete(socket));
      });
      server.on("request", (request: { socket: Socket }, response: ServerResponse) => {
        inFlight.set(response, request.socket);
        response.once("close", () => inFlight.delete(response));
      });
      server.on("drop", () => cuts.inc({ reason: "connections_max" }));
      // With a listener here Node no longer destroys timed-out sockets itself.
      server.on("timeout", (socket: Socket) => {
        // Without a request in flight it is a kept-alive connection reaching its timeout: a
        // normal close, not a cut.
        if (responsesOn(socket).length > 0) cut(socket, "idle_timeout");
        else socket.destroy();
      });
    },

    get requestsInFlight() {
      return inFlight.size;
    },

    cutAll() {
      const requests = inFlight.size;
      for (const socket of sockets) cut(socket, "shutdown");
      return requests;
    },
  };
}
