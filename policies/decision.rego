# The entrypoint, creditgate/decision. Every check adds to `deny`; the decision allows only
# when none fired and a price was computed. It is always defined (fail closed).
package creditgate

hard_stop_codes := {"TENANT_SUSPENDED", "TRIAL_HIGH_RISK_TOOL"}

# Defensive: a known, valid action with no computable price (bad data) must not allow.
fallback contains reason("POLICY_ERROR", "no price could be computed for this action") if {
	count(deny) == 0
	not priced
}

priced if {
	is_number(cost)
	is_number(hold)
	is_number(required)
	is_string(price_message)
}

deny_reasons := deny | fallback

default allowed := false

allowed if count(deny_reasons) == 0

allow_obligations["overdraft"] := overdraft

allow_obligations["max_output_tokens"] := output_tokens if needs_model

deny_obligations["hard_stop"] if {
	some r in deny
	r.code in hard_stop_codes
}

deny_obligations["retry_after_seconds"] := retry_after_seconds if count(breached) > 0

# METADATA
# entrypoint: true
# description: The decision for one metered action; see schemas/decision-result.schema.json.
default decision := {
	"allow": false,
	"cost": 0,
	"hold": 0,
	"draw_order": [],
	"obligations": {},
	"reasons": [{"code": "POLICY_ERROR", "message": "the policy produced no decision"}],
}

decision := {
	"allow": true,
	"cost": cost,
	"hold": hold,
	"draw_order": draw_order,
	"obligations": allow_obligations,
	"reasons": [reason("PRICE_APPLIED", price_message)],
} if {
	allowed
}

# Sorting an array of {code, message} objects orders by code, then message, the same in Go and Wasm.
decision := {
	"allow": false,
	"cost": 0,
	"hold": 0,
	"draw_order": [],
	"obligations": deny_obligations,
	"reasons": sort([r | some r in deny_reasons]),
} if {
	not allowed
}
