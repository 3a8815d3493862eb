/**
 * The pseudonym key on disk: 32 random bytes as hex in one file (mode 0600), created on first
 * start. Instances on one PostgreSQL share it like `tasks.keys_file`; it must never change while
 * the data it keyed is in use (counters would restart, retries of earlier decisions would conflict).
 */
import { randomBytes } from "node:crypto";
import { link, mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { CreditgateError } from "../errors.js";
import { Pseudonyms, pseudonymKeyBytes } from "./pseudonym.js";

function invalid(path: string, problem: string, cause?: unknown): CreditgateError {
  return new CreditgateError("CONFIG_INVALID", {
    message: `audit.pseudonym_key_file ${path}: ${problem}`,
    ...(cause === undefined ? {} : { cause }),
  });
}

function parse(path: string, text: string): Pseudonyms {
  const hex = text.trim();
  if (!new RegExp(`^[0-9a-f]{${pseudonymKeyBytes * 2}}$`).test(hex)) {
    throw invalid(path, `must hold ${pseudonymKeyBytes} bytes as lowercase hex`);
  }
  return new Pseudonyms(Buffer.from(hex, "hex"));
}

async function read(path: string): Promise<string | null> {
  try {
    return await readFile(path, "utf8");
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw invalid(path, `cannot be read: ${(cause as Error).message}`, cause);
  }
}

/**
 * Reads the key, creating it when missing: written whole to a temporary file, then linked into
 * place, which fails if the file exists, so of two instances starting together one key wins and
 * nobody reads a half-written file.
 */
export async function loadPseudonymKey(path: string): Promise<Pseudonyms> {
  const existing = await read(path);
  if (existing !== null) return parse(path, existing);
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(temporary, `${randomBytes(pseudonymKeyBytes).toString("hex")}\n`, {
      mode: 0o600,
      flag: "wx",
    });
    await link(temporary, path);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code !== "EEXIST") {
      throw invalid(path, `cannot be created: ${(cause as Error).message}`, cause);
    }
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
  const created = await read(path);
  if (created === null) throw invalid(path, "vanished after it was created");
  return parse(path, created);
}
