/**
 * A token bucket per client address, checked before authentication so a flood of bad tokens
 * costs neither a signature check nor an audit write. `requests_per_second: 0` turns it off.
 * The table of clients is bounded: the least recently seen client is forgotten first.
 */
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { type Clock, systemClock } from "../../clock.js";
import { CreditgateError } from "../../errors.js";
import { limits } from "../../limits.js";

export interface RateLimitOptions {
  readonly requestsPerSecond: number;
  readonly burst: number;
  readonly clock?: Clock;
  /** Paths that are never limited (probes and metrics scrapes). */
  readonly exempt?: readonly string[];
}

interface Bucket {
  tokens: number;
  refilledMs: number;
}

export const rateLimitPlugin = fp<RateLimitOptions>(
  async (app: FastifyInstance, options) => {
    if (options.requestsPerSecond <= 0) return;
    const clock = options.clock ?? systemClock;
    const capacity = Math.max(options.burst, 1);
    const exempt = new Set(options.exempt ?? []);
    const buckets = new Map<string, Bucket>();

    app.addHook("onRequest", async (request, reply) => {
      if (exempt.has(request.url.split("?")[0] as string)) return;
      const nowMs = clock.nowMs();
      let bucket = buckets.get(request.ip);
      if (bucket === undefined) {
        if (buckets.size >= limits.rateLimitClientsMax) {
          const oldest = buckets.keys().next().value as string;
          buckets.delete(oldest);
        }
        bucket = { tokens: capacity, refilledMs: nowMs };
      } else {
        // Re-insert so Map order stays least-recently-seen first.
        buckets.delete(request.ip);
        const refill = ((nowMs - bucket.refilledMs) / 1000) * options.requestsPerSecond;
        bucket.tokens = Math.min(capacity, bucket.tokens + refill);
        bucket.refilledMs = nowMs;
      }
      buckets.set(request.ip, bucket);
      if (bucket.tokens < 1) {
        const waitSeconds = Math.ceil((1 - bucket.tokens) / options.requestsPerSecond);
        reply.header("retry-after", String(Math.max(1, waitSeconds)));
        throw new CreditgateError("RATE_LIMITED");
      }
      bucket.tokens -= 1;
    });
  },
  { name: "creditgate-rate-limit" },
);
