/**
 * docs/config.md is what the schema renders, every property of the schema says what it is for,
 * and every secret is marked so `config check` never prints it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  configFields,
  fieldsWithoutDescription,
  unmarkedSecrets,
} from "../../src/config/fields.js";
import { defaultConfig } from "../../src/config/load.js";
import { redactConfig, redactUrlCredentials } from "../../src/config/redact.js";
import { renderConfigReference } from "../../src/config/reference.js";
import { packageRoot } from "../../src/paths.js";

describe("the configuration reference", () => {
  it("docs/config.md is exactly what `npm run docs:config` renders", () => {
    const committed = readFileSync(join(packageRoot, "docs", "config.md"), "utf8");
    // On failure: run `npm run docs:config` and commit docs/config.md.
    expect(committed).toBe(renderConfigReference());
  });

  it("every property of the schema has a description (the list names those that do not)", () => {
    expect(fieldsWithoutDescription()).toEqual([]);
  });

  it("lists every property, including those of the issuer schema it refers to", () => {
    const paths = configFields().map((f) => f.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        "server.rate_limit.burst",
        "store.postgres.url",
        "identity.issuers[].claims.tenant",
        "tasks.key_publish_lead_seconds",
      ]),
    );
    // A JWKS is a document of its own, listed but not walked into.
    expect(paths).toContain("identity.issuers[].jwks");
    expect(paths.some((p) => p.startsWith("identity.issuers[].jwks."))).toBe(false);
  });
});

describe("secrets in the configuration", () => {
  it("every property named like a credential is marked writeOnly in the schema", () => {
    expect(unmarkedSecrets()).toEqual([]);
    expect(
      configFields()
        .filter((f) => f.secret)
        .map((f) => f.path),
    ).toEqual(["store.postgres.url"]);
  });

  it("masks a URL's password and credential query parameters, nothing else", () => {
    expect(redactUrlCredentials("postgres://u:pw@h:5432/db")).toBe(
      "postgres://u:[redacted]@h:5432/db",
    );
    expect(redactUrlCredentials("postgres://u:a:b@c@h/db")).toBe("postgres://u:[redacted]@h/db");
    expect(redactUrlCredentials("postgres://h/db?user=u&password=pw&x=1")).toBe(
      "postgres://h/db?user=u&password=[redacted]&x=1",
    );
    expect(redactUrlCredentials("postgres://u@h:5432/db")).toBe("postgres://u@h:5432/db");
    expect(redactUrlCredentials("postgres://h:5432/db")).toBe("postgres://h:5432/db");
  });

  it("redacts secret-named fields even when the schema does not know them, and URLs anywhere", () => {
    const config = {
      ...defaultConfig,
      store: { kind: "postgres", postgres: { url: "postgres://u:pw@h/db", pool_size: 4 } },
      identity: {
        dev_issuer: false,
        issuers: [{ issuer: "https://idp", jwks_url: "https://svc:key@idp/jwks" }],
      },
      webhooks: { signing_secret: "whsec_1", nested: [{ api_key: { any: "shape" } }] },
    };
    const shown = redactConfig(config) as typeof config;
    expect(shown.store.postgres.url).toBe("postgres://u:[redacted]@h/db");
    expect(shown.identity.issuers[0]?.jwks_url).toBe("https://svc:[redacted]@idp/jwks");
    expect(shown.webhooks).toEqual({
      signing_secret: "[redacted]",
      nested: [{ api_key: "[redacted]" }],
    });
    expect(shown.server).toEqual(defaultConfig.server);
    // The original is untouched.
    expect(config.store.postgres.url).toBe("postgres://u:pw@h/db");
  });
});
