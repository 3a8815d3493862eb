/**
 * Version 4: holds record the principal that placed them (`holds.owner`, an opaque principal
 * key); only that principal settles the hold. Existing holds keep NULL: no owner, settled by
 * anyone of the tenant as before.
 */
export const holdOwner = {
  version: 4,
  name: "hold-owner",
  sql: `
ALTER TABLE holds ADD COLUMN owner TEXT;
`,
} as const;
