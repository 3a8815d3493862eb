/**
 * Admin writes (grants, reversals, revocations, tenant suspension) and tenant reads. Only the admin issuer's
 * tokens reach these handlers; every write is idempotent and carries its actor into the audit.
 */
import type { FastifyPluginAsync } from "fastify";
import { toRfc3339 } from "../../clock.js";
import { tenantInfoJson } from "../../ledger/tenant-info.js";
import type { CreditClass, RevocationKind, TenantStatus } from "../../ledger/types.js";
import { apiRoutes } from "../api.js";
import type { AppDeps } from "../deps.js";
import { ledgerRefusal, principalOf, requiredIdempotencyKey, routeOptions } from "../route.js";
import { instantOf } from "../validation.js";
import { actorContext } from "./context.js";

interface GrantBody {
  readonly tenant: string;
  readonly class: CreditClass;
  readonly amount: number;
  readonly effective_at?: string;
  readonly expires_at?: string;
  readonly priority?: number;
  readonly source?: string;
  readonly reference?: string;
}

interface ReversalBody {
  readonly tenant: string;
  readonly transfer_id: string;
  readonly amount?: number;
  readonly reason: string;
}

interface RevocationBody {
  readonly tenant: string;
  readonly kind: RevocationKind;
  readonly subject: string;
  readonly reason: string;
}

export const adminRoutes: FastifyPluginAsync<{ deps: AppDeps }> = async (app, { deps }) => {
  app.route({
    ...routeOptions(apiRoutes.grant, deps),
    handler: async (request, reply) => {
      const body = request.body as GrantBody;
      const outcome = await deps.store.grant({
        tenant: body.tenant,
        key: requiredIdempotencyKey(request),
        class: body.class,
        amount: body.amount,
        source: body.source ?? "api",
        ...(body.effective_at === undefined
          ? {}
          : { effectiveAtMs: instantOf(body.effective_at, "body", "effective_at") }),
        ...(body.expires_at === undefined
          ? {}
          : { expiresAtMs: instantOf(body.expires_at, "body", "expires_at") }),
        ...(body.priority === undefined ? {} : { priority: body.priority }),
        ...(body.reference === undefined ? {} : { reference: body.reference }),
        audit: actorContext(principalOf(request), request),
      });
      if (!outcome.ok) throw ledgerRefusal(outcome.code);
      const grant = outcome.value;
      return reply.code(201).send({
        grant_id: grant.grantId,
        tenant: body.tenant,
        class: grant.class,
        amount: grant.amount,
        effective_at: toRfc3339(grant.effectiveAtMs),
        expires_at: grant.expiresAtMs === null ? null : toRfc3339(grant.expiresAtMs),
      });
    },
  });

  app.route({
    ...routeOptions(apiRoutes.reverse, deps),
    handler: async (request, reply) => {
      const body = request.body as ReversalBody;
      const outcome = await deps.store.reverse({
        tenant: body.tenant,
        key: requiredIdempotencyKey(request),
        transferId: body.transfer_id,
        reason: body.reason,
        ...(body.amount === undefined ? {} : { amount: body.amount }),
        audit: actorContext(principalOf(request), request),
      });
      if (!outcome.ok) throw ledgerRefusal(outcome.code);
      return reply.code(201).send({
        transfer_id: outcome.value.transferId,
        reversed_transfer_id: outcome.value.reversedTransferId,
        amount: outcome.value.amount,
      });
    },
  });

  app.route({
    ...routeOptions(apiRoutes.revoke, deps),
    handler: async (request, reply) => {
      const body = request.body as RevocationBody;
      const outcome = await deps.revoke({
        tenant: body.tenant,
        key: requiredIdempotencyKey(request),
        kind: body.kind,
        subject: body.subject,
        reason: body.reason,
        audit: actorContext(principalOf(request), request),
      });
      if (!outcome.ok) throw ledgerRefusal(outcome.code);
      return reply.code(201).send({ revocation_id: outcome.value.revocationId });
    },
  });

  app.route({
    ...routeOptions(apiRoutes.tenant, deps),
    handler: async (request) => {
      const { tenant } = request.params as { tenant: string };
      return tenantInfoJson(await deps.store.tenantInfo(tenant));
    },
  });

  // The status is read by every decision's snapshot, so no instance needs to be told.
  const statusRoutes = [
    [apiRoutes.suspendTenant, "suspended"],
    [apiRoutes.reinstateTenant, "active"],
  ] as const satisfies readonly (readonly [unknown, TenantStatus])[];
  for (const [route, status] of statusRoutes) {
    app.route({
      ...routeOptions(route, deps),
      handler: async (request) => {
        const { tenant } = request.params as { tenant: string };
        const { reason } = request.body as { reason: string };
        const outcome = await deps.store.setTenantStatus({
          tenant,
          key: requiredIdempotencyKey(request),
          status,
          reason,
          audit: actorContext(principalOf(request), request),
        });
        if (!outcome.ok) throw ledgerRefusal(outcome.code);
        const v = outcome.value;
        return {
          ...tenantInfoJson({ tenant, status: v.status, sinceMs: v.sinceMs, reason: v.reason }),
          previous_status: v.previousStatus,
          changed: v.changed,
        };
      },
    });
  }

  app.route({
    ...routeOptions(apiRoutes.balances, deps),
    handler: async (request) => {
      const { tenant } = request.params as { tenant: string };
      const balances = await deps.store.balances(tenant);
      return {
        tenant: balances.tenant,
        at: toRfc3339(balances.atMs),
        posted: balances.posted,
        held: balances.held,
        available: balances.available,
      };
    },
  });
};
