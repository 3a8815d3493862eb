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
ALTER TABLE holds
  ADD COLUMN drawn BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN released BIGINT;
UPDATE holds SET released = amount WHERE state IN ('released', 'expired');
ALTER TABLE holds
  ADD CONSTRAINT holds_drawn_range CHECK (drawn >= 0 AND drawn <= amount),
  ADD CONSTRAINT holds_released_range
    CHECK (released IS NULL OR (released >= 0 AND released + drawn <= amount));

CREATE TABLE hold_draws (
  transfer_id TEXT PRIMARY KEY,
  hold_id TEXT NOT NULL,
  tenant TEXT NOT NULL,
  amount BIGINT NOT NULL CHECK (amount > 0),
  at_ms BIGINT NOT NULL
);
CREATE INDEX hold_draws_hold ON hold_draws (hold_id, at_ms);

CREATE TRIGGER hold_draws_append_only BEFORE UPDATE OR DELETE ON hold_draws
  FOR EACH ROW EXECUTE FUNCTION creditgate_append_only();
CREATE TRIGGER hold_draws_no_truncate BEFORE TRUNCATE ON hold_draws
  FOR EACH STATEMENT EXECUTE FUNCTION creditgate_append_only();
`,
} as const;
