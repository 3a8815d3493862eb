package creditgate_test

import data.creditgate

test_ceil_div if {
	creditgate.ceil_div(0, 1000) == 0
	creditgate.ceil_div(1, 1000) == 1
	creditgate.ceil_div(999, 1000) == 1
	creditgate.ceil_div(1000, 1000) == 1
	creditgate.ceil_div(1001, 1000) == 2
	creditgate.ceil_div(308500, 1000) == 309

	# The largest product the input bounds allow (1e8 tokens x 1e6 per 1k) stays exact.
	creditgate.ceil_div(100000000000001, 1000) == 100000000001
}

test_fmt if {
	creditgate.fmt(0) == "0"
	creditgate.fmt(-5) == "-5"
	creditgate.fmt(2147483647) == "2147483647"
	creditgate.fmt(2147483648) == "2147483648"
	creditgate.fmt(1000000000000) == "1000000000000"
	creditgate.fmt(1000000000007) == "1000000000007"
	creditgate.fmt(-2147483648) == "-2147483648"
	creditgate.fmt(-1000000050000) == "-1000000050000"
}

infer(requested) := decide({"action": {"type": "model.infer", "model": "gpt-4o", "units": requested}})

test_model_infer_defaults_output_to_model_max if {
	d := infer({"input_tokens": 1234})

	# ceil(1234 * 250 / 1000) = 309, plus 16384 output tokens at 1000/1k.
	d.cost == 16693
	d.hold == 16693
	d.obligations.max_output_tokens == 16384
	d.reasons == [{"code": "PRICE_APPLIED", "message": "model.infer gpt-4o: 250/1k input, 1000/1k output"}]
}

test_model_infer_clamps_output if {
	d := infer({"input_tokens": 0, "max_output_tokens": 1000000})
	d.obligations.max_output_tokens == 16384
	d.hold == 16384
}

test_model_infer_rounds_each_part_up if {
	d := decide({"action": {
		"type": "model.infer", "model": "gpt-4o-mini",
		"units": {"input_tokens": 1, "max_output_tokens": 1},
	}})
	d.cost == 2
	d.hold == 2
	d.obligations.max_output_tokens == 1
}

test_model_infer_hold_is_what_must_be_affordable if {
	d := decide({
		"action": {"type": "model.infer", "model": "gpt-4o", "units": {"input_tokens": 1000, "max_output_tokens": 1000}},
		"balances": {"paid": -48750},
	})
	d.allow == true
	d2 := decide({
		"action": {"type": "model.infer", "model": "gpt-4o", "units": {"input_tokens": 1000, "max_output_tokens": 1000}},
		"balances": {"paid": -48751},
	})
	codes(d2) == ["INSUFFICIENT_CREDITS"]
}

test_tool_call_price if {
	d := decide({"action": {"type": "tool.call", "tool": "web.search"}})
	d.cost == 50
	d.hold == 0
	d.reasons == [{"code": "PRICE_APPLIED", "message": "tool.call web.search: 50"}]
	not d.obligations.max_output_tokens
}

test_workflow_step_per_step if {
	d := decide({"action": {"type": "workflow.step", "units": {"steps": 3}}})
	d.cost == 60
	d.hold == 0
	d.reasons == [{"code": "PRICE_APPLIED", "message": "workflow.step: 20 per step x 3"}]
}

test_workflow_step_defaults_to_one_step if {
	decide({"action": {"type": "workflow.step"}}).cost == 20
}

test_agent_task_fee_and_budget_hold if {
	d := decide({"action": {"type": "agent.task", "units": {"budget": 20000}}})
	d.cost == 500
	d.hold == 20000
	d.reasons == [{"code": "PRICE_APPLIED", "message": "agent.task: 500 flat, budget 20000 held"}]
}

test_agent_task_needs_fee_plus_budget if {
	fits := decide({"action": {"type": "agent.task", "units": {"budget": 20000}}, "balances": {"paid": -29500}})
	fits.allow == true
	short := decide({"action": {"type": "agent.task", "units": {"budget": 20000}}, "balances": {"paid": -29501}})
	short.reasons == [{"code": "INSUFFICIENT_CREDITS", "message": "needs 20500, trial, promo, paid can pay 20499"}]
}

test_task_budget_exceeded if {
	d := decide({"action": {"type": "agent.task", "units": {"budget": 200001}}, "balances": {"paid": 1000000}})
	d.reasons == [{
		"code": "TASK_BUDGET_EXCEEDED",
		"message": "budget 200001 exceeds plan pro's max task budget 200000",
	}]
}

test_task_budget_at_limit_allowed if {
	decide({"action": {"type": "agent.task", "units": {"budget": 200000}}, "balances": {"paid": 1000000}}).allow == true
}

test_plan_without_task_budget_allows_none if {
	no_budget := {"pro": object.remove(data.plans.pro, ["max_task_budget"])}
	d := decide({"action": {"type": "agent.task", "units": {"budget": 1}}}) with data.plans as no_budget
	codes(d) == ["TASK_BUDGET_EXCEEDED"]
}

test_enterprise_still_metered if {
	d := decide({
		"principal": {"plan": "enterprise"},
		"action": {"type": "model.infer", "model": "o1", "units": {"input_tokens": 2000, "max_output_tokens": 500}},
	})
	d.allow == true
	d.cost == 6000
	d.draw_order == ["promo", "paid"]
}

# Whether the hold carries the whole cost follows the pricing kind, not the action's name.
test_hold_carries_cost_for_token_pricing_only if {
	infer({"input_tokens": 10}).hold_carries_cost == true
	decide({"action": {"type": "agent.task", "units": {"budget": 20000}}}).hold_carries_cost == false
	decide({}).hold_carries_cost == false
	decide({"action": {"type": "tool.call", "tool": "calculator"}}).hold_carries_cost == false
}

test_new_token_priced_action_carries_cost_in_hold if {
	prices := object.union(data.prices, {"actions": {"model.embed": {"pricing": "tokens"}}})
	embed := {"type": "model.embed", "model": "gpt-4o", "units": {"input_tokens": 1000, "max_output_tokens": 0}}
	d := decide({"action": embed}) with data.prices as prices
		with data.plans.pro.actions as ["model.embed"]
	d.allow == true
	d.hold_carries_cost == true
	d.cost == 250
	d.hold == 250
}

test_deny_has_no_hold_carries_cost if {
	d := decide({"principal": {"tenant_status": "suspended"}})
	d.allow == false
	not d.hold_carries_cost
}
