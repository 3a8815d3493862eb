/** Task tokens end to end: signed here, verified by the task issuer only, across key rotations. */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  devIssuer,
  mintDevToken,
  parseIssuerConfigs,
  taskTokenType,
} from "../../src/identity/index.js";
import { limits } from "../../src/limits.js";
import { signTaskToken, TaskKeyStore, taskIssuerConfig } from "../../src/tasks/index.js";
import {
  claimsFor,
  expectRefused,
  headerFor,
  issuerConfig,
  makeKey,
  signRaw,
} from "../identity/fixtures.js";
import {
  leadSeconds,
  newClock,
  second,
  taskRequest,
  tasksConfig,
  taskTestKey,
  taskVerifier,
  tempDir,
  ttlMaxSeconds,
} from "./fixtures.js";

let dir: string;
let remove: () => Promise<void>;
beforeEach(async () => {
  ({ dir, remove } = await tempDir());
});
afterEach(async () => {
  await remove();
});

const tolerance = limits.taskTokenClockToleranceSeconds * second;

describe("task tokens", () => {
  it("verify into task principals carrying the task, its hold, budget and parent", async () => {
    const clock = newClock();
    const store = await TaskKeyStore.open(tasksConfig(dir), { clock });
    const verifier = await taskVerifier(store, clock);
    const signed = await signTaskToken(store, taskRequest({ jti: "jti-task-1" }), clock.nowMs());
    const [headerPart = ""] = signed.token.split(".");
    expect(JSON.parse(Buffer.from(headerPart, "base64url").toString())).toEqual({
      alg: "EdDSA",
      kid: signed.kid,
      typ: taskTokenType,
    });
    expect(signed.expiresAtMs - signed.issuedAtMs).toBe(900 * second);
    const principal = await verifier.authenticate(signed.token);
    expect(principal).toEqual({
      kind: "task",
      id: "tsk_1",
      tenant: "acme",
      plan: "pro",
      roles: [],
      scopes: ["model.infer"],
      jti: "jti-task-1",
      expMs: signed.expiresAtMs,
      issuer: "urn:creditgate:tasks",
      tokenHash: expect.stringMatching(/^[0-9a-f]{64}$/),
      task: {
        id: "tsk_1",
        holdId: "hld_1",
        budget: 500,
        parent: { id: "usr_1", kind: "user", issuer: "https://dev.creditgate.local" },
      },
    });
    await expectRefused(verifier.authenticateAdmin(signed.token), "AUTH_FORBIDDEN");
  });

  it("are signed for at most ttl_seconds_max", async () => {
    const clock = newClock();
    const store = await TaskKeyStore.open(tasksConfig(dir), { clock });
    await expect(
      signTaskToken(store, taskRequest({ ttlSeconds: ttlMaxSeconds + 1 }), clock.nowMs()),
    ).rejects.toThrow(TypeError);
    const longest = await signTaskToken(
      store,
      taskRequest({ ttlSeconds: ttlMaxSeconds }),
      clock.nowMs(),
    );
    expect(longest.expiresAtMs - longest.issuedAtMs).toBe(ttlMaxSeconds * second);
  });

  it("are refused with AUTH_CLAIMS_INVALID when a task claim is missing or ill-typed", async () => {
    const clock = newClock();
    const store = await TaskKeyStore.open(tasksConfig(dir), { clock });
    const verifier = await taskVerifier(store, clock);
    const key = await taskTestKey(store, clock.nowMs());
    const config = taskIssuerConfig(store.config);
    const header = headerFor(key, { typ: taskTokenType });
    const base = claimsFor(config, clock, {
      sub: "tsk_1",
      act: { sub: "usr_1", kind: "user", iss: "https://dev.creditgate.local" },
      task: { id: "tsk_1", hold_id: "hld_1", budget: 10 },
    });
    expect((await verifier.authenticate(signRaw(key, header, base))).task?.budget).toBe(10);
    const variants: Record<string, unknown>[] = [
      { task: undefined },
      { act: undefined },
      { task: { id: "tsk_1", budget: 10 } },
      { task: { id: "tsk_1", hold_id: "hld_1", budget: "10" } },
      { task: { id: "tsk_1", hold_id: "hld_1", budget: 1.5 } },
      { task: { id: "tsk_1", hold_id: "hld_1", budget: 0 } },
      { task: { id: "tsk_2", hold_id: "hld_1", budget: 10 } },
      { act: { sub: "usr_1", kind: "admin", iss: "x" } },
      { act: { sub: "usr_1", kind: "user" } },
    ];
    for (const variant of variants) {
      const token = signRaw(key, header, { ...base, ...variant });
      await expectRefused(verifier.authenticate(token), "AUTH_CLAIMS_INVALID", token);
    }
  });

  it("are refused from any other issuer, and the task issuer refuses any other typ", async () => {
    const clock = newClock();
    const store = await TaskKeyStore.open(tasksConfig(dir), { clock });
    const userKey = makeKey("EdDSA", "idp-1");
    const users = issuerConfig([userKey]);
    const verifier = await taskVerifier(store, clock, [users]);

    // A user issuer's token claiming to be a task token.
    for (const typ of [taskTokenType, "application/creditgate-task+jwt", "CREDITGATE-TASK+JWT"]) {
      const token = signRaw(userKey, headerFor(userKey, { typ }), claimsFor(users, clock));
      await expectRefused(verifier.authenticate(token), "AUTH_TOKEN_INVALID", token);
    }
    // A user token (JWT typ) presented as a task: signed by a task key, but without the task typ.
    const taskKey = await taskTestKey(store, clock.nowMs());
    const taskClaims = claimsFor(taskIssuerConfig(store.config), clock, {
      sub: "tsk_1",
      act: { sub: "usr_1", kind: "user", iss: users.issuer },
      task: { id: "tsk_1", hold_id: "hld_1", budget: 10 },
    });
    for (const header of [headerFor(taskKey), headerFor(taskKey, { typ: undefined })]) {
      const token = signRaw(taskKey, header, taskClaims);
      await expectRefused(verifier.authenticate(token), "AUTH_TOKEN_INVALID", token);
    }
    // The task typ and issuer, signed by a key that is not a task key.
    const forged = signRaw(userKey, headerFor(userKey, { typ: taskTokenType }), taskClaims);
    await expectRefused(verifier.authenticate(forged), "AUTH_TOKEN_INVALID", forged);
    // A real user token from the development issuer is still a user principal, not a task.
    const withDev = await taskVerifier(store, clock, [devIssuer]);
    const dev = await mintDevToken({ sub: "usr_1", tenant: "acme", plan: "pro" }, clock);
    expect(await withDev.authenticate(dev)).not.toHaveProperty("task");
  });

  it("reserves the task typ and the task kind for the task issuer in configuration", () => {
    const key = makeKey("EdDSA");
    const refused = (issuers: unknown[]) => {
      try {
        parseIssuerConfigs(issuers);
      } catch (error) {
        return (error as { code?: string }).code;
      }
      return undefined;
    };
    expect(refused([issuerConfig([key], { typ: taskTokenType })])).toBe("CONFIG_INVALID");
    const task = taskIssuerConfig(tasksConfig(dir));
    expect(refused([task])).toBeUndefined();
    expect(refused([task, { ...task, issuer: "urn:other" }])).toBe("CONFIG_INVALID");
    expect(refused([{ ...task, typ: "JWT" }])).toBe("CONFIG_INVALID");
    expect(refused([{ ...task, algorithms: ["ES256"] }])).toBe("CONFIG_INVALID");
    expect(refused([{ ...task, admin: true }])).toBe("CONFIG_INVALID");
    expect(refused([{ ...task, jwks: { keys: [key.publicJwk] } }])).toBe("CONFIG_INVALID");
    expect(refused([task, issuerConfig([key], { issuer: task.issuer })])).toBe("CONFIG_INVALID");
  });
});

