package creditgate_test

as_workload(scopes, action) := decide({
	"principal": {"kind": "workload", "id": "wkl_1", "scopes": scopes},
	"action": action,
})

test_users_are_not_scope_checked if {
	decide({"principal": {"scopes": []}}).allow == true
}

test_workload_needs_action_scope if {
	as_workload(["prompt.submit"], {"type": "prompt.submit"}).allow == true
	d := as_workload(["model.infer"], {"type": "prompt.submit"})
	d.reasons == [{"code": "SCOPE_DENIED", "message": "workload wkl_1 has no scope for prompt.submit"}]
}

test_task_is_scope_checked if {
	d := decide({"principal": {"kind": "task", "id": "tsk_1", "scopes": []}})
	codes(d) == ["SCOPE_DENIED"]
}

test_tool_scope_allows_one_tool if {
	as_workload(["tool.call:web.search"], {"type": "tool.call", "tool": "web.search"}).allow == true
	d := as_workload(["tool.call:web.search"], {"type": "tool.call", "tool": "code.exec"})
	d.reasons == [{"code": "SCOPE_DENIED", "message": "workload wkl_1 has no scope for tool.call:code.exec"}]
}

test_action_scope_allows_every_tool if {
	as_workload(["tool.call"], {"type": "tool.call", "tool": "code.exec"}).allow == true
}

test_model_scope_allows_one_model if {
	as_workload(["model.infer:gpt-4o"], {"type": "model.infer", "model": "gpt-4o"}).allow == true
	codes(as_workload(["model.infer:gpt-4o"], {"type": "model.infer", "model": "claude-sonnet"})) == ["SCOPE_DENIED"]
}

test_task_cannot_start_a_task if {
	task := {"kind": "task", "id": "tsk_1", "scopes": ["agent.task"]}
	d := decide({"principal": task, "action": {"type": "agent.task", "units": {"budget": 100}}})
	d.allow == false
	d.reasons == [{"code": "TASK_NESTING_DENIED", "message": "task tsk_1 cannot start a task"}]
	d.cost == 0
	d.hold == 0
}

test_workload_can_start_a_task if {
	d := as_workload(["agent.task"], {"type": "agent.task", "units": {"budget": 100}})
	d.allow == true
}
