/** POST /v1/decisions: the one question asked before every metered action. */
import type { FastifyPluginAsync } from "fastify";
import { canonicalize } from "../../audit/canonical.js";
import type { Action } from "../../policy/types.js";
import { apiRoutes } from "../api.js";
import type { AppDeps } from "../deps.js";
import { idempotencyKey, principalOf, routeOptions } from "../route.js";

interface DecisionBody {
  readonly action: Action;
  readonly dry_run?: boolean;
}

export const decisionRoutes: FastifyPluginAsync<{ deps: AppDeps }> = async (app, { deps }) => {
  app.route({
    ...routeOptions(apiRoutes.decide, deps),
    handler: async (request, reply) => {
      const body = request.body as DecisionBody;
      const key = idempotencyKey(request);
      const response = await deps.engine.decide({
        principal: principalOf(request),
        action: body.action,
        ...(key === undefined ? {} : { idempotencyKey: key }),
        ...(body.dry_run === true ? { dryRun: true } : {}),
      });
      // Canonical JSON: a replayed response is byte-identical however its object was assembled.
      return reply.type("application/json; charset=utf-8").send(canonicalize(response));
    },
  });
};
