/** GET /openapi.json: built once per app from the API table and schemas. */
import type { FastifyPluginAsync } from "fastify";
import { apiRoutes } from "../api.js";
import type { AppDeps } from "../deps.js";
import { buildOpenApi } from "../openapi.js";
import { routeOptions } from "../route.js";

export const openApiRoutes: FastifyPluginAsync<{ deps: AppDeps }> = async (app, { deps }) => {
  const document = JSON.stringify(buildOpenApi());
  app.route({
    ...routeOptions(apiRoutes.openapi, deps),
    handler: async (_request, reply) =>
      reply.type("application/json; charset=utf-8").send(document),
  });
};
