/**
 * What the ledger commands share: `--config`, strict parsing of integers, times and lists (a
 * malformed value is a UsageError, exit 2, before anything is opened), and running a command
 * against the configured store, closed when done.
 */
import { loadConfig } from "../config/load.js";
import type { Config } from "../config/types.js";
import type { LedgerStore } from "../ledger/port.js";
import { limits } from "../limits.js";
import { openStore } from "../storage/open.js";
import { type CliIO, UsageError } from "./io.js";

export const configOption = { config: { type: "string" } } as const;

export const configHelp = `  --config FILE                configuration (default $CREDITGATE_CONFIG, else built-in defaults:
                               SQLite at ./data/creditgate.db)`;

/** --config FILE, else $CREDITGATE_CONFIG, else the defaults; relative to the command's cwd. */
export function loadCliConfig(io: CliIO, file: string | undefined): Promise<Config> {
  return loadConfig({ ...(file !== undefined ? { file } : {}), env: io.env, cwd: io.cwd });
}

export async function withStore<T>(
  config: Config,
  body: (store: LedgerStore) => Promise<T>,
): Promise<T> {
  const store = await openStore(config);
  try {
    return await body(store);
  } finally {
    await store.close();
  }
}

export function required(value: string | undefined, flag: string): string {
  if (value === undefined) throw new UsageError(`--${flag} is required`);
  return value;
}

/** A tenant, idempotency key, source: non-empty, at most limits.ledgerKeyCharsMax characters. */
export function identifier(value: string, flag: string): string {
  if (value.length === 0 || value.length > limits.ledgerKeyCharsMax) {
    throw new UsageError(
      `--${flag} must be 1 to ${limits.ledgerKeyCharsMax} characters, got ${value.length}`,
    );
  }
  return value;
}

/** A base-10 integer, digits only (no "1.5", "1e3", "0x10", ""), within [min, max]. */
export function integer(value: string, flag: string, min: number, max: number): number {
  const n = /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n))
    throw new UsageError(`--${flag} must be an integer, got "${value}"`);
  if (n < min || n > max) {
    throw new UsageError(`--${flag} must be between ${min} and ${max}, got ${n}`);
  }
  return n;
}

const rfc3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|([+-])(\d{2}):(\d{2}))$/;

/** An RFC 3339 date-time with an offset (2026-01-31T12:00:00Z), as epoch milliseconds. */
export function time(value: string, flag: string): number {
  const m = rfc3339.exec(value);
  const bad = () =>
    new UsageError(`--${flag} must be an RFC 3339 time like 2026-01-31T12:00:00Z, got "${value}"`);
  if (m === null) throw bad();
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const daysInMonth = month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth) throw bad();
  if (hour > 23 || minute > 59 || second > 59) throw bad();
  if (m[9] !== undefined && (Number(m[10]) > 23 || Number(m[11]) > 59)) throw bad();
  const ms = Date.parse(value.toUpperCase());
  if (!Number.isFinite(ms)) throw bad();
  return ms;
}

/** "a,b" → ["a", "b"]; blanks dropped. */
export function list(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
