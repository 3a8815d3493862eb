/**
 * Version 3: holds that can be drawn from without being resolved. `holds.drawn` is what draws
 * spent (existing holds: 0, so they reserve all their parts as before); `holds.released` is what
 * a resolution gave back (NULL while active; existing released and expired holds gave back their
 * whole amount; existing committed holds did not record it and stay NULL). `hold_draws` records
 * each draw (append-only), so draws reconcile with entries and past balances see them.
 */
export const holdDraws = {
  version: 3,
  name: "hold-draws",
  sql: `
ALTER TABLE holds ADD COLUMN drawn INTEGER NOT NULL DEFAULT 0 CHECK (drawn >= 0 AND drawn <= amount);
ALTER TABLE holds ADD COLUMN released INTEGER CHECK (released IS NULL OR (released >= 0 AND released + drawn <= amount));
UPDATE holds SET released = amount WHERE state IN ('released', 'expired');

CREATE TABLE hold_draws (
  transfer_id TEXT PRIMARY KEY,
  hold_id TEXT NOT NULL,
  tenant TEXT NOT NULL,
  amount INTEGER NOT NULL CHECK (amount > 0),
  at_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX hold_draws_hold ON hold_draws (hold_id, at_ms);

CREATE TRIGGER hold_draws_no_update BEFORE UPDATE ON hold_draws
  BEGIN SELECT RAISE(ABORT, 'hold draws are append-only'); END;
CREATE TRIGGER hold_draws_no_delete BEFORE DELETE ON hold_draws
  BEGIN SELECT RAISE(ABORT, 'hold draws are append-only'); END;
`,
} as const;
