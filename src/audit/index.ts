export { canonicalize, type JsonValue } from "./canonical.js";
export {
  type AuditBody,
  type AuditKind,
  type AuditRecord,
  auditKinds,
  type ChainHead,
  emptyHead,
  genesisHash,
  hashRecord,
  linkRecord,
} from "./chain.js";
export { parseJsonLines, toJsonLine } from "./export.js";
export { type AuditIndexKeys, auditIndexKeys } from "./index-keys.js";
export { maskedValue, maskFields } from "./mask.js";
export { assertChainIntact, type ChainVerification, verifyChain } from "./verify.js";
