/**
 * Connections cannot be held open: real sockets against a listening service on loopback, with
 * small configured timeouts. A client that never finishes its headers, dribbles its body or
 * goes silent mid-request is cut (408 in the error envelope where an answer can still be sent);
 * connections over the cap are closed as they are accepted; /metrics counts every cut.
 */
import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { ServerConfig } from "../../src/config/types.js";
import { startTestService, type TestService } from "../helpers/service.js";

const services: TestService[] = [];
afterEach(async () => {
  for (const svc of services.splice(0)) await svc.close();
});

async function start(server: Partial<ServerConfig>): Promise<TestService> {
  const svc = await startTestService({
    configure: (config) => ({ ...config, server: { ...config.server, ...server } }),
  });
  services.push(svc);
  return svc;
}

interface Client {
  readonly socket: Socket;
  /** Everything the server sent so far. */
  readonly received: () => string;
  /** Resolves when the socket closes, with the milliseconds since it connected. */
  readonly closed: Promise<number>;
  /** Writes `chunk` every `everyMs` until the socket closes, at most `times` times. */
  dribble(chunk: string, everyMs: number, times: number): void;
}

async function open(url: string): Promise<Client> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  let text = "";
  socket.setEncoding("utf8").on("data", (chunk: string) => {
    text += chunk;
  });
  // A reset after the server's answer is a close too; what arrived is in `received`.
  socket.on("error", () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  const connectedAt = Date.now();
  const closed = new Promise<number>((resolve) => {
    socket.once("close", () => resolve(Date.now() - connectedAt));
  });
  let timer: NodeJS.Timeout | undefined;
  void closed.then(() => clearInterval(timer));
  return {
    socket,
    received: () => text,
    closed,
    dribble(chunk, everyMs, times) {
      let left = times;
      timer = setInterval(() => {
        if (left-- <= 0 || !socket.writable) clearInterval(timer);
        else socket.write(chunk);
      }, everyMs);
    },
  };
}

/** The first response on a connection: status line and the JSON body. */
function parse(raw: string): { status: number; body: unknown } {
  const [head = "", body = ""] = raw.split("\r\n\r\n", 2);
  return { status: Number(head.split(" ")[1]), body: JSON.parse(body) };
}

