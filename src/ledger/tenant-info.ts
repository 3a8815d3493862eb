/** A tenant's status as the API and the CLI show it: one shape, RFC 3339 times. */
import { toRfc3339 } from "../clock.js";
import type { TenantInfo } from "./types.js";

export function tenantInfoJson(info: TenantInfo): {
  tenant: string;
  status: TenantInfo["status"];
  since: string | null;
  reason: string | null;
} {
  return {
    tenant: info.tenant,
    status: info.status,
    since: info.sinceMs === null ? null : toRfc3339(info.sinceMs),
    reason: info.reason,
  };
}
