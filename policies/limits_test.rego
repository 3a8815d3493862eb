package creditgate_test

three_steps := {"type": "workflow.step", "workflow_id": "wf_1", "units": {"steps": 3}}

test_calls_per_minute_under_limit if {
	decide({"usage": {"calls_per_minute": 599}}).allow == true
}

test_calls_per_minute_breach if {
	d := decide({"usage": {"calls_per_minute": 600}})
	d.reasons == [{"code": "VELOCITY_LIMIT", "message": "calls_per_minute would reach 601, over plan pro's limit of 600"}]
	d.obligations == {"retry_after_seconds": 60}
}

test_credits_per_hour_breach if {
	decide({"usage": {"credits_per_hour": 1999990}}).allow == true
	d := decide({"usage": {"credits_per_hour": 1999991}})
	d.reasons == [{
		"code": "VELOCITY_LIMIT",
		"message": "credits_per_hour would reach 2000001, over plan pro's limit of 2000000",
	}]
	d.obligations.retry_after_seconds == 3600
}

test_workflow_steps_only_with_workflow_id if {
	decide({"usage": {"workflow_steps": 5000}}).allow == true
	d := decide({"usage": {"workflow_steps": 1998}, "action": three_steps})
	codes(d) == ["VELOCITY_LIMIT"]
	d.reasons[0].message == "workflow_steps would reach 2001, over plan pro's limit of 2000"
}

test_workflow_steps_at_limit_allowed if {
	d := decide({"usage": {"workflow_steps": 1997}, "action": three_steps})
	d.allow == true
}

test_every_breach_reported_with_longest_retry if {
	d := decide({
		"principal": {"plan": "trial"},
		"action": {"workflow_id": "wf_1"},
		"balances": {"trial": 1000},
		"usage": {"calls_per_minute": 20, "credits_per_hour": 20000, "workflow_steps": 50},
	})
	codes(d) == ["VELOCITY_LIMIT", "VELOCITY_LIMIT", "VELOCITY_LIMIT"]
	d.obligations == {"retry_after_seconds": 3600}
}

test_plan_without_limits_denies if {
	d := decide({}) with data.limits.velocity as {}
	codes(d) == ["VELOCITY_LIMIT", "VELOCITY_LIMIT"]
}

test_non_numeric_limit_denies if {
	d := decide({}) with data.limits.velocity as {"pro": {"calls_per_minute": "many", "credits_per_hour": 10000}}
	d.reasons == [{"code": "VELOCITY_LIMIT", "message": "calls_per_minute would reach 1, over plan pro's limit of 0"}]
}

test_enterprise_huge_limits if {
	d := decide({
		"principal": {"plan": "enterprise"},
		"usage": {"calls_per_minute": 99999, "credits_per_hour": 999999999990},
	})
	d.allow == true
}

# The result carries the windows an action counts against with the plan's maxima, so the ledger
# enforces exactly what the policy checked.
test_velocity_windows_of_an_allow if {
	decide({}).velocity == {
		"calls_per_minute": {"max": 600, "retry_after_seconds": 60},
		"credits_per_hour": {"max": 2000000, "retry_after_seconds": 3600},
	}
}

test_velocity_windows_include_workflow_steps_with_a_workflow if {
	d := decide({"action": three_steps})
	d.velocity.workflow_steps == {"max": 2000, "retry_after_seconds": 3600}
	count(d.velocity) == 3
}

test_velocity_windows_follow_the_plan if {
	d := decide({"principal": {"plan": "trial"}, "balances": {"trial": 1000}})
	d.velocity.calls_per_minute.max == 20
	d.velocity.credits_per_hour.max == 20000
}

test_velocity_window_retry_defaults_to_a_minute if {
	d := decide({}) with data.limits.retry_after_seconds as {}
	d.velocity.credits_per_hour.retry_after_seconds == 60
}

test_deny_has_no_velocity_windows if {
	d := decide({"usage": {"calls_per_minute": 600}})
	not d.velocity
}
