package creditgate_test

import data.creditgate

# A valid pro-plan request; tests patch only what they are about (object.union merges deeply).
base := {
	"principal": {"kind": "user", "id": "usr_1", "tenant": "acme", "plan": "pro", "roles": [], "scopes": []},
	"action": {"type": "prompt.submit"},
	"balances": {"trial": 0, "paid": 100000, "promo": 0, "admin": 0},
	"usage": {"calls_per_minute": 0, "credits_per_hour": 0, "workflow_steps": 0},
	"now": "2026-11-24T12:00:00Z",
}

decide(patch) := d if {
	d := creditgate.decision with input as object.union(base, patch)
}

codes(d) := [r.code | some r in d.reasons]

test_allow_prompt_submit if {
	d := decide({})
	d == {
		"allow": true,
		"cost": 10,
		"hold": 0,
		"draw_order": ["trial", "promo", "paid"],
		"obligations": {"overdraft": {"paid": 50000}},
		"reasons": [{"code": "PRICE_APPLIED", "message": "prompt.submit: 10 flat"}],
		"hold_carries_cost": false,
		"velocity": {
			"calls_per_minute": {"max": 600, "retry_after_seconds": 60},
			"credits_per_hour": {"max": 2000000, "retry_after_seconds": 3600},
		},
	}
}

test_deny_has_no_cost_hold_or_draw_order if {
	d := decide({"principal": {"tenant_status": "suspended"}})
	d.allow == false
	d.cost == 0
	d.hold == 0
	d.draw_order == []
	count(d.reasons) > 0
}

test_all_deny_reasons_reported_in_precedence_order if {
	d := decide({
		"principal": {"plan": "trial", "tenant_status": "suspended"},
		"action": {"type": "model.infer", "model": "gpt-4o"},
		"balances": {"trial": 1000000},
		"usage": {"calls_per_minute": 20},
	})
	codes(d) == ["TENANT_SUSPENDED", "MODEL_NOT_IN_PLAN", "VELOCITY_LIMIT"]
}

suspended_and_too_fast := {"principal": {"tenant_status": "suspended"}, "usage": {"calls_per_minute": 100000}}

test_precedence_follows_the_data_table if {
	d := decide(suspended_and_too_fast) with data.reasons.precedence as ["VELOCITY_LIMIT", "TENANT_SUSPENDED"]
	codes(d) == ["VELOCITY_LIMIT", "TENANT_SUSPENDED"]
}

# A code the table does not list comes after every listed one.
test_unlisted_codes_come_last if {
	d := decide(suspended_and_too_fast) with data.reasons.precedence as ["VELOCITY_LIMIT"]
	codes(d) == ["VELOCITY_LIMIT", "TENANT_SUSPENDED"]
}

test_same_code_sorted_by_message if {
	d := decide({"balances": {"trial": "x", "paid": 1.5}})
	[r.message | some r in d.reasons] == [
		"balances.paid must be an integer within +/-1e12",
		"balances.trial must be an integer within +/-1e12",
	]
}

test_non_object_input_denies if {
	d := creditgate.decision with input as "not an object"
	d.allow == false
	"INVALID_INPUT" in codes(d)
	{"code": "INVALID_INPUT", "message": "input must be an object"} in d.reasons
}

test_missing_input_denies if {
	d := creditgate.decision
	d.allow == false
	d.cost == 0
	every code in codes(d) {
		code == "INVALID_INPUT"
	}
}

test_unpriceable_action_is_policy_error if {
	d := decide({}) with data.prices.actions as {"prompt.submit": {"pricing": "flat"}}
	d.allow == false
	codes(d) == ["POLICY_ERROR"]
}

test_unknown_pricing_kind_is_policy_error if {
	d := decide({}) with data.prices.actions as {"prompt.submit": {"pricing": "per_token"}}
	codes(d) == ["POLICY_ERROR"]
}

test_hard_stop_only_for_hard_stop_codes if {
	d := decide({"action": {"type": "nope"}})
	codes(d) == ["UNKNOWN_ACTION"]
	d.obligations == {}
}
