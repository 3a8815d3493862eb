export { parseBearer } from "./bearer.js";
export type { CacheInvalidation } from "./cache.js";
export { mapTaskClaims, readClaim } from "./claims.js";
export {
  type DevTokenRequest,
  devAdminIssuer,
  devAudience,
  devIssuer,
  devIssuers,
  devIssuerUrl,
  devWorkloadIssuer,
  mintDevToken,
} from "./dev-issuer.js";
export {
  type ClaimMapping,
  defaultClaimMapping,
  type Issuer,
  type IssuerAlgorithm,
  type IssuerConfig,
  issuerAlgorithms,
  type Jwks,
  normalizeTyp,
  type PublicJwk,
  parseIssuerConfigs,
  taskTokenType,
} from "./issuer-config.js";
export {
  createKeyResolver,
  type KeyResolver,
  type KeyResolverFactory,
  type KeyResolverOptions,
} from "./keys.js";
export type {
  AdminScope,
  Principal,
  PrincipalKind,
  RevocationCheck,
  RevocationQuery,
  TaskCredential,
  VerifiedPrincipal,
} from "./types.js";
export {
  createIdentityVerifier,
  defaultAdminRole,
  defaultPlatformAdminRole,
  type IdentityStats,
  type IdentityVerifier,
  type IdentityVerifierOptions,
  tokenHashOf,
} from "./verifier.js";
