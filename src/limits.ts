/**
 * Every bound creditgate enforces, in one place, units last. Each boundary (HTTP body, bundle
 * reader, token verifier, batch APIs) reads its limit from here; the assertions at the bottom
 * keep related limits consistent and run at import time.
 */
import assert from "node:assert/strict";

const KiB = 1024;
const MiB = 1024 * KiB;

export const limits = {
  /** A compressed bundle file as read from disk. */
  bundleSizeBytesMax: 16 * MiB,
  /** All files of a bundle after gunzip: caps gzip bombs. */
  bundleUncompressedBytesMax: 64 * MiB,
  /** Number of entries in a bundle archive. */
  bundleFilesMax: 1024,
  /** Wasm linear memory pages (64 KiB each) one policy instance may grow to. */
  policyMemoryPagesInitial: 8,
  policyMemoryPagesMax: 1024,
  /** One policy data YAML file. */
  policyDataFileBytesMax: 4 * MiB,
  /** Serialised decision input handed to the policy. */
  decisionInputBytesMax: 64 * KiB,
  /** Time an `opa` child process may run during build or test. */
  opaCommandTimeoutMs: 300_000,
  /** Largest credit amount in any single operation: keeps sums far from 2^53. */
  creditAmountMax: 1_000_000_000_000,
} as const;

assert.ok(limits.bundleUncompressedBytesMax >= limits.bundleSizeBytesMax);
assert.ok(limits.policyMemoryPagesMax >= limits.policyMemoryPagesInitial);
assert.ok(limits.creditAmountMax * 8192 < Number.MAX_SAFE_INTEGER, "sums of amounts stay exact");
