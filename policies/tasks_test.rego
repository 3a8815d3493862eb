package creditgate_test

task_patch(status) := {
	"principal": {"kind": "task", "id": "tsk_1", "scopes": ["prompt.submit"], "task_status": status},
	"balances": {"trial": 0, "paid": 0, "promo": 0, "admin": 0},
}

test_active_task_decides_as_usual if {
	d := decide(object.union(task_patch("active"), {"balances": {"paid": 100}}))
	d.allow == true
}

test_task_without_status_decides_as_usual if {
	d := decide({"principal": {"kind": "task", "id": "tsk_1", "scopes": ["prompt.submit"]}})
	d.allow == true
}

test_ended_task_is_task_ended_alone if {
	every status, because in {
		"committed": "its hold was committed",
		"released": "its hold was released",
		"expired": "its hold expired",
		"missing": "it has no hold",
	} {
		d := decide(task_patch(status))
		d == {
			"allow": false,
			"cost": 0,
			"hold": 0,
			"draw_order": [],
			"obligations": {},
			"reasons": [{
				"code": "TASK_ENDED",
				"message": concat("", ["task tsk_1 has ended: ", because, "; its credential spends nothing more"]),
			}],
		}
	}
}

# Whatever else would deny (scope, suspension, velocity, credits), an ended task says TASK_ENDED.
test_ended_task_hides_every_other_reason if {
	d := decide(object.union(task_patch("released"), {
		"principal": {"tenant_status": "suspended", "scopes": []},
		"usage": {"calls_per_minute": 100000},
	}))
	codes(d) == ["TASK_ENDED"]
	d.obligations == {}
}

test_free_action_of_ended_task_is_task_ended if {
	d := decide(object.union(task_patch("expired"), {
		"principal": {"scopes": ["model.infer"]},
		"action": {"type": "model.infer", "model": "llama-3-8b", "units": {"max_output_tokens": 0}},
	}))
	codes(d) == ["TASK_ENDED"]
}

# Only a task principal ends; the field means nothing for users.
test_task_status_ignored_for_users if {
	d := decide({"principal": {"task_status": "released"}})
	d.allow == true
}

test_invalid_task_status if {
	d := decide({"principal": {"kind": "task", "scopes": ["prompt.submit"], "task_status": "done"}})
	codes(d) == ["INVALID_INPUT"]
	d.reasons[0].message == "principal.task_status must be one of active, committed, expired, missing, released"
}