/** Waits for one complete response (Content-Length framed) on a kept-alive connection. */
async function untilAnswered(client: Client, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!/\r\n\r\n\{.*\}$/s.test(client.received())) {
    if (Date.now() > deadline) throw new Error(`no answer: ${JSON.stringify(client.received())}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** creditgate_connections_cut_total by reason, read from /metrics on a connection of its own. */
async function cutsCounted(svc: TestService): Promise<Record<string, number>> {
  // Right after a capped connection closes the server may not have seen it yet: retry a little.
  for (let attempt = 0; ; attempt++) {
    const client = await open(svc.url);
    client.socket.write("GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    await client.closed;
    const text = client.received();
    if (text === "" && attempt < 20) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      continue;
    }
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    const counts: Record<string, number> = {};
    for (const match of text.matchAll(
      /^creditgate_connections_cut_total\{reason="(\w+)"\} (\d+)$/gm,
    )) {
      counts[match[1] as string] = Number(match[2]);
    }
    return counts;
  }
}

const timedOut = {
  error: {
    code: "REQUEST_TIMEOUT",
    message: "the request did not arrive in time; the connection is closed",
    details: {},
  },
};

describe("request timeouts", () => {
  it("cuts a client that never finishes its headers, or sends nothing, after headers_timeout_ms", async () => {
    const svc = await start({ headers_timeout_ms: 300, request_timeout_ms: 3_000 });
    const slow = await open(svc.url);
    slow.socket.write("GET /healthz HTTP/1.1\r\nHost: localhost\r\n");
    slow.dribble("X-Slow: 1\r\n", 50, 200);
    const silent = await open(svc.url);

    for (const client of [slow, silent]) {
      const elapsed = await client.closed;
      expect(elapsed).toBeGreaterThanOrEqual(290);
      // Well before the request timeout: the headers timeout cut it.
      expect(elapsed).toBeLessThan(3_000);
      expect(parse(client.received())).toEqual({ status: 408, body: timedOut });
      expect(client.received()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    }
    expect(await cutsCounted(svc)).toMatchObject({ headers_timeout: 2 });
  });

  it("cuts a client that dribbles its body after request_timeout_ms, answering 408", async () => {
    const svc = await start({ headers_timeout_ms: 200, request_timeout_ms: 800 });
    const token = await svc.userToken();
    const client = await open(svc.url);
    client.socket.write(
      [
        "POST /v1/decisions HTTP/1.1",
        "Host: localhost",
        `Authorization: Bearer ${token}`,
        "Idempotency-Key: slow-body",
        "Content-Type: application/json",
        "Content-Length: 1000",
        "",
        "{",
      ].join("\r\n"),
    );
    // A byte every 50 ms keeps any idle timer from firing; only the request timeout ends it.
    client.dribble(" ", 50, 400);

    const elapsed = await client.closed;
    expect(elapsed).toBeGreaterThanOrEqual(790);
    expect(elapsed).toBeLessThan(5_000);
    // The answer usually arrives; a reset may beat it, but then the socket is closed all the same.
    if (client.received() !== "") {
      expect(parse(client.received())).toEqual({ status: 408, body: timedOut });
    }
    expect(await cutsCounted(svc)).toMatchObject({ request_timeout: 1 });
    // Nothing reached the ledger.
    expect(await svc.service.store.queryAudit({ kind: "decision", limit: 10 })).toMatchObject({
      records: [],
    });
  });

  it("cuts a connection that goes silent mid-request after idle_timeout_ms, without an answer", async () => {
    const svc = await start({
      headers_timeout_ms: 5_000,
      request_timeout_ms: 10_000,
      idle_timeout_ms: 300,
      keep_alive_timeout_ms: 300,
    });
    const token = await svc.userToken();
    const client = await open(svc.url);
    // Authenticated, so the request waits for its body (a missing token is answered at once).
    client.socket.write(
      [
        "POST /v1/decisions HTTP/1.1",
        "Host: localhost",
        `Authorization: Bearer ${token}`,
        "Idempotency-Key: silent",
        "Content-Type: application/json",
        "Content-Length: 100",
        "",
        "{",
      ].join("\r\n"),
    );
    const elapsed = await client.closed;
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(5_000);
    expect(client.received()).toBe("");
    expect(await cutsCounted(svc)).toMatchObject({ idle_timeout: 1 });
  });

  it("keeps serving a kept-alive connection within its timeouts and closes it idle, uncounted", async () => {
    const svc = await start({
      headers_timeout_ms: 200,
      request_timeout_ms: 400,
      keep_alive_timeout_ms: 100,
    });
    const client = await open(svc.url);
    client.socket.write("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n");
    await untilAnswered(client);
    expect(parse(client.received()).status).toBe(200);
    // Node adds a second to the keep-alive timeout.
    expect(await client.closed).toBeLessThan(4_000);
    expect(await cutsCounted(svc)).toEqual({});
  });

  it("answers headers too large with 431 and bytes that are not HTTP with 400, in the envelope", async () => {
    const svc = await start({});
    const large = await open(svc.url);
    large.socket.write(
      `GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`,
    );
    await large.closed;
    expect(parse(large.received())).toMatchObject({
      status: 431,
      body: { error: { code: "REQUEST_HEADERS_TOO_LARGE" } },
    });

    const garbage = await open(svc.url);
    garbage.socket.write("NOT HTTP AT ALL\r\n\r\n");
    await garbage.closed;
    expect(parse(garbage.received())).toMatchObject({
      status: 400,
      body: { error: { code: "REQUEST_NOT_HTTP" } },
    });
  });
});

describe("connections_max", () => {
  it("closes connections over the cap as they are accepted, while the capped ones are served", async () => {
    const svc = await start({ connections_max: 3 });
    const capped: Client[] = [];
    for (let i = 0; i < 3; i++) {
      const client = await open(svc.url);
      client.socket.write("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n");
      await untilAnswered(client);
      capped.push(client);
    }

    const over = [await open(svc.url), await open(svc.url)];
    for (const client of over) {
      client.socket.write("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n");
      expect(await client.closed).toBeLessThan(2_000);
      expect(client.received()).toBe("");
    }
    // The capped connections are still open and still answer.
    const first = capped[0] as Client;
    first.socket.write("GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    await first.closed;
    expect(first.received().match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2);

    // With a slot free again a new connection is served (this one asks for the metrics).
    expect(await cutsCounted(svc)).toMatchObject({ connections_max: 2 });
    for (const client of capped) client.socket.destroy();
  });
});
