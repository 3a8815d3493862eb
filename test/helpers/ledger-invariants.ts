/** After every ledger test: balances equal entries, floors hold, the chain verifies, history is untouched. */
import { createHash } from "node:crypto";
import { expect } from "vitest";
import type { StoreUnderTest } from "../storage/harness.js";

export interface HistoryDigest {
  readonly entries: number;
  readonly audit: number;
  readonly digest: string;
}

/** A digest of the first n entries and audit records, to prove later tests did not alter them. */
export async function historyDigest(
  sut: StoreUnderTest,
  upTo?: HistoryDigest,
): Promise<HistoryDigest> {
  const entries = await sut.raw(
    `SELECT entry_id, tenant, class, grant_id, transfer_id, kind, amount, ref_entry_id, at_ms FROM entries ORDER BY seq${
      upTo ? ` LIMIT ${upTo.entries}` : ""
    }`,
  );
  const audit = await sut.raw(
    `SELECT seq, prev_hash, hash, at_ms, kind, tenant, data FROM audit_records ORDER BY seq${
      upTo ? ` LIMIT ${upTo.audit}` : ""
    }`,
  );
  const normalise = (rows: unknown[]) =>
    JSON.stringify(rows, (_k, v: unknown) => (typeof v === "bigint" ? Number(v) : v)).replace(
      /"(-?\d+)"/g,
      "$1",
    );
  return {
    entries: entries.length,
    audit: audit.length,
    digest: createHash("sha256").update(normalise(entries)).update(normalise(audit)).digest("hex"),
  };
}

export async function expectLedgerInvariants(
  sut: StoreUnderTest,
  options: { floor?: number; before?: HistoryDigest } = {},
): Promise<HistoryDigest> {
  const report = await sut.store.checkInvariants();
  expect(report.problems).toEqual([]);
  const floor = options.floor ?? 0;
  const low = await sut.raw("SELECT tenant, class, posted - held AS available FROM balances");
  for (const row of low as { tenant: string; class: string; available: number | string }[]) {
    expect(
      Number(row.available),
      `${row.tenant}/${row.class} below its floor`,
    ).toBeGreaterThanOrEqual(floor);
  }
  if (options.before) {
    const again = await historyDigest(sut, options.before);
    expect(again.digest, "entries or audit records were altered").toBe(options.before.digest);
  }
  return historyDigest(sut);
}
