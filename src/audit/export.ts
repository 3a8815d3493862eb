/** JSON Lines export: one canonical record per line, so an exported file re-verifies as is. */
import { canonicalize } from "./canonical.js";
import type { AuditRecord } from "./chain.js";

export function toJsonLine(record: AuditRecord): string {
  return `${canonicalize(record)}\n`;
}

export function parseJsonLines(text: string): AuditRecord[] {
  return text
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as AuditRecord);
}
