/** The creditgate package: the embedded engine, the service, and their public types. */
export { loadConfig } from "./config/load.js";
export type { Config } from "./config/types.js";
export type { DecideRequest, DecisionResponse } from "./decision/types.js";
export { createEngine, type DecideOptions, type Engine, type EngineOptions } from "./embedded.js";
export { CreditgateError, type ErrorCode, errorSpecs, isCreditgateError } from "./errors.js";
export type { Principal, VerifiedPrincipal } from "./identity/index.js";
export type { LedgerStore } from "./ledger/port.js";
export type { Action, DecisionInput, DecisionResult, Obligations, Reason } from "./policy/types.js";
export { buildApp } from "./server/app.js";
export { createService, type Service, type ServiceOptions } from "./service/service.js";
