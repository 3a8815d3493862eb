/**
 * Version 5: a tenant's status (`tenants.status`, active or suspended), when it last changed and
 * why. Existing tenants are active and never changed (NULL time and reason). Every change is also
 * an audit record (kind `tenant_status`); these columns are what a decision's snapshot reads.
 */
export const tenantStatus = {
  version: 5,
  name: "tenant-status",
  sql: `
ALTER TABLE tenants ADD COLUMN status TEXT NOT NULL DEFAULT 'active'
  CHECK (status IN ('active', 'suspended'));
ALTER TABLE tenants ADD COLUMN status_at_ms INTEGER;
ALTER TABLE tenants ADD COLUMN status_reason TEXT;
`,
} as const;
