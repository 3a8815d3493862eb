/**
 * Databases are reached only through src/storage/: no module outside it imports a database
 * driver, not even for its types, so a store is added or changed in one folder.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { packageRoot } from "../../src/paths.js";

const src = join(packageRoot, "src");
const databaseDrivers = ["pg", "better-sqlite3", "node:sqlite"];

/** Every module specifier a source text imports or re-exports, statically or dynamically. */
function specifiers(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(
    /(?:^\s*(?:import|export)\b[^;'"]*?(?:\bfrom\s*)?|\bimport\s*\(\s*)["']([^"']+)["']/gm,
  )) {
    found.push(match[1] as string);
  }
  return found;
}

function isDatabaseDriver(specifier: string): boolean {
  return databaseDrivers.some((name) => specifier === name || specifier.startsWith(`${name}/`));
}

/** `path: specifier` for every driver import in src/, paths relative to src/. */
function driverImports(): string[] {
  const hits: string[] = [];
  for (const entry of readdirSync(src, { recursive: true, encoding: "utf8" })) {
    if (!entry.endsWith(".ts")) continue;
    const text = readFileSync(join(src, entry), "utf8");
    for (const specifier of specifiers(text).filter(isDatabaseDriver)) {
      hits.push(`${relative(src, join(src, entry)).split("\\").join("/")}: ${specifier}`);
    }
  }
  return hits.sort();
}

describe("database driver imports", () => {
  it("are read in every form an import takes", () => {
    const text = [
      'import pg from "pg";',
      "import type Database from 'better-sqlite3';",
      'import {\n  Pool,\n  type Client,\n} from "pg";',
      'export { Pool } from "pg/lib/index.js";',
      'import "better-sqlite3";',
      'const m = await import("pg");',
      'import { x } from "./pg.js"; // "pg" in a comment is no import',
    ].join("\n");
    expect(specifiers(text).filter(isDatabaseDriver)).toEqual([
      "pg",
      "better-sqlite3",
      "pg",
      "pg/lib/index.js",
      "better-sqlite3",
      "pg",
    ]);
  });

  it("are found where the adapters use them", () => {
    const hits = driverImports();
    expect(hits).toContain("storage/postgres/store.ts: pg");
    expect(hits).toContain("storage/postgres/revocation-feed.ts: pg");
    expect(hits).toContain("storage/sqlite/store.ts: better-sqlite3");
  });

  it("appear nowhere outside src/storage/", () => {
    expect(driverImports().filter((hit) => !hit.startsWith("storage/"))).toEqual([]);
  });
});
