"""Ctrl-C and SIGTERM in a benchmark run: finished cells are kept, the run can resume.

A run turns SIGINT (Ctrl-C) and SIGTERM (what job schedulers and ``kill``
send) into :class:`Interrupted` while cells run, holds them back while a
cell's results are written, stops its worker processes, and exits with
``128 + the signal's number``, as a shell reports a process the signal ended.
"""

import os
import signal
import threading
from contextlib import contextmanager

#: exit status after Ctrl-C, as a shell reports a process ended by SIGINT
INTERRUPTED = 128 + signal.SIGINT
#: the signals that stop a run
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """Ctrl-C (SIGINT) or SIGTERM while benchmark cells run.

    Not a KeyboardInterrupt: skorch reads that as "stop this training early"
    and carries on, so the cell would be scored on a half-trained network.

    Parameters
    ----------
    signum : int
        The signal received.
    """

    def __init__(self, signum=signal.SIGINT):
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_status(self):
        """``128 + signum``: 130 after Ctrl-C, 143 after SIGTERM."""
        return 128 + self.signum


@contextmanager
def sigint_handled_by(handler):
    """``handler(signum, frame)`` takes SIGINT and SIGTERM inside the block.

    Only in the main thread, which alone receives signals, and only for a
    signal that is not ignored (a background job of a script ignores SIGINT).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS
                if signal.getsignal(signum) is not signal.SIG_IGN}
    for signum in previous:
        signal.signal(signum, handler)
    try:
        yield
    finally:
        for signum, handler_before in previous.items():
            if handler_before is None:  # set outside Python: back to the default
                handler_before = (signal.default_int_handler if signum == signal.SIGINT
                                  else signal.SIG_DFL)
            signal.signal(signum, handler_before)


def raise_interrupted(signum, frame):
    """A signal handler that raises :class:`Interrupted`."""
    raise Interrupted(signum)


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
        raise Interrupted(received[-1])


def sigint_recorded(received):
    """A signal in the block is appended to ``received`` and raises :class:`Interrupted`."""
    def handler(signum, frame):
        received.append(signum)
        raise_interrupted(signum, frame)
    return sigint_handled_by(handler)


def stop_worker_processes():
    """End joblib's worker processes now, rather than when they finish their cells.

    After SIGTERM only this process got the signal: its workers would go on
    training (and holding their memory) for minutes.
    """
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor().shutdown(wait=False, kill_workers=True)


@contextmanager
def output_lock(folder):
    """Hold ``folder/.lock`` for the block; a second run into the folder is refused.

    Raises
    ------
    FileExistsError
        When another live process holds the lock; its message names it. A
        lock left by a process that no longer runs is taken over.
    """
    path = folder / ".lock"
    for _ in range(2):
        try:
            descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            owner = _lock_owner(path)
            if owner is not None:
                raise FileExistsError(
                    f"{folder} is being written by another run (process {owner}); "
                    "wait for it to finish, or give another --output folder.") from None
            path.unlink(missing_ok=True)  # its process is gone
            continue
        with os.fdopen(descriptor, "w") as handle:
            handle.write(f"{os.getpid()}\n")
        break
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def _lock_owner(path):
    """The live process id written in the lock file ``path``, or None."""
    try:
        pid = int(path.read_text().strip())
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:  # alive, under another user
        return pid
    except (OSError, ValueError):
        return None
    return pid
