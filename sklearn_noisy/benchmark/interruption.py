"""Ctrl-C in a benchmark run: finished cells are kept, and the run can resume.

A run turns SIGINT into :class:`Interrupted` while cells run, holds it back
while a cell's results are written, and exits with :data:`INTERRUPTED`.
"""

import signal
import threading
from contextlib import contextmanager

#: exit status after Ctrl-C, as a shell reports a process ended by SIGINT
INTERRUPTED = 128 + signal.SIGINT


class Interrupted(BaseException):
    """Ctrl-C (SIGINT) while benchmark cells run.

    Not a KeyboardInterrupt: skorch reads that as "stop this training early"
    and carries on, so the cell would be scored on a half-trained network.
    """


@contextmanager
def sigint_handled_by(handler):
    """``handler(signum, frame)`` takes Ctrl-C (SIGINT) inside the block.

    Only in the main thread, which alone receives signals, and only where
    SIGINT is not ignored (a background job of a script ignores it).
    """
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is signal.SIG_IGN):
        yield
        return
    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT,
                      signal.default_int_handler if previous is None else previous)


def raise_interrupted(signum, frame):
    """A SIGINT handler that raises :class:`Interrupted`."""
    raise Interrupted


@contextmanager
def sigint_deferred(received=None):
    """Hold a Ctrl-C back until the block ends, then raise :class:`Interrupted`.

    ``received`` (a list), when given, records the Ctrl-C.
    """
    received = [] if received is None else received
    n_before = len(received)
    with sigint_handled_by(lambda signum, frame: received.append(signum)):
        yield
    if len(received) > n_before:
        raise Interrupted


def sigint_recorded(received):
    """Ctrl-C in the block appends to ``received`` and raises :class:`Interrupted`."""
    def handler(signum, frame):
        received.append(signum)
        raise_interrupted(signum, frame)
    return sigint_handled_by(handler)
