# Scopes. Workload and task principals act only within their scopes: "model.infer" allows that
# action type, "tool.call:web.search" allows one tool, "tool.call" all tools. Users are
# governed by their plan and roles, not scopes.
package creditgate

scoped_kinds := {"workload", "task"}

# The narrowest scope that allows this action, named in the deny message.
default required_scope := ""

required_scope := concat(":", [action_type, target]) if target != ""

required_scope := action_type if target == ""

scope_ok if action_type in scopes

scope_ok if {
	target != ""
	concat(":", [action_type, target]) in scopes
}

deny contains reason("SCOPE_DENIED", concat("", [kind, " ", principal_id, " has no scope for ", required_scope])) if {
	kind in scoped_kinds
	action_type != ""
	not scope_ok
}

# A task cannot start a task: it spends only its own hold, so it has nothing to hold a budget
# with, whatever its scopes say.
deny contains reason("TASK_NESTING_DENIED", concat("", ["task ", principal_id, " cannot start a task"])) if {
	kind == "task"
	action_type == "agent.task"
}
