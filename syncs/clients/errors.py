"""The two kinds of remote error the rest of the hub knows about.

Clients translate every library exception into one of these, so the engine decides retry-or-person from the kind
alone, and every stored attempt carries the remote system's own code and message.
"""


class RemoteError(Exception):
    transient = False

    def __init__(self, code: str, message: str, *, outcome_unknown: bool = False):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        # True when the request may have been carried out although no answer came back (timeout, dropped
        # connection): the next try must look the record up before writing again.
        self.outcome_unknown = outcome_unknown


class TransientError(RemoteError):
    """Worth retrying later: timeouts, 5xx, concurrency and lock faults, an expired session."""

    transient = True


class PermanentError(RemoteError):
    """Needs a person: validation, missing reference, bad credentials, a mapping problem."""
