/** Probes and metrics: liveness, readiness (bundle active, store answering), Prometheus. */
import type { FastifyPluginAsync } from "fastify";
import { limits } from "../../limits.js";
import { apiRoutes } from "../api.js";
import type { AppDeps } from "../deps.js";
import { routeOptions } from "../route.js";

async function storeAnswers(deps: AppDeps): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(
      () => resolve(`no answer within ${limits.readinessStoreTimeoutMs} ms`),
      limits.readinessStoreTimeoutMs,
    );
  });
  try {
    return await Promise.race([deps.store.schemaVersion().then(() => "ok"), timeout]);
  } catch (error) {
    return (error as Error).message;
  } finally {
    clearTimeout(timer);
  }
}

export const operationsRoutes: FastifyPluginAsync<{ deps: AppDeps }> = async (app, { deps }) => {
  app.route({
    ...routeOptions(apiRoutes.healthz, deps),
    handler: async () => ({ status: "ok" }),
  });

  app.route({
    ...routeOptions(apiRoutes.readyz, deps),
    handler: async (_request, reply) => {
      const evaluator = deps.policy.current;
      const store = await storeAnswers(deps);
      const ready = store === "ok";
      return reply.code(ready ? 200 : 503).send({
        status: ready ? "ok" : "unavailable",
        policy_revision: evaluator.revision,
        bundle_digest: evaluator.digest,
        checks: { policy: "ok", store },
      });
    },
  });

  app.route({
    ...routeOptions(apiRoutes.metrics, deps),
    handler: async (_request, reply) =>
      reply.type("text/plain; version=0.0.4; charset=utf-8").send(deps.metrics.render()),
  });
};
