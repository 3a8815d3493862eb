/**
 * The owner key of a hold: who placed it, and so who alone may settle it. A principal is named
 * by its kind, issuer and id together (the same id at two issuers is two principals).
 */
import type { Pseudonyms } from "../audit/pseudonym.js";
import type { PrincipalKind } from "../identity/index.js";
import { boundedKey } from "../ledger/bounded-key.js";

/**
 * `${kind}:${issuer}:${id}`. A long issuer and id together can exceed the ledger's identifier
 * limit, and an id with a `:` could make two principals read alike (issuer `https://a`, id
 * `8443:u` against issuer `https://a:8443`, id `u`); such a principal is keyed
 * `${kind}#<sha256>` instead (src/ledger/bounded-key.ts).
 */
/**
 * The owner key a hold stores and is settled with: the keyed pseudonym of `principalKey`, so the
 * holds table names no principal. Holds placed before owners were pseudonyms carry the plain
 * `principalKey`, which settling still accepts as `formerOwner`.
 */
export function ownerKey(
  pseudonyms: Pseudonyms,
  principal: Parameters<typeof principalKey>[0],
): string {
  return pseudonyms.of(principalKey(principal));
}

export function principalKey(principal: {
  readonly kind: PrincipalKind;
  readonly issuer: string;
  readonly id: string;
}): string {
  const { kind, issuer, id } = principal;
  return boundedKey(kind, [kind, issuer, id], `${kind}:${issuer}:${id}`, {
    digest: id.includes(":"),
  });
}
