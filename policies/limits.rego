# Velocity limits per plan, read from input.usage (already used in the window, this call
# excluded), to contain leaked keys and runaway agent loops.
package creditgate

default velocity := {}

velocity := object.get(data.limits.velocity, plan_name, {}) if plan_known

# A window missing from the plan's limits, or not a number, has limit 0 (fail closed).
default limit(_) := 0

limit(window) := velocity[window] if is_number(velocity[window])

# What each window would reach if this call were allowed.
demand["calls_per_minute"] := used.calls_per_minute + 1

demand["credits_per_hour"] := used.credits_per_hour + cost

demand["workflow_steps"] := used.workflow_steps + steps if workflow_id != ""

breached[window] := n if {
	plan_known
	usage_valid
	some window, n in demand
	n > limit(window)
}

deny contains reason("VELOCITY_LIMIT", message) if {
	some window, n in breached
	message := concat("", [window, " would reach ", fmt(n), ", over plan ", plan_name, "'s limit of ", fmt(limit(window))])
}

retry_after_seconds := max([object.get(data.limits.retry_after_seconds, w, 60) | some w, _ in breached])
