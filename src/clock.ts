/** An injectable clock: everything that depends on time takes one, so tests can move it. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  nowMs(): number;
}

export const systemClock: Clock = { nowMs: () => Date.now() };

/** A clock that only moves when told to; for tests and scenario scripts. */
export class ManualClock implements Clock {
  #nowMs: number;

  constructor(startMs: number | string = Date.UTC(2026, 0, 1)) {
    this.#nowMs = typeof startMs === "string" ? Date.parse(startMs) : startMs;
    if (!Number.isFinite(this.#nowMs)) throw new TypeError(`invalid start time: ${startMs}`);
  }

  nowMs(): number {
    return this.#nowMs;
  }

  tick(ms: number): void {
    if (!Number.isInteger(ms) || ms < 0) throw new TypeError("tick takes a non-negative integer");
    this.#nowMs += ms;
  }

  set(ms: number): void {
    this.#nowMs = ms;
  }
}

/** RFC 3339 timestamp in UTC with millisecond precision, as the policy input expects. */
export function toRfc3339(ms: number): string {
  return new Date(ms).toISOString();
}
