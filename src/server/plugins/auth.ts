/**
 * Authentication for routes: `authenticate("user")` for decision and hold routes (any trusted
 * non-admin issuer), `authenticate("admin")` for admin routes (only the admin issuer's tokens
 * with the admin role). The verified principal is attached to the request; a failure answers
 * with its AUTH_* code and is reported (for the audit trail and metrics) without the token.
 */
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from "fastify";
import fp from "fastify-plugin";
import { CreditgateError } from "../../errors.js";
import {
  type IdentityVerifier,
  parseBearer,
  type VerifiedPrincipal,
} from "../../identity/index.js";
import { tokenHashOf } from "../../identity/verifier.js";

declare module "fastify" {
  interface FastifyRequest {
    /** Set by an authenticate hook; null on routes that do not authenticate. */
    principal: VerifiedPrincipal | null;
  }
}

export type AuthAudience = "user" | "admin";

/** One refused authentication, safe to store: a hash of the token at most, never the token. */
export interface AuthFailure {
  readonly code: string;
  readonly audience: AuthAudience;
  readonly method: string;
  readonly route: string;
  readonly ip: string;
  readonly requestId: string;
  readonly tokenHash: string | null;
  /** A verified admin refused another tenant (tenant-scope.ts): who it is ... */
  readonly principal?: { readonly kind: string; readonly id: string; readonly tenant: string };
  /** ... and the tenant it tried to act on. */
  readonly targetTenant?: string;
}

export interface AuthOptions {
  readonly identity: IdentityVerifier;
  /** Awaited before the 401 goes out, so a burst of failures is paced by the audit trail. */
  readonly onFailure: (failure: AuthFailure) => Promise<void>;
}

export const authPlugin = fp(
  async (app) => {
    app.decorateRequest("principal", null);
  },
  { name: "creditgate-auth" },
);

export function authenticate(
  audience: AuthAudience,
  options: AuthOptions,
): onRequestAsyncHookHandler {
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    let tokenHash: string | null = null;
    try {
      const token = parseBearer(request.headers.authorization);
      tokenHash = tokenHashOf(token);
      request.principal =
        audience === "admin"
          ? await options.identity.authenticateAdmin(token)
          : await options.identity.authenticate(token);
    } catch (error) {
      if (!(error instanceof CreditgateError)) throw error;
      await options.onFailure({
        code: error.code,
        audience,
        method: request.method,
        route: request.routeOptions.url ?? request.url,
        ip: request.ip,
        requestId: request.id,
        tokenHash,
      });
      throw error;
    }
  };
}
