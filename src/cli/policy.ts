/** `creditgate policy build|promote|verify|eval|test`. */
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { parse as parseYaml } from "yaml";
import { CreditgateError } from "../errors.js";
import { packageRoot } from "../paths.js";
import { buildBundle, defaultLayout } from "../policy/build.js";
import { readBundleFile } from "../policy/bundle.js";
import { PolicyEvaluator } from "../policy/evaluator.js";
import { loadVerificationKey } from "../policy/keys.js";
import { runPolicyTests } from "../policy/policy-test.js";
import { promoteBundle } from "../policy/promote.js";
import type { DecisionInput } from "../policy/types.js";
import { type CliIO, UsageError } from "./io.js";
import { configOption, json, loadCliConfig } from "./options.js";

export const policyHelp = `Usage: creditgate policy <command> [options]

Commands:
  build [--check]              validate data, check, format-check, lint, compile to Wasm, sign,
                               write build/creditgate.tar.gz (nothing serves it yet); --check
                               compares the committed bundles/creditgate.tar.gz instead
  promote [FILE]               verify a built bundle (default build/creditgate.tar.gz) with the
                               service's key and replace the served bundle with it atomically
  verify FILE                  verify a bundle's signature, digests and manifest
  eval --input FILE            evaluate a decision input (JSON or YAML) with a bundle
  test                         Rego unit tests with coverage, then golden cases through Wasm

Options:
  --bundle FILE                bundle for verify/eval (default bundles/creditgate.tar.gz)
  --to FILE                    promote: the served bundle (default the configuration's policy.bundle)
  --config FILE                promote: the service configuration (policy.bundle, policy.public_key,
                               policy.algorithm; default $CREDITGATE_CONFIG, else built-in defaults)
  --public-key FILE            verification key, PEM (default $CREDITGATE_BUNDLE_PUBLIC_KEY or the dev key)
  --signing-key FILE           signing key, PEM (default $CREDITGATE_BUNDLE_SIGNING_KEY or the dev key)
  --signing-alg ALG            ES256 (default), ES384, ES512, RS256, PS256, EdDSA
  --allow-unsigned             development only: accept a bundle without a signature
  --coverage-threshold N       policy test: minimum Rego coverage percent (default 90)
`;

export const devSigningKeyPath = join(packageRoot, "keys", "dev", "bundle-signing.key.pem");
export const devPublicKeyPath = join(packageRoot, "keys", "dev", "bundle-signing.pub.pem");

function keyPaths(
  io: CliIO,
  values: {
    "public-key"?: string | undefined;
    "signing-key"?: string | undefined;
    "signing-alg"?: string | undefined;
  },
) {
  return {
    publicKeyPath: values["public-key"] ?? io.env.CREDITGATE_BUNDLE_PUBLIC_KEY ?? devPublicKeyPath,
    signingKeyPath:
      values["signing-key"] ?? io.env.CREDITGATE_BUNDLE_SIGNING_KEY ?? devSigningKeyPath,
    algorithm: values["signing-alg"] ?? io.env.CREDITGATE_BUNDLE_SIGNING_ALG ?? "ES256",
  };
}

