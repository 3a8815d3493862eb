/** GET /.well-known/jwks.json: the task issuer's public keys, for verifiers other than us. */
import type { FastifyPluginAsync } from "fastify";
import { apiRoutes } from "../api.js";
import type { AppDeps } from "../deps.js";
import { routeOptions } from "../route.js";

/** Longest a verifier may cache the document; see the handler for why it is bounded. */
const maxAgeSecondsMax = 60;

export const jwksRoutes: FastifyPluginAsync<{ deps: AppDeps }> = async (app, { deps }) => {
  app.route({
    ...routeOptions(apiRoutes.jwks, deps),
    handler: async (_request, reply) => {
      const tasks = deps.tasks;
      if (tasks === undefined) {
        // No task credentials here: an empty set says so without breaking fetchers.
        return reply.header("cache-control", `max-age=${maxAgeSecondsMax}`).send({ keys: [] });
      }
      const jwks = await tasks.keys.publishedJwks();
      // A new key is published key_publish_lead_seconds before it signs; a cached copy must
      // expire within that lead, or a verifier would meet tokens from a key it has not seen.
      const maxAge = Math.min(maxAgeSecondsMax, tasks.keys.config.key_publish_lead_seconds);
      return reply.header("cache-control", `max-age=${maxAge}`).send(jwks);
    },
  });
};
