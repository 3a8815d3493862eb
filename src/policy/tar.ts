/**
 * A minimal, bounded reader and writer for the gzipped ustar archives OPA writes as bundles.
 * Bundles come from outside the process, so every size is capped before it is trusted:
 * compressed size, uncompressed size (gzip bombs) and entry count.
 */
import { gunzipSync, gzipSync } from "node:zlib";
import { CreditgateError } from "../errors.js";
import { limits } from "../limits.js";

const blockBytes = 512;

export interface ArchiveLimits {
  readonly compressedBytesMax: number;
  readonly uncompressedBytesMax: number;
  readonly filesMax: number;
}

export const defaultArchiveLimits: ArchiveLimits = {
  compressedBytesMax: limits.bundleSizeBytesMax,
  uncompressedBytesMax: limits.bundleUncompressedBytesMax,
  filesMax: limits.bundleFilesMax,
};

function malformed(message: string): CreditgateError {
  return new CreditgateError("BUNDLE_MALFORMED", { message: `bundle archive: ${message}` });
}

function readString(block: Uint8Array, offset: number, length: number): string {
  const slice = block.subarray(offset, offset + length);
  const end = slice.indexOf(0);
  return Buffer.from(end === -1 ? slice : slice.subarray(0, end)).toString("utf8");
}

function readOctal(block: Uint8Array, offset: number, length: number): number {
  const text = readString(block, offset, length).trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw malformed(`invalid octal field "${text}"`);
  return Number.parseInt(text, 8);
}

function checksumOf(block: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < blockBytes; i++) sum += i >= 148 && i < 156 ? 0x20 : (block[i] as number);
  return sum;
}

/** PAX extended header records: "<len> <key>=<value>\n". Only `path` matters to bundles. */
function parsePax(body: Uint8Array): Map<string, string> {
  const records = new Map<string, string>();
  const text = Buffer.from(body).toString("utf8");
  let at = 0;
  while (at < text.length) {
    const space = text.indexOf(" ", at);
    const length = Number.parseInt(text.slice(at, space), 10);
    if (space === -1 || !Number.isInteger(length) || length <= 0)
      throw malformed("invalid PAX header");
    const record = text.slice(space + 1, at + length - 1);
    const eq = record.indexOf("=");
    if (eq === -1) throw malformed("invalid PAX record");
    records.set(record.slice(0, eq), record.slice(eq + 1));
    at += length;
  }
  return records;
}

/** Normalises an archive path to the form OPA uses in signatures: no leading "/" or "./". */
function normalizeArchivePath(name: string): string {
  const trimmed = name.replace(/^(\.\/|\/)+/, "");
  if (trimmed === "" || trimmed.split("/").some((part) => part === "..")) {
    throw malformed(`unsafe path "${name}"`);
  }
  return trimmed;
}

/** Gunzips and reads every regular file of a bundle archive into memory, within the limits. */
export function readTarGz(
  compressed: Uint8Array,
  caps: ArchiveLimits = defaultArchiveLimits,
): Map<string, Uint8Array> {
  if (compressed.byteLength > caps.compressedBytesMax) {
    throw new CreditgateError("BUNDLE_TOO_LARGE", {
      message: `bundle is ${compressed.byteLength} bytes, limit ${caps.compressedBytesMax}`,
      details: { sizeBytes: compressed.byteLength, limitBytes: caps.compressedBytesMax },
    });
  }
  let tar: Buffer;
  try {
    tar = gunzipSync(compressed, { maxOutputLength: caps.uncompressedBytesMax });
  } catch (cause) {
    if (cause instanceof RangeError) {
      throw new CreditgateError("BUNDLE_TOO_LARGE", {
        message: `bundle expands past ${caps.uncompressedBytesMax} bytes`,
        details: { limitBytes: caps.uncompressedBytesMax },
        cause,
      });
    }
    throw malformed(`not gzip data (${(cause as Error).message})`);
  }

  const files = new Map<string, Uint8Array>();
  let offset = 0;
  let paxPath: string | undefined;
  while (offset + blockBytes <= tar.length) {
    const header = tar.subarray(offset, offset + blockBytes);
    if (header.every((byte) => byte === 0)) break; // end-of-archive marker
    if (readOctal(header, 148, 8) !== checksumOf(header))
      throw malformed("header checksum mismatch");
    const size = readOctal(header, 124, 12);
    const type = String.fromCharCode(header[156] as number);
    const prefix = readString(header, 345, 155);
    const name = prefix ? `${prefix}/${readString(header, 0, 100)}` : readString(header, 0, 100);
    const bodyStart = offset + blockBytes;
    const bodyEnd = bodyStart + size;
    if (bodyEnd > tar.length) throw malformed(`entry "${name}" is truncated`);
    const body = tar.subarray(bodyStart, bodyEnd);
    offset = bodyStart + Math.ceil(size / blockBytes) * blockBytes;

    if (type === "x") {
      paxPath = parsePax(body).get("path");
      continue;
    }
    if (type === "g" || type === "5") continue; // global PAX header, directory
    if (type !== "0" && type !== "\0")
      throw malformed(`entry "${name}" has unsupported type "${type}"`);

    const path = normalizeArchivePath(paxPath ?? name);
    paxPath = undefined;
    if (files.has(path)) throw malformed(`duplicate entry "${path}"`);
    if (files.size >= caps.filesMax) {
      throw new CreditgateError("BUNDLE_TOO_LARGE", {
        message: `bundle has more than ${caps.filesMax} files`,
      });
    }
    files.set(path, new Uint8Array(body));
  }
  return files;
}

function writeField(block: Buffer, offset: number, length: number, value: string): void {
  block.write(value, offset, Math.min(Buffer.byteLength(value), length), "utf8");
}

/**
 * Writes files as a gzipped ustar archive with fixed metadata (mode 0600, time 0), so the
 * same files always give the same bytes. Paths are written with a leading "/", as OPA does.
 */
export function writeTarGz(files: ReadonlyMap<string, Uint8Array>): Buffer {
  const blocks: Buffer[] = [];
  for (const [path, body] of files) {
    const name = `/${normalizeArchivePath(path)}`;
    if (Buffer.byteLength(name) > 100) throw new TypeError(`archive path too long: ${name}`);
    const header = Buffer.alloc(blockBytes);
    writeField(header, 0, 100, name);
    writeField(header, 100, 8, "0000600\0");
    writeField(header, 108, 8, "0000000\0");
    writeField(header, 116, 8, "0000000\0");
    writeField(header, 124, 12, `${body.byteLength.toString(8).padStart(11, "0")}\0`);
    writeField(header, 136, 12, "00000000000\0");
    header[156] = "0".charCodeAt(0);
    writeField(header, 257, 6, "ustar\0");
    writeField(header, 263, 2, "00");
    writeField(header, 148, 8, `${checksumOf(header).toString(8).padStart(6, "0")}\0 `);
    blocks.push(header, Buffer.from(body));
    const padding = (blockBytes - (body.byteLength % blockBytes)) % blockBytes;
    if (padding > 0) blocks.push(Buffer.alloc(padding));
  }
  blocks.push(Buffer.alloc(blockBytes * 2));
  return gzipSync(Buffer.concat(blocks), { level: 9 });
}
