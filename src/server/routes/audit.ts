/** Reading and verifying the audit trail (admin only). */
import type { FastifyPluginAsync } from "fastify";
import type { AuditKind } from "../../audit/chain.js";
import { apiRoutes } from "../api.js";
import type { AppDeps } from "../deps.js";
import { principalOf, routeOptions } from "../route.js";
import { instantOf } from "../validation.js";

/** Records per page when the caller does not say. */
const auditPageRecordsDefault = 100;

interface AuditQueryString {
  readonly tenant?: string;
  readonly principal?: string;
  readonly decision_id?: string;
  readonly kind?: AuditKind;
  readonly from?: string;
  readonly to?: string;
  readonly after?: string;
  readonly limit?: string;
}

export const auditRoutes: FastifyPluginAsync<{ deps: AppDeps }> = async (app, { deps }) => {
  app.route({
    ...routeOptions(apiRoutes.audit, deps),
    handler: async (request) => {
      const q = request.query as AuditQueryString;
      const page = await deps.store.queryAudit({
        ...(q.tenant === undefined ? {} : { tenant: q.tenant }),
        ...(q.principal === undefined ? {} : { principal: q.principal }),
        ...(q.decision_id === undefined ? {} : { decisionId: q.decision_id }),
        ...(q.kind === undefined ? {} : { kind: q.kind }),
        ...(q.from === undefined ? {} : { fromMs: instantOf(q.from, "querystring", "from") }),
        ...(q.to === undefined ? {} : { toMs: instantOf(q.to, "querystring", "to") }),
        ...(q.after === undefined ? {} : { afterSeq: Number(q.after) }),
        limit: q.limit === undefined ? auditPageRecordsDefault : Math.max(1, Number(q.limit)),
      });
      return { records: page.records, next_after: page.nextAfterSeq };
    },
  });

  app.route({
    ...routeOptions(apiRoutes.verifyAudit, deps),
    handler: async (request) => {
      const result = await deps.store.verifyAudit();
      if (result.ok) return { ok: true, count: result.count, head: result.head };
      // The row names a tenant's ids and amounts: only a platform admin sees which one.
      const platform = deps.identity.adminScope(principalOf(request)).kind === "platform";
      return {
        ok: false,
        count: result.count,
        broken_seq: result.brokenSeq,
        reason: result.reason,
        ...(result.row === undefined || !platform ? {} : { row: result.row }),
      };
    },
  });
};
