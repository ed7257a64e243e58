"""A stand-in for celery beat that a test drives: it sends the tasks beat sends, when the test says so.

    python -m tests.reliability.beat      (with the hub processes' environment)

Reads one command a line on stdin and answers one line on stdout ("ok", or "error ..." when the broker refused):
    run JOB ...          a scheduled run of each job (what beat sends on each job's interval)
    sweep                the sweeper (what beat sends every minute)
    twice JOB ...        each job's run sent twice as one message (the same task id): a duplicate delivery
It is a process of its own because the broker and queue are the hub processes' (the test process's settings are the
test suite's), and because the hub's own settings decide how a task reaches them.
"""
import sys
import uuid

import django


def main() -> int:
    django.setup()
    from syncs.tasks import run_sync_job, sweep

    print("ready", flush=True)
    for line in sys.stdin:
        command, *jobs = line.split() or [""]
        try:
            if command == "run":
                for job in jobs:
                    run_sync_job.apply_async(kwargs={"job_name": job})
            elif command == "twice":
                for job in jobs:
                    task_id = str(uuid.uuid4())
                    run_sync_job.apply_async(kwargs={"job_name": job}, task_id=task_id)
                    run_sync_job.apply_async(kwargs={"job_name": job}, task_id=task_id)
            elif command == "sweep":
                sweep.apply_async()
            else:
                print(f"error unknown command {command!r}", flush=True)
                continue
        except Exception as error:  # the broker is down: say so and keep going, as beat does
            print(f"error {type(error).__name__}: {error}".replace("\n", " "), flush=True)
            continue
        print("ok", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
