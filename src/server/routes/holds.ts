/** Settling holds: commit the actual cost (the rest is released) or release it all. */
import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import { CreditgateError } from "../../errors.js";
import type { VerifiedPrincipal } from "../../identity/index.js";
import { apiRoutes } from "../api.js";
import type { AppDeps } from "../deps.js";
import { internalKey } from "../internal-keys.js";
import {
  idempotencyKey,
  ledgerRefusal,
  principalOf,
  requiredIdempotencyKey,
  routeOptions,
} from "../route.js";
import { actorContext } from "./context.js";

interface HoldParams {
  readonly id: string;
}

/**
 * Holds are settled by the principal that placed them (the ledger checks the owner); a task
 * spends its own hold by deciding.
 */
function settlerOf(request: FastifyRequest): VerifiedPrincipal {
  const principal = principalOf(request);
  if (principal.kind === "task") {
    throw new CreditgateError("AUTH_FORBIDDEN", {
      message: "a task credential cannot commit or release holds",
    });
  }
  return principal;
}

export const holdRoutes: FastifyPluginAsync<{ deps: AppDeps }> = async (app, { deps }) => {
  app.route({
    ...routeOptions(apiRoutes.commitHold, deps),
    handler: async (request) => {
      const principal = settlerOf(request);
      const { id } = request.params as HoldParams;
      const { amount } = request.body as { amount: number };
      const outcome = await deps.store.commit({
        tenant: principal.tenant,
        key: requiredIdempotencyKey(request),
        holdId: id,
        amount,
        ...deps.engine.settler(principal),
        audit: actorContext(principal, request),
      });
      if (!outcome.ok) throw ledgerRefusal(outcome.code);
      const balances = await deps.store.balances(principal.tenant);
      return {
        hold_id: outcome.value.holdId,
        transfer_id: outcome.value.transferId,
        committed: outcome.value.committed,
        released: outcome.value.released,
        balances: balances.available,
      };
    },
  });

  app.route({
    ...routeOptions(apiRoutes.releaseHold, deps),
    handler: async (request) => {
      const principal = settlerOf(request);
      const { id } = request.params as HoldParams;
      const outcome = await deps.store.release({
        tenant: principal.tenant,
        // Releasing is naturally idempotent; a missing key is the hold's own.
        key: idempotencyKey(request) ?? internalKey("release", id),
        holdId: id,
        ...deps.engine.settler(principal),
        audit: actorContext(principal, request),
      });
      if (!outcome.ok) throw ledgerRefusal(outcome.code);
      const balances = await deps.store.balances(principal.tenant);
      return {
        hold_id: outcome.value.holdId,
        released: outcome.value.released,
        balances: balances.available,
      };
    },
  });
};
