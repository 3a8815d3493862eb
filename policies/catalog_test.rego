package creditgate_test

test_unknown_plan if {
	d := decide({"principal": {"plan": "platinum"}})
	codes(d) == ["UNKNOWN_PLAN"]
	d.reasons[0].message == "unknown plan platinum"
}

test_unknown_action if {
	d := decide({"action": {"type": "image.generate"}})
	codes(d) == ["UNKNOWN_ACTION"]
	d.reasons[0].message == "unknown action type image.generate"
}

test_unknown_model if {
	d := decide({"action": {"type": "model.infer", "model": "gpt-9"}})
	codes(d) == ["UNKNOWN_MODEL"]
	d.reasons[0].message == "unknown model gpt-9"
}

test_missing_model if {
	d := decide({"action": {"type": "model.infer"}})
	d.reasons == [{"code": "UNKNOWN_MODEL", "message": "model.infer needs action.model"}]
}

test_unpriced_model_is_unknown if {
	d := decide({"action": {"type": "model.infer", "model": "gpt-4o"}}) with data.prices.models as {}
	codes(d) == ["UNKNOWN_MODEL"]
}

test_unknown_tool if {
	d := decide({"action": {"type": "tool.call", "tool": "rm.rf"}})
	d.reasons == [{"code": "UNKNOWN_TOOL", "message": "unknown tool rm.rf"}]
}

test_missing_tool if {
	d := decide({"action": {"type": "tool.call"}})
	d.reasons == [{"code": "UNKNOWN_TOOL", "message": "tool.call needs action.tool"}]
}

test_unpriced_tool_is_unknown if {
	d := decide({"action": {"type": "tool.call", "tool": "web.search"}}) with data.prices.tools as {}
	codes(d) == ["UNKNOWN_TOOL"]
}

test_action_not_in_plan if {
	d := decide({"principal": {"plan": "trial"}, "action": {"type": "agent.task"}, "balances": {"trial": 1000}})
	d.reasons == [{"code": "ACTION_NOT_IN_PLAN", "message": "plan trial does not include agent.task"}]
}

test_model_not_in_plan if {
	d := decide({
		"principal": {"plan": "trial"},
		"action": {"type": "model.infer", "model": "gpt-4o"},
		"balances": {"trial": 1000000},
	})
	d.reasons == [{"code": "MODEL_NOT_IN_PLAN", "message": "plan trial does not include model gpt-4o"}]
}

test_model_in_plan_by_name if {
	d := decide({"action": {"type": "model.infer", "model": "claude-sonnet"}})
	d.allow == true
}

test_wildcard_plan_allows_every_model if {
	d := decide({"principal": {"plan": "enterprise"}, "action": {"type": "model.infer", "model": "o1"}})
	d.allow == true
}

test_pro_excludes_o1 if {
	d := decide({"action": {"type": "model.infer", "model": "o1"}, "balances": {"paid": 1000000}})
	codes(d) == ["MODEL_NOT_IN_PLAN"]
}

test_tenant_suspended if {
	d := decide({"principal": {"tenant_status": "suspended"}})
	d.reasons == [{"code": "TENANT_SUSPENDED", "message": "tenant acme is suspended"}]
	d.obligations == {"hard_stop": true}
}

test_tenant_active_allows if {
	decide({"principal": {"tenant_status": "active"}}).allow == true
}
