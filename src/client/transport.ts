/**
 * One logical call: attempts with a per-attempt timeout, retries with backoff and jitter for
 * failures that may pass, and a stable error for everything else. The idempotency key is fixed
 * by the caller of `send` before the first attempt, so every retry carries the same key.
 */
import { type ErrorSpec, errorSpecs } from "../errors.js";
import { CreditgateClientError } from "./errors.js";
import { badResponseExcerptCharsMax, maxRetryDelayMs } from "./limits.js";
import type { RetryInfo, TokenSource } from "./types.js";

export interface TransportConfig {
  /** Without a trailing slash; paths are appended to it. */
  readonly baseUrl: string;
  readonly token: TokenSource | undefined;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly retryBaseDelayMs: number;
  readonly maxRetryAfterMs: number;
  readonly fetch: typeof fetch;
  readonly onRetry: ((info: RetryInfo) => void) | undefined;
}

export interface CallSpec<T> {
  readonly method: "GET" | "POST";
  /** Already percent-encoded. */
  readonly path: string;
  readonly query?: URLSearchParams;
  readonly body?: unknown;
  readonly idempotencyKey?: string | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Overrides the client's retries (probes use 0). */
  readonly retries?: number;
  /** Shape check of a success body: the fields the caller relies on. */
  readonly accept: (body: unknown) => body is T;
  /** A non-2xx answer that is still an answer (readyz's 503 carries a health body). */
  readonly acceptStatus?: readonly number[];
}

/** Statuses that mean "try again" even when the body is not ours (proxies, load balancers). */
const transientStatuses: ReadonlySet<number> = new Set([429, 502, 503, 504]);

export async function send<T>(config: TransportConfig, spec: CallSpec<T>): Promise<T> {
  const retries = spec.retries ?? config.retries;
  if (spec.signal?.aborted) throw aborted(spec.signal, 0);
  for (let attempt = 1; ; attempt += 1) {
    let failure: CreditgateClientError;
    try {
      return await attemptOnce(config, spec, attempt);
    } catch (error) {
      // A throwing token function or fetch option is the caller's error; pass it through.
      if (!(error instanceof CreditgateClientError)) throw error;
      failure = error;
    }
    if (!failure.retryable || attempt > retries) throw failure;
    if (failure.retryAfterMs !== undefined && failure.retryAfterMs > config.maxRetryAfterMs) {
      throw failure;
    }
    const delayMs = retryDelayMs(attempt, config.retryBaseDelayMs, failure.retryAfterMs);
    config.onRetry?.({ attempt, delayMs, error: failure, method: spec.method, path: spec.path });
    await sleep(delayMs, spec.signal, attempt);
  }
}

/** Exponential backoff with equal jitter (half fixed, half random), at least the retry-after. */
function retryDelayMs(
  attempt: number,
  baseDelayMs: number,
  retryAfterMs: number | undefined,
): number {
  const backoff = Math.min(maxRetryDelayMs, baseDelayMs * 2 ** (attempt - 1));
  const jittered = backoff / 2 + Math.random() * (backoff / 2);
  return Math.round(Math.max(jittered, retryAfterMs ?? 0));
}

