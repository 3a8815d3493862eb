/**
 * Agent tasks. POST /v1/tasks: the caller's policy decides `agent.task` (its fee and a hold of the
 * budget, living exactly as long as the credential), then creditgate signs a task token scoped
 * to what was asked for and within what the caller holds. POST /v1/tasks/{id}/complete: the task
 * ends itself; the rest of its hold goes back and its credential is revoked. Expiry does the same
 * on its own: the hold expires (once, in the ledger) when the token does.
 */
import { createHash } from "node:crypto";
import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import { canonicalize } from "../../audit/canonical.js";
import { toRfc3339 } from "../../clock.js";
import type { DecisionResponse } from "../../decision/types.js";
import { CreditgateError } from "../../errors.js";
import type { VerifiedPrincipal } from "../../identity/index.js";
import type { HoldValue } from "../../ledger/types.js";
import { attenuate } from "../../tasks/attenuate.js";
import type { SignedTaskToken } from "../../tasks/token.js";
import { apiRoutes } from "../api.js";
import type { AppDeps } from "../deps.js";
import { internalKey } from "../internal-keys.js";
import { ledgerRefusal, principalOf, requiredIdempotencyKey, routeOptions } from "../route.js";
import { actorContext } from "./context.js";

interface TaskBody {
  readonly name?: string;
  readonly budget: number;
  readonly ttl_seconds?: number;
  readonly actions: readonly string[];
  readonly tools?: readonly string[];
}

/**
 * The task's id: creditgate's own, stable per parent and key (a retry names the same task), and
 * unlike any principal's or other task's id, since revocations and usage windows key on it.
 */
function taskIdFor(parent: VerifiedPrincipal, key: string): string {
  const digest = createHash("sha256").update(
    [parent.tenant, parent.kind, parent.issuer, parent.id, key].join("\u0000"),
  );
  return `tsk_${digest.digest("hex").slice(0, 26)}`;
}

function unsignable(cause: unknown): CreditgateError {
  return new CreditgateError("TASK_SIGNING_UNAVAILABLE", cause === undefined ? {} : { cause });
}

/**
 * Undoing a task whose credential could not be signed: its hold released, then the fee
 * reversed, each under a key of its own (idempotent, audited as the parent). The release's key
 * marks the undo as started, so a retry finishes it rather than signing for a released hold.
 */
function undoer(
  deps: AppDeps,
  parent: VerifiedPrincipal,
  request: FastifyRequest,
  key: string,
  taskId: string,
  holdId: string,
) {
  const tenant = parent.tenant;
  const releaseKey = internalKey("task-unsigned-release", taskId);
  const refundKey = internalKey("task-unsigned-refund", taskId);
  return {
    async started(): Promise<boolean> {
      return (await deps.store.idempotencyRecords(tenant, [releaseKey])).has(releaseKey);
    },
    async run(): Promise<void> {
      const audit = actorContext(parent, request);
      const released = await deps.store.release({
        tenant,
        key: releaseKey,
        holdId,
        ...deps.engine.settler(parent),
        audit,
      });
      // Expired meanwhile: its budget is back already.
      if (!released.ok && released.code !== "hold_expired") throw ledgerRefusal(released.code);
      const placed = (await deps.store.idempotencyRecords(tenant, [key])).get(key);
      const fee = placed?.op === "hold" ? (placed.value as HoldValue).fee : undefined;
      if (fee === undefined) return;
      const reversed = await deps.store.reverse({
        tenant,
        key: refundKey,
        transferId: fee.transferId,
        reason: "the task's credential could not be signed",
        audit,
      });
      if (!reversed.ok) throw ledgerRefusal(reversed.code);
    },
  };
}

