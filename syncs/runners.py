"""The registry of job runners: the code that moves one job's records. A job without a runner is reported as not
implemented, never as a success."""
from collections.abc import Callable

RUNNERS: dict[str, Callable] = {}


def runner(job_name: str):
    def register(function: Callable) -> Callable:
        RUNNERS[job_name] = function
        return function

    return register
