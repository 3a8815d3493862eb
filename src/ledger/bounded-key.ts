/**
 * Keys the service derives from caller ids (usage scopes, its own idempotency keys, hold owners)
 * must fit the ledger's identifier limit however long the ids are. The readable form is kept when
 * it fits (and the caller does not ask for the digest); otherwise the parts are named by digest,
 * `${tag}#<sha256>`, which no readable form can equal as long as each readable form continues its
 * tag with a character other than "#".
 */
import { createHash } from "node:crypto";
import { limits } from "../limits.js";

const digestChars = 64;

export function boundedKey(
  tag: string,
  parts: readonly string[],
  readable: string,
  options: { readonly digest?: boolean } = {},
): string {
  if (!readable.startsWith(tag) || readable.charAt(tag.length) === "#") {
    throw new TypeError(`a readable key starts with its tag "${tag}", not followed by "#"`);
  }
  if (options.digest !== true && readable.length <= limits.ledgerKeyCharsMax) return readable;
  if (tag.length + 1 + digestChars > limits.ledgerKeyCharsMax) {
    throw new TypeError(`the key tag "${tag}" leaves no room for a digest`);
  }
  const digest = createHash("sha256").update(JSON.stringify(parts)).digest("hex");
  return `${tag}#${digest}`;
}
