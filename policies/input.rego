# Input accessors. Every field is read through a default so that missing or malformed
# input yields an INVALID_INPUT deny, never an undefined decision (fail closed).
package creditgate

credit_classes := ["trial", "paid", "promo", "admin"]

usage_windows := ["calls_per_minute", "credits_per_hour", "workflow_steps"]

principal_kinds := {"user", "workload", "task"}

tenant_statuses := {"active", "suspended"}

# The state of a task principal's hold, as the decision engine read it.
task_statuses := {"active", "committed", "released", "expired", "missing"}

# Bounds keep every sum and product below 2^53, where Go and Wasm integer arithmetic agree.
max_amount := 1000000000000

# Per-unit bounds: [min, max]. Tokens are capped far above any context window.
unit_bounds := {
	"input_tokens": [0, 100000000],
	"max_output_tokens": [0, 100000000],
	"steps": [1, 1000000],
	"budget": [0, max_amount],
}

# int_in(x, lo, hi) is true when x is an integer in [lo, hi]. Bounds come before floor so
# that huge numbers never reach arithmetic.
int_in(x, lo, hi) if {
	is_number(x)
	x >= lo
	x <= hi
	floor(x) == x
}

default principal := {}

principal := input.principal if is_object(input.principal)

default action := {}

action := input.action if is_object(input.action)

default action_units := {}

action_units := action.units if is_object(action.units)

default balances := {}

balances := input.balances if is_object(input.balances)

default usage := {}

usage := input.usage if is_object(input.usage)

# str(obj, key) is the string at obj[key], or "" when it is absent or not a string.
default str(_, _) := ""

str(obj, key) := obj[key] if is_string(obj[key])

kind := str(principal, "kind")

principal_id := str(principal, "id")

tenant := str(principal, "tenant")

plan_name := str(principal, "plan")

action_type := str(action, "type")

model_name := str(action, "model")

tool_name := str(action, "tool")

workflow_id := str(action, "workflow_id")

# Sets, so that membership tests ignore duplicates; non-strings are dropped (and reported).
roles contains r if {
	is_array(principal.roles)
	some r in principal.roles
	is_string(r)
}

scopes contains s if {
	is_array(principal.scopes)
	some s in principal.scopes
	is_string(s)
}

# Valid balances by class; a class missing here is reported and treated as 0.
balance[c] := b if {
	some c in credit_classes
	b := balances[c]
	int_in(b, 0 - max_amount, max_amount)
}

# Valid usage counters by window.
used[w] := n if {
	some w in usage_windows
	n := usage[w]
	int_in(n, 0, max_amount)
}

# Valid units; absent units take their defaults where they are used.
unit[k] := v if {
	some k, b in unit_bounds
	v := action_units[k]
	int_in(v, b[0], b[1])
}

balances_valid if count(balance) == count(credit_classes)

usage_valid if count(used) == count(usage_windows)

units_valid if {
	every k, _ in action_units {
		unit[k]
	}
}

reason(code, message) := {"code": code, "message": message}

invalid(message) := reason("INVALID_INPUT", message)

deny contains invalid("input must be an object") if not is_object(input)

deny contains invalid(concat("", ["principal.kind must be one of task, user, workload; got ", kind])) if {
	not kind in principal_kinds
}

deny contains invalid(concat("", ["principal.", field, " must be a non-empty string"])) if {
	some field in ["id", "tenant", "plan"]
	str(principal, field) == ""
}

deny contains invalid(concat("", ["principal.", field, " must be an array of strings"])) if {
	some field in ["roles", "scopes"]
	not strings_array(object.get(principal, field, null))
}

deny contains invalid("principal.tenant_status must be active or suspended") if {
	status := principal.tenant_status
	not status in tenant_statuses
}

deny contains invalid("principal.task_status must be one of active, committed, expired, missing, released") if {
	status := principal.task_status
	not status in task_statuses
}

deny contains invalid("action.type must be a non-empty string") if action_type == ""

deny contains invalid(concat("", ["action.", field, " must be a string"])) if {
	some field in ["model", "tool", "workflow_id"]
	value := action[field]
	not is_string(value)
}

deny contains invalid("action.units must be an object") if {
	value := action.units
	not is_object(value)
}

deny contains invalid(concat("", ["action.units.", k, " must be an integer in its range"])) if {
	some k, _ in action_units
	not unit[k]
}

deny contains invalid(concat("", ["balances.", c, " must be an integer within +/-1e12"])) if {
	some c in credit_classes
	not balance[c]
}

deny contains invalid(concat("", ["usage.", w, " must be a non-negative integer"])) if {
	some w in usage_windows
	not used[w]
}

deny contains invalid("now must be a non-empty RFC 3339 string") if {
	not non_empty_string(object.get(input, "now", null))
}

strings_array(value) if {
	is_array(value)
	every v in value {
		is_string(v)
	}
}

non_empty_string(value) if {
	is_string(value)
	value != ""
}
