export { type TaskCredentials, taskCredentials } from "./credentials.js";
export { taskIssuerConfig, taskKeyResolver, taskKeyResolverFactory } from "./issuer.js";
export {
  type TaskKeyListing,
  type TaskKeyRotation,
  TaskKeyStore,
  type TaskKeyStoreOptions,
  type TaskSigningKey,
} from "./key-store.js";
export {
  generateTaskKey,
  initialKeySet,
  keyState,
  parseTaskKeySet,
  prune,
  publicJwkOf,
  publishedKeys,
  publishedUntilMs,
  rotate,
  serializeTaskKeySet,
  signingKey,
  type TaskJwk,
  type TaskKey,
  type TaskKeySet,
  type TaskKeyState,
  type TaskPrivateJwk,
  type TaskPublicJwk,
  thumbprint,
} from "./keyset.js";
export { type SignedTaskToken, signTaskToken, type TaskTokenRequest } from "./token.js";
