/**
 * Reads a Markdown walk-through as a script, so a test can run it as written and compare what
 * it prints with what the document shows.
 *
 * Conventions the documents follow (docs/README.md-style walk-throughs):
 * - Only ```sh blocks run; other blocks (```ts, plain ```) are shown, not run.
 * - In a block with `$ ` prompts, each `$ ` line starts a command; the following indented lines
 *   continue it; lines at the block's own indentation are the output it shows.
 * - A block without prompts is one script (here-documents and comments included), no output.
 * - Shown JSON is compared as the ordered sequence of its `"key": scalar` pairs, a subsequence
 *   of what really came out, so `...` and `…` may elide. `<placeholder>` matches any value of the
 *   same type, a string ending in `…` matches by prefix, and values that differ on every run
 *   (ids, instants, hashes) match by type and id prefix.
 */

export interface WalkthroughStep {
  /** The shell text to run. */
  readonly command: string;
  /** What the document shows it printing ("" when nothing is shown). */
  readonly shown: string;
  /** 1-based line of the document where the step starts, for failure messages. */
  readonly line: number;
}

/** The part of `markdown` from the heading `from` (inclusive) to the next heading of its level. */
export function section(markdown: string, from: string): string {
  const lines = markdown.split("\n");
  const start = lines.findIndex((line) => line.trim() === from);
  if (start < 0) throw new Error(`no heading ${JSON.stringify(from)}`);
  const level = /^#+/.exec(from)?.[0].length ?? 0;
  let end = lines.length;
  for (let i = start + 1; i < lines.length; i++) {
    const heading = /^(#+)\s/.exec(lines[i] as string);
    if (heading !== null && (heading[1] as string).length <= level) {
      end = i;
      break;
    }
  }
  // Keep line numbers meaningful: pad with the lines before the section.
  return [...lines.slice(0, start).map(() => ""), ...lines.slice(start, end)].join("\n");
}

interface Block {
  readonly lines: readonly string[];
  readonly line: number;
}

function shBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```sh\s*$/.exec(lines[i] as string);
    if (open === null) continue;
    const indent = (open[1] as string).length;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j] as string); j++) {
      body.push((lines[j] as string).slice(indent));
    }
    blocks.push({ lines: body, line: i + 2 });
    i = j;
  }
  return blocks;
}

export function walkthroughSteps(markdown: string): WalkthroughStep[] {
  const steps: WalkthroughStep[] = [];
  for (const block of shBlocks(markdown)) {
    if (!block.lines.some((line) => line.startsWith("$ "))) {
      steps.push({ command: block.lines.join("\n"), shown: "", line: block.line });
      continue;
    }
    let current: { command: string[]; shown: string[]; line: number } | null = null;
    const flush = () => {
      if (current !== null) {
        steps.push({
          command: current.command.join("\n"),
          shown: current.shown.join("\n"),
          line: current.line,
        });
      }
    };
    block.lines.forEach((text, offset) => {
      if (text.startsWith("$ ")) {
        flush();
        current = { command: [text.slice(2)], shown: [], line: block.line + offset };
      } else if (current === null) {
        throw new Error(`line ${block.line + offset}: output before any $ command`);
      } else if (/^\s/.test(text) && current.shown.length === 0) {
        current.command.push(text);
      } else {
        current.shown.push(text);
      }
    });
    flush();
  }
  return steps;
}

type Scalar = string | number | boolean | null;

interface Pair {
  readonly key: string;
  readonly value: Scalar;
}

const pairPattern =
  /"([A-Za-z0-9_]+)"\s*:\s*("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/g;

export function scalarPairs(text: string): Pair[] {
  return [...text.matchAll(pairPattern)].map((m) => ({
    key: m[1] as string,
    value: JSON.parse(m[2] as string) as Scalar,
  }));
}

/** Keys whose values differ on every run. */
const volatileKeys = new Set([
  "decision_id",
  "grant_id",
  "hold_id",
  "transfer_id",
  "reversed_transfer_id",
  "revocation_id",
  "request_id",
  "task_id",
  "key",
  "token",
  "at",
  "at_ms",
  "effective_at",
  "expires_at",
  "hash",
  "prev_hash",
  "policy_revision",
  "bundle_digest",
  "revision",
  "digest",
]);

function typeOf(value: Scalar): string {
  return value === null ? "null" : typeof value;
}

function idPrefix(value: string): string | undefined {
  return /^([a-z]{2,4}[_-])[0-9a-z]/.exec(value)?.[1];
}

function matches(shown: Pair, actual: Pair): boolean {
  if (shown.key !== actual.key) return false;
  const expected = shown.value;
  const got = actual.value;
  if (typeof expected === "string" && /<[^>]+>/.test(expected)) return typeof got === "string";
  if (volatileKeys.has(shown.key)) {
    if (typeOf(expected) !== typeOf(got)) return false;
    if (typeof expected === "string" && typeof got === "string") {
      return idPrefix(expected) === idPrefix(got);
    }
    return true;
  }
  if (typeof expected === "string" && expected.endsWith("…")) {
    return typeof got === "string" && got.startsWith(expected.slice(0, -1));
  }
  return expected === got;
}

/**
 * The shown pairs that the actual output does not contain, in order (empty: it matches).
 * Each shown pair must appear after the one before it.
 */
export function missingPairs(shown: string, actual: string): string[] {
  const want = scalarPairs(shown);
  const got = scalarPairs(actual);
  const missing: string[] = [];
  let at = 0;
  for (const pair of want) {
    let found = -1;
    for (let i = at; i < got.length; i++) {
      if (matches(pair, got[i] as Pair)) {
        found = i;
        break;
      }
    }
    if (found < 0) missing.push(`"${pair.key}":${JSON.stringify(pair.value)}`);
    else at = found + 1;
  }
  return missing;
}
