/**
 * docs/config.md, rendered from schemas/config.schema.json and the loader's defaults and
 * environment overrides: the reference cannot drift from what `loadConfig` accepts (a test
 * compares the committed file with this rendering).
 */
import { relative } from "node:path";
import { packageRoot } from "../paths.js";
import { type ConfigField, configFields, configSchema, type SchemaNode } from "./fields.js";
import { defaultConfig, envOverrides } from "./load.js";

function code(value: string): string {
  return `\`${value}\``;
}

/** Table cells may not hold a bare pipe or a line break. */
function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

function typeOf(schema: SchemaNode): string {
  if (schema.enum !== undefined) return schema.enum.map((v) => code(JSON.stringify(v))).join(", ");
  if (schema.const !== undefined) return code(JSON.stringify(schema.const));
  const type = typeof schema.type === "string" ? schema.type : schema.type?.join(" or ");
  if (type === "array" && schema.items !== undefined) {
    const items = schema.items;
    if (items.$ref !== undefined) return "list of objects";
    return `list of ${items.enum !== undefined ? `(${typeOf(items)})` : `${typeOf(items)}s`}`;
  }
  if (type === undefined && schema.properties !== undefined) return "object";
  return type ?? "any";
}

function constraints(schema: SchemaNode): string[] {
  const out: string[] = [];
  if (schema.minimum !== undefined && schema.maximum !== undefined)
    out.push(`${schema.minimum} to ${schema.maximum}`);
  else if (schema.minimum !== undefined) out.push(`≥ ${schema.minimum}`);
  else if (schema.maximum !== undefined) out.push(`≤ ${schema.maximum}`);
  const range = (min: number | undefined, max: number | undefined, unit: string) => {
    if (min !== undefined && max !== undefined) out.push(`${min} to ${max} ${unit}`);
    else if (min !== undefined) out.push(`at least ${min} ${unit}`);
    else if (max !== undefined) out.push(`at most ${max} ${unit}`);
  };
  range(schema.minLength, schema.maxLength, "characters");
  range(schema.minItems, schema.maxItems, "items");
  if (schema.uniqueItems) out.push("unique");
  if (schema.pattern !== undefined) out.push(`matches ${code(schema.pattern)}`);
  return out;
}

/** The built-in default at a dotted path (arrays have none below them). */
function defaultAt(path: string): unknown {
  if (path.includes("[]")) return undefined;
  let node: unknown = defaultConfig;
  for (const key of path.split(".")) {
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function renderDefault(value: unknown): string {
  if (value === undefined || (typeof value === "object" && value !== null && !Array.isArray(value)))
    return "";
  // Package paths are absolute at run time; the reference names them from the package root.
  if (typeof value === "string" && value.startsWith(packageRoot))
    return `${code(relative(packageRoot, value))} (in the package)`;
  return code(JSON.stringify(value));
}

function row(field: ConfigField, section: string): string {
  const notes = [
    field.description ?? "",
    ...(field.required ? [] : ["Optional."]),
    ...(field.secret
      ? ["**Secret**: `config check` redacts it (of a URL, only the credentials)."]
      : []),
  ].filter((note) => note !== "");
  const env = envOverrides
    .filter((o) => o.path.join(".") === field.path)
    .map((o) => code(`$${o.variable}`))
    .join(", ");
  const type = [typeOf(field.schema), ...constraints(field.schema)].join("; ");
  return `| ${code(field.path.slice(section.length + 1))} | ${cell(type)} | ${cell(renderDefault(defaultAt(field.path)))} | ${cell(env)} | ${cell(notes.join(" "))} |`;
}

export function renderConfigReference(): string {
  const schema = configSchema();
  const lines = [
    "<!-- Generated from schemas/config.schema.json by `npm run docs:config`; edit the schema, not this file. -->",
    "",
    "# Configuration reference",
    "",
    schema.description ?? "",
    "",
    "Where the configuration comes from, in order: the built-in defaults; the YAML file named by",
    "`--config FILE`, else `$CREDITGATE_CONFIG` (objects merge key by key, lists and values",
    "replace); then the environment variables below, one field each. Relative paths in a file",
    "start at the file's directory. Everything is validated together at start-up and every problem",
    "is reported at once (`CONFIG_INVALID`). `creditgate config check` does exactly what `serve`",
    "does and prints the effective configuration with secrets redacted ([cli.md](cli.md)).",
    "",
  ];
  const fields = configFields();
  for (const section of fields.filter((f) => !f.path.includes("."))) {
    lines.push(`## \`${section.path}\``, "");
    if (section.description !== undefined) lines.push(section.description, "");
    lines.push(
      "| key | type | default | environment | description |",
      "| --- | --- | --- | --- | --- |",
    );
    for (const field of fields) {
      if (!field.path.startsWith(`${section.path}.`)) continue;
      lines.push(row(field, section.path));
    }
    lines.push("");
  }
  return `${lines.join("\n").trimEnd()}\n`;
}
