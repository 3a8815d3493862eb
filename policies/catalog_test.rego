package creditgate_test

known_actions_text := "agent.task, model.infer, prompt.submit, tool.call, workflow.step"

known_models_text := "claude-sonnet, gpt-4o, gpt-4o-mini, llama-3-8b, o1"

known_tools_text := "calculator, code.exec, email.send, file.read, web.browse, web.search"

test_unknown_plan if {
	d := decide({"principal": {"plan": "platinum"}})
	codes(d) == ["UNKNOWN_PLAN"]
	d.reasons[0].message == "unknown plan platinum"
}

test_unknown_action if {
	d := decide({"action": {"type": "image.generate"}})
	codes(d) == ["UNKNOWN_ACTION"]
	d.reasons[0].message == concat("", ["unknown action type image.generate; this bundle knows: ", known_actions_text])
}

test_unknown_model if {
	d := decide({"action": {"type": "model.infer", "model": "gpt-9"}})
	codes(d) == ["UNKNOWN_MODEL"]
	d.reasons[0].message == concat("", ["unknown model gpt-9; this bundle knows: ", known_models_text])
}

test_missing_model if {
	d := decide({"action": {"type": "model.infer"}})
	d.reasons == [{
		"code": "UNKNOWN_MODEL",
		"message": concat("", ["model.infer needs action.model; this bundle knows: ", known_models_text]),
	}]
}

test_unpriced_model_is_unknown if {
	d := decide({"action": {"type": "model.infer", "model": "gpt-4o"}}) with data.prices.models as {}
	codes(d) == ["UNKNOWN_MODEL"]
}

test_unknown_tool if {
	d := decide({"action": {"type": "tool.call", "tool": "rm.rf"}})
	d.reasons == [{
		"code": "UNKNOWN_TOOL",
		"message": concat("", ["unknown tool rm.rf; this bundle knows: ", known_tools_text]),
	}]
}

test_missing_tool if {
	d := decide({"action": {"type": "tool.call"}})
	d.reasons == [{
		"code": "UNKNOWN_TOOL",
		"message": concat("", ["tool.call needs action.tool; this bundle knows: ", known_tools_text]),
	}]
}

test_unpriced_tool_is_unknown if {
	d := decide({"action": {"type": "tool.call", "tool": "web.search"}}) with data.prices.tools as {}
	d.reasons == [{"code": "UNKNOWN_TOOL", "message": "unknown tool web.search; this bundle knows none"}]
}

# Only models both catalogued and priced are offered.
test_unknown_model_lists_only_priced_models if {
	only_o1 := {"o1": {"input_per_1k": 1, "output_per_1k": 1}}
	d := decide({"action": {"type": "model.infer", "model": "gpt-9"}}) with data.prices.models as only_o1
	d.reasons[0].message == "unknown model gpt-9; this bundle knows: o1"
}

# A long catalogue is cut at known_names_max names, and the rest counted.
test_unknown_tool_message_is_bounded if {
	tools := {name: {"risk": "low", "description": "d"} |
		some i in numbers.range(10, 24)
		name := concat("", ["t", format_int(i, 10)])
	}
	prices := {name: 1 | some name, _ in tools}
	rm_rf := {"action": {"type": "tool.call", "tool": "rm.rf"}}
	d := decide(rm_rf) with data.tools as tools with data.prices.tools as prices
	d.reasons == [{
		"code": "UNKNOWN_TOOL",
		"message": "unknown tool rm.rf; this bundle knows: t10, t11, t12, t13, t14, t15, t16, t17, t18, t19 and 5 more",
	}]
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
