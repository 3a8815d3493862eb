/** The bundle `.manifest`: which revision it is and which Wasm entrypoints it exposes. */
import { CreditgateError } from "../errors.js";

export const decisionEntrypoint = "creditgate/decision";
export const wasmModulePath = "policy.wasm";

export interface BundleManifest {
  readonly revision: string;
  readonly roots: readonly string[];
  readonly wasm: readonly { readonly entrypoint: string; readonly module: string }[];
  readonly regoVersion: number;
}

function invalid(message: string): CreditgateError {
  return new CreditgateError("BUNDLE_MANIFEST_INVALID", { message: `.manifest: ${message}` });
}

export function parseManifest(bytes: Uint8Array | undefined): BundleManifest {
  if (bytes === undefined) throw invalid("missing");
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    throw invalid("not valid JSON");
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw invalid("not an object");
  const manifest = raw as Record<string, unknown>;
  const { revision, roots = [""], wasm, rego_version: regoVersion = 1 } = manifest;
  if (typeof revision !== "string" || revision === "")
    throw invalid("revision must be a non-empty string");
  if (!Array.isArray(roots) || !roots.every((root) => typeof root === "string")) {
    throw invalid("roots must be an array of strings");
  }
  if (!Array.isArray(wasm))
    throw invalid("has no wasm section: not built with `opa build -t wasm`");
  const entries = wasm.map((entry: unknown) => {
    const { entrypoint, module } = (entry ?? {}) as Record<string, unknown>;
    if (typeof entrypoint !== "string" || typeof module !== "string") {
      throw invalid("each wasm entry needs an entrypoint and a module");
    }
    return { entrypoint, module: module.replace(/^\/+/, "") };
  });
  const decision = entries.find((entry) => entry.entrypoint === decisionEntrypoint);
  if (decision === undefined) throw invalid(`no wasm entrypoint "${decisionEntrypoint}"`);
  if (decision.module !== wasmModulePath) {
    throw invalid(`entrypoint "${decisionEntrypoint}" must live in /${wasmModulePath}`);
  }
  if (regoVersion !== 1)
    throw invalid(`rego_version ${String(regoVersion)} is not supported (Rego v1 only)`);
  return { revision, roots, wasm: entries, regoVersion: 1 };
}
