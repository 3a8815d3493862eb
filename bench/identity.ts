/**
 * `npx tsx bench/identity.ts`: cost of one authentication, verified (cache disabled) versus a
 * cache hit, per algorithm, next to bare jose jwtVerify as the baseline. Prints µs per call
 * (mean and p99 of per-call timings after warm-up) on this machine; no file is written.
 */
import { createHash } from "node:crypto";
import { createLocalJWKSet, jwtVerify } from "jose";
import { ManualClock } from "../src/clock.js";
import {
  createIdentityVerifier,
  type IssuerConfig,
  type PublicJwk,
} from "../src/identity/index.js";
import {
  claimsFor,
  headerFor,
  issuerConfig,
  makeKey,
  signRaw,
  type TestAlg,
} from "../test/identity/fixtures.js";

const iterations = Number(process.env.BENCH_ITERATIONS ?? 5_000);
const clock = new ManualClock(Date.UTC(2026, 10, 24, 12));

async function measure(run: () => Promise<unknown>): Promise<{ meanUs: number; p99Us: number }> {
  for (let i = 0; i < Math.min(500, iterations); i++) await run();
  const samples = new Float64Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const start = process.hrtime.bigint();
    await run();
    samples[i] = Number(process.hrtime.bigint() - start) / 1_000;
  }
  samples.sort();
  const mean = samples.reduce((a, b) => a + b, 0) / iterations;
  return { meanUs: mean, p99Us: samples[Math.floor(iterations * 0.99)] ?? Number.NaN };
}

const rows: string[] = [];
for (const alg of ["EdDSA", "ES256", "RS256"] as TestAlg[]) {
  const key = makeKey(alg);
  const config: IssuerConfig = issuerConfig([key]);
  const token = signRaw(key, headerFor(key), claimsFor(config, clock));
  const uncached = await createIdentityVerifier({ issuers: [config], clock, cacheEntriesMax: 0 });
  const cached = await createIdentityVerifier({ issuers: [config], clock });
  const jwks = createLocalJWKSet({ keys: [key.publicJwk as PublicJwk] } as Parameters<
    typeof createLocalJWKSet
  >[0]);
  const now = new Date(clock.nowMs());
  const baseline = await measure(() =>
    jwtVerify(token, jwks, {
      algorithms: [alg],
      issuer: config.issuer,
      audience: "creditgate",
      currentDate: now,
    }),
  );
  const verified = await measure(() => uncached.authenticate(token));
  const hit = await measure(() => cached.authenticate(token));
  const hash = await measure(async () => createHash("sha256").update(token).digest("hex"));
  const fmt = (m: { meanUs: number; p99Us: number }) =>
    `${m.meanUs.toFixed(1)} / ${m.p99Us.toFixed(1)}`;
  rows.push(`| ${alg} | ${fmt(baseline)} | ${fmt(verified)} | ${fmt(hit)} | ${fmt(hash)} |`);
}
console.log(`identity bench, ${iterations} calls per cell, µs per call (mean / p99)\n`);
console.log(
  "| alg | bare jose jwtVerify | authenticate, no cache | authenticate, cache hit | sha-256 of token |",
);
console.log("|---|---:|---:|---:|---:|");
for (const row of rows) console.log(row);
