# Catalogue lookups: the principal's plan, the action's price entry, its model or tool, and
# the UNKNOWN_* and *_NOT_IN_PLAN checks. Lookups are object indexing (the Wasm target has
# no rule indexing); object.get keeps a missing key a value, not an undefined rule.
package creditgate

plan_entry := object.get(data.plans, plan_name, null)

plan_known if is_object(plan_entry)

default plan := {}

plan := plan_entry if plan_known

action_entry := object.get(data.prices.actions, action_type, null)

action_known if is_object(action_entry)

default price_entry := {}

price_entry := action_entry if action_known

default pricing := ""

pricing := price_entry.pricing if is_string(price_entry.pricing)

# Token-priced actions name a model, tool-priced actions name a tool.
needs_model if pricing == "tokens"

needs_tool if pricing == "tool"

# A model or tool is known only when it is in its catalogue AND priced.
model_known if {
	is_object(object.get(data.models, model_name, null))
	is_object(model_price)
}

tool_known if {
	is_object(object.get(data.tools, tool_name, null))
	is_number(tool_price)
}

model_price := object.get(data.prices.models, model_name, null)

tool_price := object.get(data.prices.tools, tool_name, null)

default model := {}

model := object.get(data.models, model_name, {}) if model_known

# The thing an action targets, for scopes ("tool.call:web.search") and messages.
default target := ""

target := model_name if needs_model

target := tool_name if needs_tool

high_risk_tool if {
	needs_tool
	object.get(data.tools, [tool_name, "risk"], "") == "high"
}

action_in_plan if action_type in plan.actions

# "*" in a plan's models allows every known model.
model_in_plan if model_name in plan.models

model_in_plan if "*" in plan.models

deny contains reason("UNKNOWN_PLAN", concat("", ["unknown plan ", plan_name])) if {
	plan_name != ""
	not plan_known
}

deny contains reason("UNKNOWN_ACTION", message) if {
	action_type != ""
	not action_known
	message := concat("", ["unknown action type ", action_type, "; ", knows(known_actions)])
}

deny contains reason("UNKNOWN_MODEL", missing_or_unknown(action_type, "model", model_name, known_models)) if {
	needs_model
	not model_known
}

deny contains reason("UNKNOWN_TOOL", missing_or_unknown(action_type, "tool", tool_name, known_tools)) if {
	needs_tool
	not tool_known
}

deny contains reason("ACTION_NOT_IN_PLAN", message) if {
	plan_known
	action_known
	not action_in_plan
	message := concat("", ["plan ", plan_name, " does not include ", action_type])
}

deny contains reason("MODEL_NOT_IN_PLAN", message) if {
	plan_known
	needs_model
	model_known
	not model_in_plan
	message := concat("", ["plan ", plan_name, " does not include model ", model_name])
}

deny contains reason("TENANT_SUSPENDED", concat("", ["tenant ", tenant, " is suspended"])) if {
	principal.tenant_status == "suspended"
}

missing_or_unknown(action_name, field, "", known) := concat("", [
	action_name, " needs action.", field, "; ",
	knows(known),
])

missing_or_unknown(_, field, name, known) := concat("", ["unknown ", field, " ", name, "; ", knows(known)]) if {
	name != ""
}

# The names an UNKNOWN_* message offers instead: only what the bundle can actually price.
known_actions := sort([a | some a, entry in data.prices.actions; is_object(entry)])

known_models := sort([m |
	some m, entry in data.models
	is_object(entry)
	is_object(object.get(data.prices.models, m, null))
])

known_tools := sort([t |
	some t, entry in data.tools
	is_object(entry)
	is_number(object.get(data.prices.tools, t, null))
])

# A message lists at most this many names, then counts the rest.
known_names_max := 10

knows(names) := "this bundle knows none" if count(names) == 0

knows(names) := concat("", ["this bundle knows: ", concat(", ", names)]) if {
	count(names) > 0
	count(names) <= known_names_max
}

knows(names) := concat("", [
	"this bundle knows: ", concat(", ", [n | some i, n in names; i < known_names_max]),
	" and ", fmt(count(names) - known_names_max), " more",
]) if {
	count(names) > known_names_max
}
