export { type OpResult, type RefusalCode, type ResultCode, resultCodes } from "./codes.js";
export { compareGrants, type DrawClass, type DrawGrant, type DrawPlan, planDraw } from "./draw.js";
export { type EngineOptions, LedgerEngine, requestFingerprint } from "./engine.js";
export type { AuditPage, AuditQuery, InvariantReport, LedgerStore } from "./port.js";
export type { ChangeSet, LedgerTx } from "./rows.js";
export * from "./types.js";
