package creditgate_test

test_admin_credits_only_for_admins if {
	decide({}).draw_order == ["trial", "promo", "paid"]
	decide({"principal": {"roles": ["admin"]}}).draw_order == ["trial", "promo", "paid", "admin"]
}

test_admin_credits_pay_for_admin if {
	d := decide({"principal": {"roles": ["admin"]}, "balances": {"paid": 0, "admin": 10}})
	d.allow == true
}

test_admin_credits_do_not_pay_for_others if {
	d := decide({"balances": {"paid": -50000, "admin": 1000}})
	d.reasons == [{"code": "INSUFFICIENT_CREDITS", "message": "needs 10, trial, promo, paid can pay 0"}]
}

test_high_risk_tool_drops_trial_credits if {
	d := decide({"action": {"type": "tool.call", "tool": "code.exec"}})
	d.allow == true
	d.draw_order == ["promo", "paid"]
}

test_low_risk_tool_keeps_trial_credits if {
	decide({"action": {"type": "tool.call", "tool": "file.read"}}).draw_order == ["trial", "promo", "paid"]
}

test_trial_plan_high_risk_tool_is_hard_stop if {
	d := decide({
		"principal": {"plan": "trial"},
		"action": {"type": "tool.call", "tool": "code.exec"},
		"balances": {"trial": 100000, "promo": 100000, "paid": 0},
	})
	d.reasons == [{"code": "TRIAL_HIGH_RISK_TOOL", "message": "trial credits never pay for high-risk tool code.exec"}]
	d.obligations == {"hard_stop": true}
}

test_trial_plan_low_risk_tool_allowed if {
	d := decide({
		"principal": {"plan": "trial"},
		"action": {"type": "tool.call", "tool": "web.search"},
		"balances": {"trial": 100},
	})
	d.allow == true
	d.draw_order == ["trial", "promo"]
	d.obligations == {"overdraft": {}}
}

test_high_risk_tool_with_only_trial_to_pay if {
	d := decide({"action": {"type": "tool.call", "tool": "email.send"}}) with data.plans.pro.draw_order as ["trial"]
	codes(d) == ["TRIAL_HIGH_RISK_TOOL", "INSUFFICIENT_CREDITS"]
	d.obligations.hard_stop == true
	{"code": "INSUFFICIENT_CREDITS", "message": "needs 100, no credit class can pay 0"} in d.reasons
}

test_sum_over_draw_order if {
	d := decide({"balances": {"trial": 3, "promo": 3, "paid": -49996}})
	d.allow == true
}

test_overdraft_floor if {
	decide({"balances": {"paid": -49990}}).allow == true
	d := decide({"balances": {"paid": -49991}})
	d.reasons == [{"code": "INSUFFICIENT_CREDITS", "message": "needs 10, trial, promo, paid can pay 9"}]
}

test_no_overdraft_on_trial if {
	d := decide({"principal": {"plan": "trial"}, "balances": {"trial": 9, "paid": 1000000}})
	d.reasons == [{"code": "INSUFFICIENT_CREDITS", "message": "needs 10, trial, promo can pay 9"}]
}

test_no_overdraft_for_tasks if {
	task := {"kind": "task", "id": "tsk_1", "scopes": ["prompt.submit"]}
	d := decide({"principal": task, "balances": {"paid": 9}})
	d.reasons == [{"code": "INSUFFICIENT_CREDITS", "message": "needs 10, trial, promo, paid can pay 9"}]
	decide({"principal": task, "balances": {"paid": 10}}).obligations.overdraft == {}
}

test_overdraft_obligation_only_for_paying_classes if {
	d := decide({"balances": {"promo": 10}}) with data.plans.pro.draw_order as ["trial", "promo"]
	d.allow == true
	d.obligations.overdraft == {}
}

test_zero_cost_allowed_with_nothing if {
	d := decide({
		"action": {"type": "model.infer", "model": "llama-3-8b", "units": {"max_output_tokens": 0}},
		"balances": {"paid": -50000},
	})
	d.allow == true
	d.cost == 0
}
