export { initial } from "./001-initial.js";
export { auditQuery } from "./002-audit-query.js";
export { holdDraws } from "./003-hold-draws.js";
export { holdOwner } from "./004-hold-owner.js";
export { tenantStatus } from "./005-tenant-status.js";
