# Pricing: cost, hold and the PRICE_APPLIED message, in integer credits only.
# Per-1k token prices use exact integer ceiling division so Go and Wasm agree bit for bit.
package creditgate

# ceil_div(n, d) is ceil(n / d) for integers n >= 0, d > 0: round n + d - 1 down to a
# multiple of d, then divide. The division is exact, so no float ever decides a result.
ceil_div(n, d) := (m - (m % d)) / d if m := (n + d) - 1

# fmt(n) writes an integer for messages without sprintf (the JS SDK reimplements sprintf).
# OPA's Wasm format_int aborts beyond 32 bits, so larger magnitudes are written in two parts.
fmt(n) := format_int(n, 10) if {
	n >= -2147483647
	n <= 2147483647
}

fmt(n) := fmt_large(n) if n > 2147483647

fmt(n) := concat("", ["-", fmt_large(0 - n)]) if n < -2147483647

# fmt_large(n) for 2^31 <= n < 2^31 * 1e9: the high part, then the low 9 digits zero-padded.
fmt_large(n) := concat("", [format_int((n - low) / 1000000000, 10), pad9(format_int(low, 10))]) if {
	low := n % 1000000000
}

pad9(digits) := concat("", [substring("000000000", 0, 9 - count(digits)), digits])

steps := object.get(unit, "steps", 1)

input_tokens := object.get(unit, "input_tokens", 0)

budget := object.get(unit, "budget", 0)

# Requested output defaults to, and is clamped to, the model's maximum.
output_tokens := min([object.get(unit, "max_output_tokens", model.max_output_tokens), model.max_output_tokens])

# An action is priced only from valid units; otherwise INVALID_INPUT already denies it.
priceable if {
	action_known
	units_valid
}

input_cost := ceil_div(input_tokens * model_price.input_per_1k, 1000)

output_cost := ceil_div(output_tokens * model_price.output_per_1k, 1000)

cost := input_cost + output_cost if {
	priceable
	pricing == "tokens"
	model_known
}

cost := tool_price if {
	priceable
	pricing == "tool"
	tool_known
}

cost := price_entry.credits * steps if {
	priceable
	pricing == "per_step"
}

cost := price_entry.credits if {
	priceable
	pricing == "flat"
}

# Whether the hold carries the whole cost (an estimate, settled at commit) rather than a fee
# debited now: true for token-priced actions. The result says so, so the engine debits nothing
# for them and keeps no list of action types of its own.
hold_carries_cost_by_pricing := {"tokens": true}

default hold_carries_cost := false

hold_carries_cost := object.get(hold_carries_cost_by_pricing, pricing, false)

# Token-priced actions hold their estimate (committed at the actual usage later); actions
# with `hold: budget` (agent.task) hold the budget they ask for; others hold nothing.
hold := cost if hold_carries_cost

hold := budget if {
	is_number(cost)
	not hold_carries_cost
	price_entry.hold == "budget"
}

hold := 0 if {
	is_number(cost)
	not hold_carries_cost
	not price_entry.hold
}

# What the draw order must cover now: the hold, plus the cost when it is debited at once
# (for token-priced actions the cost is the estimate the hold already covers).
required := hold if hold_carries_cost

required := cost + hold if not hold_carries_cost

price_message := concat("", [
	action_type, " ", model_name, ": ", fmt(model_price.input_per_1k), "/1k input, ",
	fmt(model_price.output_per_1k), "/1k output",
]) if {
	pricing == "tokens"
}

price_message := concat("", [action_type, " ", tool_name, ": ", fmt(cost)]) if pricing == "tool"

price_message := message if {
	pricing == "per_step"
	message := concat("", [action_type, ": ", fmt(price_entry.credits), " per step x ", fmt(steps)])
}

price_message := concat("", [action_type, ": ", fmt(price_entry.credits), " flat"]) if {
	pricing == "flat"
	not price_entry.hold
}

price_message := message if {
	pricing == "flat"
	price_entry.hold == "budget"
	message := concat("", [action_type, ": ", fmt(price_entry.credits), " flat, budget ", fmt(budget), " held"])
}

deny contains reason("TASK_BUDGET_EXCEEDED", message) if {
	plan_known
	price_entry.hold == "budget"
	budget > max_task_budget
	message := concat("", [
		"budget ", fmt(budget), " exceeds plan ", plan_name,
		"'s max task budget ", fmt(max_task_budget),
	])
}

# A plan without a numeric max_task_budget allows no budget (fail closed).
default max_task_budget := 0

max_task_budget := plan.max_task_budget if is_number(plan.max_task_budget)
