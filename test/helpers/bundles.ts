/** Building, unpacking and repacking bundles for tests; every bundle here is real OPA output. */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { devPublicKeyPath, devSigningKeyPath } from "../../src/cli/policy.js";
import { packageRoot } from "../../src/paths.js";
import { loadSigningKey, loadVerificationKey } from "../../src/policy/keys.js";
import { signaturesFile, signBundleFiles } from "../../src/policy/signature.js";
import { readTarGz, writeTarGz } from "../../src/policy/tar.js";
import { runTool } from "../../src/policy/toolchain.js";

export { devPublicKeyPath, devSigningKeyPath };

export const committedBundlePath = join(packageRoot, "bundles", "creditgate.tar.gz");

export const devVerificationKey = () => loadVerificationKey({ publicKeyPath: devPublicKeyPath });
export const devSigningKey = () => loadSigningKey({ privateKeyPath: devSigningKeyPath });

export async function committedBundleFiles(): Promise<Map<string, Uint8Array>> {
  return readTarGz(await readFile(committedBundlePath));
}

/** Repack files, optionally changing some; the old signature stays unless `resign` is given. */
export async function repack(
  files: ReadonlyMap<string, Uint8Array>,
  changes: Readonly<Record<string, Uint8Array | null>> = {},
  resign?: Parameters<typeof signBundleFiles>[1],
): Promise<Buffer> {
  const next = new Map(files);
  for (const [name, bytes] of Object.entries(changes)) {
    if (bytes === null) next.delete(name);
    else next.set(name, bytes);
  }
  if (resign !== undefined) {
    next.delete(signaturesFile);
    next.set(signaturesFile, await signBundleFiles(next, resign));
  }
  return writeTarGz(next);
}

export const utf8 = (text: string) => new TextEncoder().encode(text);

/** Compiles an inline Rego module to an unsigned Wasm bundle with `opa build -t wasm`. */
export async function buildInlineBundle(
  rego: string,
  data: Record<string, unknown> = {},
  entrypoint = "creditgate/decision",
): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), "creditgate-inline-"));
  try {
    await writeFile(join(dir, "policy.rego"), rego);
    await writeFile(join(dir, "data.json"), JSON.stringify(data));
    const result = await runTool(
      "opa",
      [
        "build",
        "-b",
        ".",
        "-t",
        "wasm",
        "-e",
        entrypoint,
        "--revision",
        "inline-test",
        "-o",
        "out.tar.gz",
      ],
      { cwd: dir },
    );
    if (result.exitCode !== 0) throw new Error(`opa build failed: ${result.stderr}`);
    return await readFile(join(dir, "out.tar.gz"));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
