package creditgate_test

import data.creditgate

invalid_messages(patch) := {r.message |
	some r in decide(patch).reasons
	r.code == "INVALID_INPUT"
}

test_valid_input_has_no_invalid_reasons if {
	invalid_messages({}) == set()
}

test_principal_kind_must_be_known if {
	"principal.kind must be one of task, user, workload; got robot" in invalid_messages({"principal": {"kind": "robot"}})
}

test_principal_strings_required if {
	msgs := invalid_messages({"principal": {"id": "", "tenant": 7}})
	"principal.id must be a non-empty string" in msgs
	"principal.tenant must be a non-empty string" in msgs
}

test_missing_principal_reports_every_field if {
	d := creditgate.decision with input as object.remove(base, ["principal"])
	msgs := {r.message | some r in d.reasons}
	"principal.plan must be a non-empty string" in msgs
	"principal.roles must be an array of strings" in msgs
	"principal.scopes must be an array of strings" in msgs
}

test_roles_must_be_strings if {
	"principal.roles must be an array of strings" in invalid_messages({"principal": {"roles": ["admin", 1]}})
	"principal.scopes must be an array of strings" in invalid_messages({"principal": {"scopes": "tool.call"}})
}

test_non_string_role_is_ignored if {
	d := decide({"principal": {"roles": [1]}, "balances": {"paid": 0, "admin": 100}})
	not "admin" in d.draw_order
}

test_tenant_status_must_be_known if {
	"principal.tenant_status must be active or suspended" in invalid_messages({"principal": {"tenant_status": "gone"}})
}

test_action_type_required if {
	"action.type must be a non-empty string" in invalid_messages({"action": {"type": ""}})
}

test_action_strings if {
	msgs := invalid_messages({"action": {"model": 4, "tool": false, "workflow_id": []}})
	msgs == {"action.model must be a string", "action.tool must be a string", "action.workflow_id must be a string"}
}

test_units_must_be_object if {
	"action.units must be an object" in invalid_messages({"action": {"units": 3}})
}

test_units_bounds if {
	msgs := invalid_messages({"action": {"units": {
		"input_tokens": -1, "max_output_tokens": 1.5,
		"steps": 0, "budget": 1000000000001,
	}}})
	msgs == {
		"action.units.budget must be an integer in its range",
		"action.units.input_tokens must be an integer in its range",
		"action.units.max_output_tokens must be an integer in its range",
		"action.units.steps must be an integer in its range",
	}
}

test_invalid_units_are_not_priced if {
	d := decide({"action": {"type": "workflow.step", "units": {"steps": 0}}})
	codes(d) == ["INVALID_INPUT"]
}

test_balances_must_be_bounded_integers if {
	msgs := invalid_messages({"balances": {"trial": 1000000000001, "promo": null}})
	msgs == {
		"balances.promo must be an integer within +/-1e12",
		"balances.trial must be an integer within +/-1e12",
	}
}

test_invalid_balances_skip_affordability if {
	d := decide({"balances": {"trial": "lots"}})
	codes(d) == ["INVALID_INPUT"]
}

test_usage_must_be_non_negative_integers if {
	msgs := invalid_messages({"usage": {"calls_per_minute": -1, "workflow_steps": "3"}})
	msgs == {
		"usage.calls_per_minute must be a non-negative integer",
		"usage.workflow_steps must be a non-negative integer",
	}
}

test_invalid_usage_skips_velocity if {
	d := decide({"usage": {"calls_per_minute": 1000000, "credits_per_hour": -5}})
	codes(d) == ["INVALID_INPUT"]
}

test_now_required if {
	"now must be a non-empty RFC 3339 string" in invalid_messages({"now": ""})
	d := creditgate.decision with input as object.remove(base, ["now"])
	codes(d) == ["INVALID_INPUT"]
}

test_int_in if {
	creditgate.int_in(5, 0, 10)
	creditgate.int_in(-3, -5, 0)
	not creditgate.int_in(5.5, 0, 10)
	not creditgate.int_in(11, 0, 10)
	not creditgate.int_in("5", 0, 10)
}