export async function policyCommand(args: readonly string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      check: { type: "boolean" },
      bundle: { type: "string" },
      to: { type: "string" },
      ...configOption,
      input: { type: "string" },
      "public-key": { type: "string" },
      "signing-key": { type: "string" },
      "signing-alg": { type: "string" },
      "allow-unsigned": { type: "boolean" },
      "coverage-threshold": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || command === undefined) {
    io.stdout(policyHelp);
    return command === undefined && !values.help ? 2 : 0;
  }
  const layout = defaultLayout(packageRoot);
  const keys = keyPaths(io, values);
  const bundlePath = resolve(io.cwd, values.bundle ?? rest[0] ?? layout.bundleFile);

  switch (command) {
    case "build": {
      if (keys.signingKeyPath === devSigningKeyPath && !values.check) {
        io.stderr(
          "note: signing with the DEVELOPMENT key in keys/dev; set CREDITGATE_BUNDLE_SIGNING_KEY for real bundles\n",
        );
      }
      const report = await buildBundle({
        layout,
        signing: { privateKeyPath: keys.signingKeyPath, algorithm: keys.algorithm },
        check: values.check ?? false,
        onStep: (step) => io.stderr(`policy build: ${step}\n`),
      });
      io.stdout(
        values.check
          ? `bundle up to date: ${report.bundleFile} (revision ${report.revision})\n`
          : `wrote ${report.bundleFile} (revision ${report.revision}); services keep their bundle until \`creditgate policy promote\`\n`,
      );
      return 0;
    }
    case "promote": {
      if (rest.length > 1) throw new UsageError(`unexpected argument "${rest[1]}"`);
      // The service's own trust: what promote accepts is what a running service accepts.
      const config = await loadCliConfig(io, values.config);
      const report = await promoteBundle({
        from: resolve(io.cwd, rest[0] ?? layout.buildFile),
        to: values.to === undefined ? config.policy.bundle : resolve(io.cwd, values.to),
        verificationKey: await loadVerificationKey({
          publicKeyPath:
            values["public-key"] === undefined
              ? config.policy.public_key
              : resolve(io.cwd, values["public-key"]),
          algorithm: values["signing-alg"] ?? config.policy.algorithm,
        }),
      });
      io.stdout(
        json({
          ok: true,
          promoted: report.to,
          revision: report.revision,
          digest: report.digest,
          signed_by: report.signedBy,
        }),
      );
      return 0;
    }
    case "verify": {
      const bundle = await readBundleFile(bundlePath, {
        verificationKey: await loadVerificationKey({
          publicKeyPath: keys.publicKeyPath,
          algorithm: keys.algorithm,
        }),
        allowUnsigned: values["allow-unsigned"] ?? false,
      });
      // Instantiating the module proves the Wasm is loadable, not only well signed.
      await PolicyEvaluator.create(bundle);
      io.stdout(
        `${JSON.stringify({ ok: true, revision: bundle.revision, digest: bundle.digest, signed_by: bundle.signedBy }, null, 2)}\n`,
      );
      return 0;
    }
    case "eval": {
      if (values.input === undefined) throw new UsageError("policy eval needs --input FILE");
      let input: unknown;
      try {
        input = parseYaml(await readFile(resolve(io.cwd, values.input), "utf8"));
      } catch (cause) {
        throw new CreditgateError("POLICY_INPUT_INVALID", {
          message: `cannot read input ${values.input}`,
          cause,
        });
      }
      const bundle = await readBundleFile(bundlePath, {
        verificationKey: await loadVerificationKey({
          publicKeyPath: keys.publicKeyPath,
          algorithm: keys.algorithm,
        }),
        allowUnsigned: values["allow-unsigned"] ?? false,
      });
      const evaluator = await PolicyEvaluator.create(bundle);
      const result = evaluator.evaluate(input as DecisionInput);
      io.stdout(`${JSON.stringify({ ...result, policy_revision: bundle.revision }, null, 2)}\n`);
      return 0;
    }
    case "test": {
      const threshold = Number(values["coverage-threshold"] ?? "90");
      if (!Number.isFinite(threshold) || threshold < 0 || threshold > 100) {
        throw new UsageError("--coverage-threshold takes a percentage between 0 and 100");
      }
      const report = await runPolicyTests({
        layout,
        fixturesDir: join(packageRoot, "test", "fixtures", "decisions"),
        coverageThresholdPercent: threshold,
      });
      io.stdout(
        `rego tests: ${report.testsPassed} passed, coverage ${report.coveragePercent.toFixed(1)}% (threshold ${threshold}%)\n` +
          `golden cases: ${report.golden.length} passed through the compiled Wasm bundle\n`,
      );
      return 0;
    }
    default:
      throw new UsageError(`unknown policy command "${command}"`);
  }
}
