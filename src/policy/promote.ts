/**
 * `creditgate policy promote`: the one step that puts a built bundle in front of services.
 * The bundle is verified with the verification key the service uses (never unsigned), its Wasm
 * is instantiated, and exactly the verified bytes replace the served file by rename, so a
 * watching service sees the old bundle or the new one, never a partial file.
 */
import { randomBytes } from "node:crypto";
import { type FileHandle, mkdir, open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { CreditgateError } from "../errors.js";
import { readBundleArchive, readBundleBytes } from "./bundle.js";
import { PolicyEvaluator } from "./evaluator.js";
import type { BundleVerificationKey } from "./keys.js";

export interface PromoteOptions {
  /** The built bundle (by default build/creditgate.tar.gz). */
  readonly from: string;
  /** The served bundle (the service's policy.bundle). */
  readonly to: string;
  readonly verificationKey: BundleVerificationKey;
}

export interface PromoteReport {
  readonly revision: string;
  readonly digest: string;
  readonly signedBy: string;
  readonly to: string;
}

function promoteFailed(to: string, what: string, cause: unknown): CreditgateError {
  return new CreditgateError("BUNDLE_PROMOTE_FAILED", {
    message: `cannot promote to ${to}: ${what}: ${(cause as Error).message}`,
    cause,
  });
}

/** Makes the rename durable (best effort where a directory cannot be synced). */
async function syncDir(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch {
    // The rename itself is still atomic.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

export async function promoteBundle(options: PromoteOptions): Promise<PromoteReport> {
  const archive = await readBundleArchive(options.from);
  // allowUnsigned is never passed: a promoted bundle is one a production service accepts.
  const bundle = await readBundleBytes(archive, { verificationKey: options.verificationKey });
  await PolicyEvaluator.create(bundle);
  if (bundle.signedBy === null) throw new TypeError("a verified bundle names its signer");

  const dir = dirname(options.to);
  // A dot-name in the same directory: the rename stays on one file system, and a service's
  // watch (which filters on the served file's name) ignores the temporary file.
  const temp = join(dir, `.${basename(options.to)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await mkdir(dir, { recursive: true });
    const handle = await open(temp, "wx", 0o644);
    try {
      await handle.writeFile(archive);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, options.to);
  } catch (cause) {
    await unlink(temp).catch(() => undefined);
    throw promoteFailed(options.to, "writing the bundle failed", cause);
  }
  await syncDir(dir);
  return {
    revision: bundle.revision,
    digest: bundle.digest,
    signedBy: bundle.signedBy,
    to: options.to,
  };
}
