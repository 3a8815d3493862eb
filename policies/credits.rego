# Credit classes: which classes pay, in what order, and whether they can afford the action.
# The ledger enforces the same draw order and overdraft floor atomically.
package creditgate

admin_role if "admin" in roles

# Admin credits pay only for admins; trial credits never pay for high-risk tools.
class_may_pay(c) if not c in {"admin", "trial"}

class_may_pay("admin") if admin_role

class_may_pay("trial") if not high_risk_tool

draw_order := [c |
	some c in plan.draw_order
	c in credit_classes
	class_may_pay(c)
]

# How far below zero each paying class may go for this decision (only classes in the order).
# A task spends only its own hold: the balances it is shown are what is left of it, never more.
overdraft[c] := n if {
	kind != "task"
	some c in draw_order
	n := plan.overdraft[c]
	int_in(n, 1, max_amount)
}

# Balances may already be negative (paid in overage); the sum accounts for that.
available := sum([object.get(balance, c, 0) | some c in draw_order]) + sum([n | some n in overdraft])

payers_text := concat(", ", draw_order) if count(draw_order) > 0

payers_text := "no credit class" if count(draw_order) == 0

deny contains reason("INSUFFICIENT_CREDITS", message) if {
	plan_known
	balances_valid
	required > available
	message := concat("", ["needs ", fmt(required), ", ", payers_text, " can pay ", fmt(available)])
}

# Trial plans never use high-risk tools; on other plans it is denied only when no other
# class is left to pay.
deny contains reason("TRIAL_HIGH_RISK_TOOL", message) if {
	plan_known
	high_risk_tool
	trial_blocks
	message := concat("", ["trial credits never pay for high-risk tool ", tool_name])
}

trial_blocks if plan.trial == true

trial_blocks if count(draw_order) == 0
