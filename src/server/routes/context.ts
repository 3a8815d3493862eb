/** Who did it and through which request: the audit context of every write made over HTTP. */
import type { FastifyRequest } from "fastify";
import type { VerifiedPrincipal } from "../../identity/index.js";
import type { AuditContext } from "../../ledger/types.js";

export function actorContext(principal: VerifiedPrincipal, request: FastifyRequest): AuditContext {
  return {
    actor: {
      kind: principal.kind,
      id: principal.id,
      tenant: principal.tenant,
      issuer: principal.issuer,
    },
    // The audit query's principal filter reads this field.
    principal: { kind: principal.kind, id: principal.id, tenant: principal.tenant },
    request_id: request.id,
  };
}