/** retry-after as delay-seconds (decimals tolerated) or an HTTP date; undefined if neither. */
function parseRetryAfterMs(value: string | null, nowMs = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

async function attemptOnce<T>(
  config: TransportConfig,
  spec: CallSpec<T>,
  attempt: number,
): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  const token = typeof config.token === "function" ? await config.token() : config.token;
  if (token !== undefined && token !== "") headers.authorization = `Bearer ${token}`;
  if (spec.idempotencyKey !== undefined) headers["idempotency-key"] = spec.idempotencyKey;
  let body: string | undefined;
  if (spec.body !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(spec.body);
  }
  const query = spec.query?.toString() ?? "";
  const url = `${config.baseUrl}${spec.path}${query === "" ? "" : `?${query}`}`;

  // One controller per attempt: the timeout covers reading the body too, and the caller's
  // signal is forwarded so an abort stops the request in flight.
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, config.timeoutMs);
  const caller = spec.signal;
  const onAbort = (): void => controller.abort(caller?.reason);
  caller?.addEventListener("abort", onAbort, { once: true });
  const fail = (error: unknown): CreditgateClientError => {
    if (caller?.aborted) return aborted(caller, attempt);
    if (timedOut) {
      return new CreditgateClientError({
        code: "CLIENT_TIMEOUT",
        message: `${spec.method} ${spec.path} did not complete within ${config.timeoutMs} ms`,
        details: { timeout_ms: config.timeoutMs },
        retryable: true,
        attempts: attempt,
        cause: error,
      });
    }
    return new CreditgateClientError({
      code: "CLIENT_NETWORK",
      message: `${spec.method} ${spec.path} failed: ${error instanceof Error ? error.message : String(error)}`,
      retryable: true,
      attempts: attempt,
      cause: error,
    });
  };

  try {
    let response: Response;
    let text: string;
    try {
      response = await config.fetch(url, {
        method: spec.method,
        headers,
        ...(body === undefined ? {} : { body }),
        signal: controller.signal,
      });
      text = await response.text();
    } catch (error) {
      throw fail(error);
    }
    return interpret(spec, response, text, attempt);
  } finally {
    clearTimeout(timer);
    caller?.removeEventListener("abort", onAbort);
  }
}

function interpret<T>(spec: CallSpec<T>, response: Response, text: string, attempt: number): T {
  const status = response.status;
  const parsed = parseJson(text);
  const success = status >= 200 && status < 300;
  const answered = success || spec.acceptStatus?.includes(status) === true;
  if (answered && parsed.ok && spec.accept(parsed.value)) return parsed.value;

  if (!success && parsed.ok && isErrorEnvelope(parsed.value)) {
    const { code, message, details } = parsed.value.error;
    const known: ErrorSpec | undefined = Object.hasOwn(errorSpecs, code)
      ? (errorSpecs as Record<string, ErrorSpec>)[code]
      : undefined;
    return throwing(
      new CreditgateClientError({
        code,
        message,
        status,
        details,
        // An unknown code (a newer server) falls back on what its status says.
        retryable: known?.retryable ?? transientStatuses.has(status),
        attempts: attempt,
        retryAfterMs: parseRetryAfterMs(response.headers.get("retry-after")),
      }),
    );
  }

  // Not our body: a garbled success is not retried (the server did answer; the same request
  // would get the same bytes), a proxy's transient error page is.
  const reason = !parsed.ok
    ? "body is not JSON"
    : success
      ? "body does not match the expected response"
      : "error body is not an error envelope";
  return throwing(
    new CreditgateClientError({
      code: "CLIENT_BAD_RESPONSE",
      message: `${spec.method} ${spec.path} answered ${status}: ${reason}`,
      status,
      details: { reason, body: text.slice(0, badResponseExcerptCharsMax) },
      retryable: !success && transientStatuses.has(status),
      attempts: attempt,
      retryAfterMs: parseRetryAfterMs(response.headers.get("retry-after")),
    }),
  );
}

function throwing(error: CreditgateClientError): never {
  throw error;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

function isErrorEnvelope(value: unknown): value is {
  error: { code: string; message: string; details: Readonly<Record<string, unknown>> };
} {
  if (!isObject(value) || !isObject(value.error)) return false;
  const { code, message, details } = value.error;
  return typeof code === "string" && typeof message === "string" && isObject(details);
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function aborted(signal: AbortSignal, attempts: number): CreditgateClientError {
  return new CreditgateClientError({
    code: "CLIENT_ABORTED",
    message: "the call was aborted by the caller",
    retryable: false,
    attempts,
    cause: signal.reason,
  });
}

/** Sleeps between attempts; the caller's abort ends the sleep and the call. */
function sleep(ms: number, signal: AbortSignal | undefined, attempts: number): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(aborted(signal, attempts));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(aborted(signal as AbortSignal, attempts));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
