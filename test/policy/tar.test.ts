import { gunzipSync, gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { isCreditgateError } from "../../src/errors.js";
import { readTarGz, writeTarGz } from "../../src/policy/tar.js";
import { committedBundleFiles, utf8 } from "../helpers/bundles.js";

const caps = { compressedBytesMax: 1 << 20, uncompressedBytesMax: 1 << 20, filesMax: 8 };

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (isCreditgateError(error)) return error.code;
    throw error;
  }
  return undefined;
}

describe("bundle archives", () => {
  it("round-trips files byte for byte, deterministically", () => {
    const files = new Map([
      ["data.json", utf8('{"a":1}')],
      ["dir/policy.rego", utf8("package x\n")],
      ["empty", new Uint8Array(0)],
      ["block", new Uint8Array(512).fill(7)],
    ]);
    const packed = writeTarGz(files);
    expect(readTarGz(packed)).toEqual(files);
    expect(writeTarGz(files).equals(packed)).toBe(true);
  });

  it("reads the archives opa build writes", async () => {
    const files = await committedBundleFiles();
    expect([...files.keys()]).toEqual(
      expect.arrayContaining([".manifest", "data.json", "policy.wasm", ".signatures.json"]),
    );
  });

  it("refuses a compressed archive over its limit before inflating it", () => {
    const big = writeTarGz(
      new Map([["x", new Uint8Array(4096).map(() => Math.floor(Math.random() * 256))]]),
    );
    expect(code(() => readTarGz(big, { ...caps, compressedBytesMax: 1024 }))).toBe(
      "BUNDLE_TOO_LARGE",
    );
  });

  it("stops a gzip bomb at the uncompressed limit", () => {
    const bomb = writeTarGz(new Map([["zeros", new Uint8Array(8 << 20)]]));
    expect(bomb.byteLength).toBeLessThan(64 << 10);
    expect(code(() => readTarGz(bomb, caps))).toBe("BUNDLE_TOO_LARGE");
  });

  it("refuses more entries than the limit", () => {
    const many = new Map(Array.from({ length: 9 }, (_, i) => [`f${i}`, utf8("x")] as const));
    expect(code(() => readTarGz(writeTarGz(many), caps))).toBe("BUNDLE_TOO_LARGE");
  });

  it("refuses data that is not gzip, a corrupted header, and path traversal", () => {
    expect(code(() => readTarGz(utf8("not a bundle"), caps))).toBe("BUNDLE_MALFORMED");
    const tar = Buffer.from(readRawTar(writeTarGz(new Map([["a", utf8("x")]]))));
    tar[0] = "b".charCodeAt(0); // name changes, checksum no longer matches
    expect(code(() => readTarGz(gzipSync(tar), caps))).toBe("BUNDLE_MALFORMED");
    const traversal = Buffer.from(readRawTar(writeTarGz(new Map([["a", utf8("x")]]))));
    rewriteName(traversal, "/../etc/passwd");
    expect(code(() => readTarGz(gzipSync(traversal), caps))).toBe("BUNDLE_MALFORMED");
  });
});

function readRawTar(gz: Buffer): Buffer {
  return gunzipSync(gz);
}

/** Rewrites the first header's name and fixes its checksum, as a hostile packer would. */
function rewriteName(tar: Buffer, name: string): void {
  tar.fill(0, 0, 100);
  tar.write(name, 0, "utf8");
  tar.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += tar[i] as number;
  tar.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "utf8");
}
