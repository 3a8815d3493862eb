/**
 * The configuration schema as a flat list of fields (`server.port`, `identity.issuers[].issuer`),
 * with `$ref`s followed into the other schemas they name. The reference (docs/config.md), the
 * description check and secret redaction all read the schema through this one walk.
 */
import { schemaIdBase, validatorFor } from "../schema-registry.js";

/** The parts of a JSON Schema node the walk and the reference read. */
export interface SchemaNode {
  readonly $id?: string;
  readonly $ref?: string;
  readonly $defs?: Readonly<Record<string, SchemaNode>>;
  readonly title?: string;
  readonly description?: string;
  readonly type?: string | readonly string[];
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly required?: readonly string[];
  readonly items?: SchemaNode;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly uniqueItems?: boolean;
  readonly pattern?: string;
  /** Marks a secret: `config check` never prints it (credentials in a URL are masked). */
  readonly writeOnly?: boolean;
}

export interface ConfigField {
  /** Dotted path; `[]` stands for every item of an array. */
  readonly path: string;
  /** The property's own name (the last path segment). */
  readonly name: string;
  /** The property's schema with a top-level `$ref` resolved (its own description kept). */
  readonly schema: SchemaNode;
  /** The description written on the property itself, if any. */
  readonly description: string | undefined;
  readonly required: boolean;
  readonly secret: boolean;
}

/**
 * Names that hold credentials by convention; a property so named must be marked `writeOnly`
 * (a test checks it), and is redacted even if it is not.
 */
const secretName = /(^|_)(password|passwd|secret|token|private_key|api_key|credentials?)$/i;

export function isSecret(name: string, schema: SchemaNode): boolean {
  return schema.writeOnly === true || secretName.test(name);
}

/** A schema by `$id`, from the one registry that loads them all. */
function schemaById(id: string): SchemaNode {
  return validatorFor(id).schema as SchemaNode;
}

export function configSchema(): SchemaNode {
  return schemaById(`${schemaIdBase}config.schema.json`);
}

/** Follows a `$ref` (another schema by id or relative name, or a `#/$defs/...` of `root`). */
function resolve(node: SchemaNode, root: SchemaNode): { node: SchemaNode; root: SchemaNode } {
  const ref = node.$ref;
  if (ref === undefined) return { node, root };
  const { $ref: _ref, ...siblings } = node;
  if (ref.startsWith("#/$defs/")) {
    const target = root.$defs?.[ref.slice("#/$defs/".length)];
    if (target === undefined) throw new TypeError(`unresolved ${ref}`);
    return { node: { ...target, ...siblings }, root };
  }
  const target = schemaById(ref.startsWith("https://") ? ref : `${schemaIdBase}${ref}`);
  // Another schema is a new root for its own `#/$defs`; the property's description wins.
  return { node: { ...target, ...siblings }, root: target };
}

/** A JWKS is a standard document (RFC 7517), not configuration: listed, not walked into. */
const documentSchemas = new Set([`${schemaIdBase}identity-jwks.schema.json`]);

function walk(node: SchemaNode, root: SchemaNode, prefix: string, out: ConfigField[]): void {
  const required = new Set(node.required ?? []);
  for (const [name, raw] of Object.entries(node.properties ?? {})) {
    const path = prefix === "" ? name : `${prefix}.${name}`;
    const resolved = resolve(raw, root);
    out.push({
      path,
      name,
      schema: resolved.node,
      description: raw.description,
      required: required.has(name),
      secret: isSecret(name, raw),
    });
    if (resolved.root.$id !== undefined && documentSchemas.has(resolved.root.$id)) continue;
    walk(resolved.node, resolved.root, path, out);
    if (resolved.node.items !== undefined) {
      const items = resolve(resolved.node.items, resolved.root);
      walk(items.node, items.root, `${path}[]`, out);
    }
  }
}

let fields: readonly ConfigField[] | undefined;

/** Every property of the configuration schema, parents before children, in schema order. */
export function configFields(): readonly ConfigField[] {
  if (fields === undefined) {
    const out: ConfigField[] = [];
    const root = configSchema();
    walk(root, root, "", out);
    fields = out;
  }
  return fields;
}

/** Paths of the properties that carry no description of their own. */
export function fieldsWithoutDescription(): string[] {
  return configFields()
    .filter((field) => field.description === undefined || field.description.trim() === "")
    .map((field) => field.path);
}

/** Properties named like a secret that the schema does not mark `writeOnly`. */
export function unmarkedSecrets(): string[] {
  return configFields()
    .filter((field) => secretName.test(field.name) && field.schema.writeOnly !== true)
    .map((field) => field.path);
}
