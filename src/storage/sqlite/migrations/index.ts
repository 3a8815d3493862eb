export { initial } from "./001-initial.js";
export { auditQuery } from "./002-audit-query.js";
