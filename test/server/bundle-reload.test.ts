/**
 * The bundle lifecycle while serving: a bad bundle dropped in place is rejected and decisions
 * continue on the last good revision; a good one activates (on a file change or SIGHUP's
 * reload); every activation and rejection is an audit record and shows on /metrics.
 */
import { copyFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  committedBundleFiles,
  committedBundlePath,
  devSigningKey,
  repack,
  utf8,
} from "../helpers/bundles.js";
import { decisionHeaders, startTestService, type TestService } from "../helpers/service.js";

let svc: TestService;
let bundlePath: string;

beforeAll(async () => {
  svc = await startTestService({
    configure: async (config, dir) => {
      bundlePath = join(dir, "bundle.tar.gz");
      await copyFile(committedBundlePath, bundlePath);
      return { ...config, policy: { ...config.policy, bundle: bundlePath, watch: true } };
    },
  });
  await svc.grant("acme", "paid", 10_000);
});
afterAll(async () => {
  await svc?.close();
});

/** Replaces the bundle the way deploys do: write beside it, rename over it. */
async function dropInPlace(bytes: Uint8Array): Promise<void> {
  const staged = `${bundlePath}.staged`;
  await writeFile(staged, bytes);
  await rename(staged, bundlePath);
}

async function withRevision(revision: string): Promise<Buffer> {
  const files = await committedBundleFiles();
  const manifest = JSON.parse(Buffer.from(files.get(".manifest") as Uint8Array).toString());
  return repack(
    files,
    { ".manifest": utf8(JSON.stringify({ ...manifest, revision })) },
    await devSigningKey(),
  );
}

interface PolicyRecord {
  data: { context: { event: string; revision?: string; code?: string; kept_revision?: string } };
}

async function policyRecords(): Promise<PolicyRecord[]> {
  const page = await svc.request("GET", "/v1/audit?kind=policy", { token: await svc.adminToken() });
  return (page.body as { records: PolicyRecord[] }).records;
}

async function until(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function decide(key: string) {
  const res = await svc.request("POST", "/v1/decisions", {
    token: await svc.userToken(),
    headers: decisionHeaders(key),
    body: { action: { type: "prompt.submit" } },
  });
  expect(res.status).toBe(200);
  return res.body as { allow: boolean; policy_revision: string };
}

it("rejects a bad bundle, keeps deciding on the good one, then activates a good one", async () => {
  const good = svc.service.policy.current.revision;
  const startup = await policyRecords();
  expect(startup.map((r) => r.data.context)).toEqual([
    expect.objectContaining({ event: "activated", revision: good }),
  ]);

  // Tampered data under the old signature: the watcher sees it and refuses it.
  await dropInPlace(
    await repack(await committedBundleFiles(), { "data.json": utf8('{"plans":{}}') }),
  );
  await until(async () => (await policyRecords()).length === 2);
  const rejected = (await policyRecords())[1]?.data.context;
  expect(rejected).toMatchObject({ event: "rejected", kept_revision: good });
  expect(rejected?.code).toMatch(/^BUNDLE_/);
  expect(await decide("during-bad")).toMatchObject({ allow: true, policy_revision: good });

  // A good bundle with a new revision: activated, and decisions report it.
  await dropInPlace(await withRevision("next-revision"));
  await until(async () => svc.service.policy.current.revision === "next-revision");
  expect(await decide("after-good")).toMatchObject({
    allow: true,
    policy_revision: "next-revision",
  });
  await until(async () => (await policyRecords()).length === 3);
  expect((await policyRecords())[2]?.data.context).toMatchObject({
    event: "activated",
    revision: "next-revision",
  });

  // SIGHUP's path: an explicit reload of an unchanged file changes nothing and records nothing.
  expect((await svc.service.reload()).kind).toBe("unchanged");
  expect(await policyRecords()).toHaveLength(3);

  const metrics = await svc.request("GET", "/metrics");
  expect(metrics.text).toContain('creditgate_policy_active{digest="');
  expect(metrics.text).toContain('revision="next-revision"} 1');
  expect(metrics.text).toContain('creditgate_policy_activations_total{outcome="rejected"} 1');
});
