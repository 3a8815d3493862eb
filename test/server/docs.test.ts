/** docs/api.md documents every route of the API table, and only routes that exist. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { packageRoot } from "../../src/paths.js";
import { apiRoutes } from "../../src/server/api.js";

const doc = readFileSync(join(packageRoot, "docs", "api.md"), "utf8");
const routes = Object.values(apiRoutes).map((route) => `${route.method} ${route.path}`);
const headings = [...doc.matchAll(/^### `((?:GET|POST) \S+)`$/gm)].map((m) => m[1] as string);

describe("docs/api.md", () => {
  it.each(routes)("documents %s under its own heading", (route) => {
    expect(headings).toContain(route);
  });

  it("documents no route the table does not have", () => {
    expect(headings.filter((heading) => !routes.includes(heading))).toEqual([]);
  });

  it("lists every route once in its summary table", () => {
    for (const route of routes) {
      const rows = doc.split("\n").filter((line) => line.startsWith(`| [\`${route}\`]`));
      expect({ route, rows: rows.length }).toEqual({ route, rows: 1 });
    }
  });
});
