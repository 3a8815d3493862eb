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

# How long to wait after a window is breached; 60 seconds when the data does not say.
retry_after(window) := object.get(data.limits.retry_after_seconds, window, 60)

retry_after_seconds := max([retry_after(w) | some w, _ in breached])

# The windows this action counts against: every call counts per minute and its credits per
# hour, a workflow's steps count too. The result carries each with its maximum, so the ledger
# enforces the same limits atomically without reading the policy's data itself.
counted_windows := {"calls_per_minute", "credits_per_hour"} if workflow_id == ""

counted_windows := {"calls_per_minute", "credits_per_hour", "workflow_steps"} if workflow_id != ""

velocity_windows[window] := {"max": limit(window), "retry_after_seconds": retry_after(window)} if {
	some window in counted_windows
}
