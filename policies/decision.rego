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

# An ended task spends nothing more: TASK_ENDED is its only reason, whatever else applies (its
# balances are zero once its hold is resolved, so INSUFFICIENT_CREDITS would only be noise).
deny_reasons := {reason("TASK_ENDED", task_ended_message)} if task_ended

deny_reasons := deny | fallback if not task_ended

default allowed := false

allowed if count(deny_reasons) == 0

allow_obligations["overdraft"] := overdraft

allow_obligations["max_output_tokens"] := output_tokens if needs_model

deny_obligations["hard_stop"] if {
	some r in deny_reasons
	r.code in hard_stop_codes
}

deny_obligations["retry_after_seconds"] := retry_after_seconds if {
	some r in deny_reasons
	r.code == "VELOCITY_LIMIT"
}

# Reasons come in the order of data.reasons.precedence, the primary reason first; a code not
# listed comes after every listed one, and one code's reasons come by message. Sorting arrays
# of [rank, code, message] orders the same in Go and Wasm.
reason_rank[code] := i if some i, code in data.reasons.precedence

rank(code) := object.get(reason_rank, code, count(reason_rank))

in_precedence(rs) := [reason(t[1], t[2]) | some t in sort([[rank(r.code), r.code, r.message] | some r in rs])]

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
	"hold_carries_cost": hold_carries_cost,
	"velocity": velocity_windows,
} if {
	allowed
}

decision := {
	"allow": false,
	"cost": 0,
	"hold": 0,
	"draw_order": [],
	"obligations": deny_obligations,
	"reasons": in_precedence(deny_reasons),
} if {
	not allowed
}
