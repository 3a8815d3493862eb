/** `npm run docs:config`: writes docs/config.md from schemas/config.schema.json. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderConfigReference } from "../src/config/reference.js";
import { packageRoot } from "../src/paths.js";

const target = join(packageRoot, "docs", "config.md");
writeFileSync(target, renderConfigReference());
process.stdout.write(`wrote ${target}\n`);
