/**
 * A real listening node:http server that plays the creditgate HTTP peer from a script: each
 * request takes the next scripted reply (the last one repeats) and is recorded, so tests can
 * assert what the client sent on every attempt.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface Reply {
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** A string is sent verbatim; anything else as JSON. */
  readonly body?: unknown;
  /** Wait this long before answering. */
  readonly delayMs?: number;
  /** Never answer (the client must time out or abort). */
  readonly hang?: boolean;
  /** Drop the connection without an answer. */
  readonly destroy?: boolean;
}

export interface FakeServer {
  readonly url: string;
  readonly seen: SeenRequest[];
  script(...replies: Reply[]): void;
  close(): Promise<void>;
}

export function errorReply(
  status: number,
  code: string,
  details: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Reply {
  return { status, headers, body: { error: { code, message: `${code} (fake)`, details } } };
}

export async function startFakeServer(): Promise<FakeServer> {
  let replies: Reply[] = [{ status: 500, body: "no script" }];
  let next = 0;
  const seen: SeenRequest[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      seen.push({
        method: request.method ?? "",
        url: request.url ?? "",
        headers: request.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      });
      const reply = replies[Math.min(next, replies.length - 1)] as Reply;
      next += 1;
      if (reply.hang === true) return;
      if (reply.destroy === true) {
        request.socket.destroy();
        return;
      }
      const answer = (): void => {
        const text = typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body ?? {});
        response.writeHead(reply.status ?? 200, {
          "content-type": "application/json",
          ...reply.headers,
        });
        response.end(text);
      };
      if (reply.delayMs === undefined) answer();
      else setTimeout(answer, reply.delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    script(...list: Reply[]) {
      replies = list;
      next = 0;
      seen.length = 0;
    },
    close() {
      // Hanging replies and keep-alive sockets would keep close() waiting forever.
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
