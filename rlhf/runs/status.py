"""A run's status: the ``{"status": …}`` lines of ``events.jsonl`` and what :class:`rlhf.runs.manager.RunManager`
derives from them.

:class:`RunStatus` is a ``str`` enum: a member equals (and hashes like) its plain value, ``json.dumps`` writes the
value, and ``str``/``format`` give the value too, so ``events.jsonl``, the manager's answers and any code that
compares with ``"finished"`` see the same strings as before. Lines read back from disk hold plain strings;
:meth:`RunStatus.coerce` turns one into a member.
"""

from __future__ import annotations

import enum


class RunStatus(str, enum.Enum):
    QUEUED = "queued"            # waiting for a slot (also after ``resume``)
    STARTING = "starting"        # derived, never recorded: taken off the queue, the trainer has not reported yet
    STARTED = "started"          # the trainer is running
    STOPPING = "stopping"        # a stop was requested; the trainer saves a checkpoint and exits
    STOPPED = "stopped"          # stopped on request (resumable from its checkpoint)
    FINISHED = "finished"        # trained to the end, ``final/`` saved
    FAILED = "failed"            # the trainer, or starting it, failed; the event says why
    INTERRUPTED = "interrupted"  # its processes vanished without a verdict (machine restart, crash)

    # The plain value wherever text is made, as for any other string (Enum's own would say "RunStatus.QUEUED").
    __str__ = str.__str__
    __format__ = str.__format__

    @classmethod
    def coerce(cls, value: object) -> RunStatus | str:
        """The member for a status read from disk; a value this version does not know is returned unchanged,
        so a listing never fails on a line some other writer made."""
        try:
            return cls(value)
        except ValueError:
            return value  # type: ignore[return-value]


#: Statuses that are written to ``events.jsonl`` (``starting`` is only ever derived).
RECORDED = (RunStatus.QUEUED, RunStatus.STARTED, RunStatus.STOPPING, RunStatus.STOPPED, RunStatus.FINISHED,
            RunStatus.FAILED, RunStatus.INTERRUPTED)

#: How an attempt ends: nothing more happens until the run is resumed.
TERMINAL = (RunStatus.STOPPED, RunStatus.FINISHED, RunStatus.FAILED, RunStatus.INTERRUPTED)

#: Statuses of a run that is waiting or training: it holds (or will take) a slot and cannot be resumed.
ACTIVE = (RunStatus.QUEUED, RunStatus.STARTING, RunStatus.STARTED, RunStatus.STOPPING)
