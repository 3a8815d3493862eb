# Task principals. A task spends only its own hold; once the hold is resolved (the task was
# completed, released or expired) the task has ended and every decision it asks for, free ones
# included, is TASK_ENDED alone (see decision.rego).
package creditgate

# What happened to the task, by the state of its hold (principal.task_status).
ended_because := {
	"committed": "its hold was committed",
	"released": "its hold was released",
	"expired": "its hold expired",
	"missing": "it has no hold",
}

task_ended if {
	kind == "task"
	ended_because[principal.task_status]
}

task_ended_message := concat("", [
	"task ", principal_id, " has ended: ", ended_because[principal.task_status],
	"; its credential spends nothing more",
])
