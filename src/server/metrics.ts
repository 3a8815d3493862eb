/**
 * What the service reports on /metrics: decisions by result and reason, decision latency, the
 * active bundle, ledger errors, authentication failures, HTTP responses by route and the
 * connections cut for holding the server open.
 */
import type { DecisionResponse } from "../decision/types.js";
import { Counter, Gauge, Histogram, Registry } from "../metrics/registry.js";

/** Seconds; spaced for a service whose decisions should take well under 5 ms. */
const latencyBucketsSeconds = [
  0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
] as const;

export class ServiceMetrics {
  readonly registry = new Registry();
  readonly decisions = this.registry.register(
    new Counter(
      "creditgate_decisions_total",
      "Decisions answered, by result (allow or deny) and first reason code.",
    ),
  );
  readonly decisionSeconds = this.registry.register(
    new Histogram(
      "creditgate_decision_duration_seconds",
      "Time from a verified request to its enforced and audited answer.",
      latencyBucketsSeconds,
    ),
  );
  readonly policyActive = this.registry.register(
    new Gauge("creditgate_policy_active", "The active policy bundle (1), by revision and digest."),
  );
  readonly policyActivations = this.registry.register(
    new Counter(
      "creditgate_policy_activations_total",
      "Bundle load attempts, by outcome (activated, unchanged, rejected).",
    ),
  );
  readonly ledgerErrors = this.registry.register(
    new Counter(
      "creditgate_ledger_errors_total",
      "Ledger refusals and store failures answered as errors, by code.",
    ),
  );
  readonly authFailures = this.registry.register(
    new Counter("creditgate_auth_failures_total", "Refused authentications, by error code."),
  );
  readonly httpResponses = this.registry.register(
    new Counter("creditgate_http_responses_total", "HTTP responses, by route and status code."),
  );
  readonly connectionsCut = this.registry.register(
    new Counter(
      "creditgate_connections_cut_total",
      "Connections the server closed on a client: by reason (headers_timeout, request_timeout, idle_timeout, connections_max, shutdown).",
    ),
  );

  observeDecision(response: DecisionResponse, elapsedMs: number): void {
    this.decisions.inc({
      result: response.allow ? "allow" : "deny",
      reason: response.reasons[0]?.code ?? "NONE",
    });
    this.decisionSeconds.observe(elapsedMs / 1000);
  }

  setActivePolicy(revision: string, digest: string): void {
    this.policyActive.reset();
    this.policyActive.set({ revision, digest }, 1);
  }

  render(): string {
    return this.registry.render();
  }
}