describe("key rotation as verifiers see it", () => {
  it("accepts the rotated-out key's tokens while published, refuses them once its tokens expired", async () => {
    const clock = newClock();
    const store = await TaskKeyStore.open(tasksConfig(dir), { clock });
    const verifier = await taskVerifier(store, clock);
    const oldKid = (await store.signingKey()).kid;
    const { added } = await store.rotate();
    const published = async () => (await store.publishedJwks()).keys.map((k) => k.kid).sort();
    expect(await published()).toEqual([oldKid, added.kid].sort());

    // The old key signs until the lead has passed.
    clock.tick(leadSeconds * second - 1_000);
    const last = await signTaskToken(
      store,
      taskRequest({ ttlSeconds: ttlMaxSeconds }),
      clock.nowMs(),
    );
    expect(last.kid).toBe(oldKid);
    clock.tick(1_000);
    const fresh = await signTaskToken(store, taskRequest(), clock.nowMs());
    expect(fresh.kid).toBe(added.kid);
    expect((await verifier.authenticate(fresh.token)).kind).toBe("task");
    expect((await verifier.authenticate(last.token)).kind).toBe("task");

    // The last old token lives until its exp (+ tolerance); its key is published that long.
    clock.set(last.expiresAtMs + tolerance - 1);
    expect((await verifier.authenticate(last.token)).id).toBe("tsk_1");
    expect(await published()).toContain(oldKid);

    // After every token it signed has expired, the key is gone and its kid unknown.
    clock.set(store.list().find((entry) => entry.key.kid === oldKid)!.publishedUntilMs!);
    expect(await published()).toEqual([added.kid]);
    const refusal = await expectRefused(verifier.authenticate(last.token), "AUTH_TOKEN_INVALID");
    expect(refusal.message).toMatch(/kid/);
  });

  it("verifies tokens of a key rotated in by another process once the file is re-read", async () => {
    const clock = newClock();
    const config = tasksConfig(dir);
    const here = await TaskKeyStore.open(config, { clock });
    const verifier = await taskVerifier(here, clock);
    const elsewhere = await TaskKeyStore.open(config, { clock });
    const { added } = await elsewhere.rotate();
    clock.tick(leadSeconds * second);
    const token = await signTaskToken(elsewhere, taskRequest(), clock.nowMs());
    expect(token.kid).toBe(added.kid);
    expect((await verifier.authenticate(token.token)).task?.holdId).toBe("hld_1");
    // And this process signs with the new key too, without a restart.
    expect((await here.signingKey()).kid).toBe(added.kid);
  });
});