export const taskRoutes: FastifyPluginAsync<{ deps: AppDeps }> = async (app, { deps }) => {
  const credentials = deps.tasks;
  if (credentials === undefined) return;
  const config = credentials.keys.config;

  app.route({
    ...routeOptions(apiRoutes.createTask, deps),
    handler: async (request, reply) => {
      const parent = principalOf(request);
      const body = request.body as TaskBody;
      const key = requiredIdempotencyKey(request);
      const taskId = taskIdFor(parent, key);
      // Canonical JSON, as for decisions: a retry answers byte for byte the same.
      const send = (decision: DecisionResponse, task: unknown) =>
        reply.type("application/json; charset=utf-8").send(canonicalize({ decision, task }));
      if (parent.kind === "task") {
        // A task has no budget of its own to hold a new one from: the policy denies it
        // (TASK_NESTING_DENIED), recorded like any deny, and nothing is ever signed for it.
        const decision = await deps.engine.decide({
          principal: parent,
          action: { type: "agent.task", task_id: taskId, units: { budget: body.budget } },
          idempotencyKey: key,
        });
        if (decision.allow) {
          throw new CreditgateError("AUTH_FORBIDDEN", {
            message: "a task credential cannot mint further credentials",
          });
        }
        return send(decision, null);
      }
      const nowMs = deps.clock.nowMs();
      const granted = attenuate(
        parent,
        {
          actions: body.actions,
          tools: body.tools,
          budget: body.budget,
          ttlSeconds: body.ttl_seconds,
        },
        nowMs,
        { ttlSecondsDefault: config.ttl_seconds_default, ttlSecondsMax: config.ttl_seconds_max },
      );
      // Charge only what can be given: with no key signing at this second, refuse before deciding.
      await credentials.keys.signingKey(Math.floor(nowMs / 1_000) * 1_000).catch((cause) => {
        throw unsignable(cause);
      });
      const decision = await deps.engine.decide({
        principal: parent,
        action: { type: "agent.task", task_id: taskId, units: { budget: granted.budget } },
        idempotencyKey: key,
        holdTtlMs: granted.ttlSeconds * 1_000,
      });
      if (!decision.allow || decision.hold_id === undefined) return send(decision, null);

      const undo = undoer(deps, parent, request, key, taskId, decision.hold_id);
      // A retry of a task whose credential could not be signed: finish the undo, answer the same.
      if (await undo.started()) {
        await undo.run();
        throw unsignable(undefined);
      }
      const hold = await deps.store.holdStatus(parent.tenant, decision.hold_id);
      if (hold === null)
        throw new CreditgateError("INTERNAL", { message: "the task's hold is missing" });
      // Issued so that it expires with its hold; on a retry the same claims are signed again.
      const expiresAtSeconds = Math.floor(hold.expiresAtMs / 1_000);
      let signed: SignedTaskToken;
      try {
        signed = await credentials.sign(
          {
            taskId,
            tenant: parent.tenant,
            plan: parent.plan,
            scopes: granted.scopes,
            parent: {
              id: parent.id,
              kind: parent.kind,
              issuer: parent.issuer,
              ...(parent.jti === undefined ? {} : { jti: parent.jti }),
            },
            holdId: hold.holdId,
            budget: hold.amount,
            ttlSeconds: granted.ttlSeconds,
            jti: `${hold.holdId}.credential`,
          },
          (expiresAtSeconds - granted.ttlSeconds) * 1_000,
        );
      } catch (cause) {
        // The charge and the credential are one outcome: no credential, no fee and no hold.
        await undo.run();
        throw unsignable(cause);
      }
      return send(decision, {
        task_id: taskId,
        ...(body.name === undefined ? {} : { name: body.name }),
        hold_id: hold.holdId,
        budget: hold.amount,
        scopes: granted.scopes,
        expires_at: toRfc3339(signed.expiresAtMs),
        token: signed.token,
      });
    },
  });

  app.route({
    ...routeOptions(apiRoutes.completeTask, deps),
    handler: async (request) => {
      const principal = principalOf(request);
      const { id } = request.params as { id: string };
      // Only the task's own credential ends it; anything else learns nothing about the task.
      if (principal.kind !== "task" || principal.task?.id !== id) {
        throw new CreditgateError("AUTH_FORBIDDEN", {
          message: "a task is completed with its own credential",
        });
      }
      const { holdId, parent } = principal.task;
      const released = await deps.store.release({
        tenant: principal.tenant,
        key: internalKey("task-complete", id),
        holdId,
        // The parent's decision placed the hold, so it is the parent's: settled as the parent
        // the signed credential names.
        ...deps.engine.settler(parent),
        audit: actorContext(principal, request),
      });
      if (
        !released.ok &&
        !["hold_expired", "hold_released", "hold_already_committed"].includes(released.code)
      ) {
        throw ledgerRefusal(released.code);
      }
      const revoked = await deps.revoke({
        tenant: principal.tenant,
        key: internalKey("task-revoke", id),
        kind: "task",
        subject: id,
        reason: "task completed",
        audit: actorContext(principal, request),
      });
      if (!revoked.ok) throw ledgerRefusal(revoked.code);
      const hold = await deps.store.holdStatus(principal.tenant, holdId);
      if (hold === null)
        throw new CreditgateError("INTERNAL", { message: "the task's hold is missing" });
      return {
        task_id: id,
        hold_id: holdId,
        budget: hold.amount,
        drawn: hold.drawn,
        released: released.ok ? released.value.released : 0,
        state: hold.state === "active" ? "released" : hold.state,
      };
    },
  });
};
