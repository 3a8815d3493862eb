/** The walk-through reader the README test relies on: steps, shown output, and matching. */
import { describe, expect, it } from "vitest";
import { missingPairs, section, walkthroughSteps } from "../helpers/walkthrough.js";

const doc = [
  "# Title",
  "## Part",
  "```sh",
  "export A=1",
  "```",
  "- item",
  "  ```sh",
  "  $ curl -s x \\",
  "      -d '{}'",
  '  {"allow":true,"cost":10,"decision_id":"dec_abc"}',
  "  $ echo two",
  "  two",
  "  ```",
  "```ts",
  "not run",
  "```",
  "## Next",
  "```sh",
  "outside",
  "```",
].join("\n");

describe("walkthroughSteps", () => {
  it("reads prompts, continuations and shown output, only in sh blocks of the section", () => {
    const steps = walkthroughSteps(section(doc, "## Part"));
    expect(steps).toEqual([
      { command: "export A=1", shown: "", line: 4 },
      {
        command: "curl -s x \\\n    -d '{}'",
        shown: '{"allow":true,"cost":10,"decision_id":"dec_abc"}',
        line: 8,
      },
      { command: "echo two", shown: "two", line: 11 },
    ]);
  });
});

describe("missingPairs", () => {
  const shown = '{"allow":false,"cost":0,"decision_id":"dec_06h0","reasons":[{"code":"X"}],...}';

  it("accepts the same fields in order with other ids and elided parts", () => {
    const actual =
      '{"allow":false,"balances":{"trial":0},"cost":0,"decision_id":"dec_zzzz","reasons":[{"code":"X","message":"m"}]}';
    expect(missingPairs(shown, actual)).toEqual([]);
  });

  it("names a value that differs, a code that is missing and an id of another kind", () => {
    expect(
      missingPairs(shown, '{"allow":true,"cost":0,"decision_id":"dec_1","reasons":[]}'),
    ).toEqual(['"allow":false', '"code":"X"']);
    expect(
      missingPairs(
        shown,
        '{"allow":false,"cost":0,"decision_id":"hld_1","reasons":[{"code":"X"}]}',
      ),
    ).toEqual(['"decision_id":"dec_06h0"']);
  });

  it("treats <placeholders> as any value of the type and … as a prefix", () => {
    expect(
      missingPairs('{"v":"<revision>","m":"needs 10…"}', '{"v":"abc","m":"needs 10, trial"}'),
    ).toEqual([]);
    expect(missingPairs('{"m":"needs 10…"}', '{"m":"needs 20"}')).toEqual(['"m":"needs 10…"']);
  });

  it("requires the order shown", () => {
    expect(missingPairs('{"a":1,"b":2}', '{"b":2,"a":1}')).toEqual(['"b":2']);
  });
});
