"""Ctrl-C ends a program at once, with one line, whatever it is doing.

Python's own handler raises KeyboardInterrupt in the main thread at its next bytecode,
which is not good enough here: while Keras and JAX are imported, the exception can land in
a garbage-collection callback, where Python prints "Exception ignored" and carries on (a
run the user stopped then trains to its end and exits 0); while XLA compiles, no bytecode
runs for seconds. So a program replaces it, before anything heavy is imported
(`pix2pix_k3._backend` does, for `python -m pix2pix_k3.<program>`), by a handler that
writes one line and ends the process with status 130, as a shell reports Ctrl-C. A
thread woken through `signal.set_wakeup_fd` does the same where the handler cannot run
soon.

Ending at once is safe: every file a program writes is written beside its name and
renamed into place (`files`), so a stop leaves the old file or the new one.
"""

import contextlib
import os
import signal
import socket
import sys
import threading

INTERRUPTED = 130  # the exit status of a process ended by Ctrl-C (128 + SIGINT)


@contextlib.contextmanager
def exit_on_ctrl_c(message):
    """While inside, Ctrl-C writes `message()` on stderr and exits with 130; outside,
    the handler before is back. Does nothing outside the main thread (signals go there)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    restore = install(message)
    try:
        yield
    finally:
        restore()


_sockets = []  # the wakeup sockets in use: one closed by garbage collection is a dead fd


def install(message):
    """Make Ctrl-C write `message()` and exit with 130; returns what undoes it."""
    done = threading.Lock()
    # Where stderr is now: while TensorFlow is imported, fd 2 is a temporary file for a
    # while (`_backend.start_up_lines_dropped`), and the line must not end up there.
    stderr = os.dup(2)

    def stop(*_):
        if done.acquire(blocking=False):
            with contextlib.suppress(Exception):
                sys.stdout.write("\n")
                sys.stdout.flush()
            os.write(stderr, f"{message()}\n".encode())
            os._exit(INTERRUPTED)

    def watch(receiver):
        with receiver:
            while data := receiver.recv(64):
                if signal.SIGINT in data:
                    stop()

    receiver, sender = socket.socketpair()
    sender.setblocking(False)
    _sockets.append(sender)
    previous_fd = signal.set_wakeup_fd(sender.fileno(), warn_on_full_buffer=False)
    previous_handler = signal.signal(signal.SIGINT, stop)
    threading.Thread(target=watch, args=(receiver,), daemon=True).start()

    def restore():
        signal.signal(signal.SIGINT, previous_handler)
        signal.set_wakeup_fd(previous_fd)
        _sockets.remove(sender)
        sender.close()
        os.close(stderr)

    return restore
