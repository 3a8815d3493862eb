/**
 * The client ships inside services: it must load without the server's runtime (fastify,
 * storage, policy engine). Value imports are limited to node builtins, its own modules and
 * the plain-data error registry; everything else must be `import type`.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { packageRoot } from "../../src/paths.js";

const dir = join(packageRoot, "src", "client");
const allowed = (specifier: string): boolean =>
  specifier.startsWith("node:") || specifier.startsWith("./") || specifier === "../errors.js";

describe("src/client runtime imports", () => {
  it("load nothing of the server", () => {
    const offending: string[] = [];
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts"))) {
      const text = readFileSync(join(dir, file), "utf8");
      for (const match of text.matchAll(/^(import|export)\s+(type\s+)?[^;]*?from\s+"([^"]+)"/gms)) {
        const [, , typeOnly, specifier] = match;
        if (typeOnly === undefined && !allowed(specifier as string)) {
          offending.push(`${file}: ${specifier}`);
        }
      }
    }
    expect(offending).toEqual([]);
  });
});
