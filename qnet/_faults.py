"""Fault injection for the fault tests: a real SIGKILL at a named moment of a write.

With ``QNET_KILL_AT=NAME:N`` in the environment, the N-th time (1-based) the code passes
``point(NAME)``, the process sends itself SIGKILL there. Unset (always, outside the tests),
``point`` is a dictionary lookup and nothing else.
"""

import os
import signal

_seen = {}


def point(name, before_kill=None):
    spec = os.environ.get("QNET_KILL_AT")
    if not spec:
        return
    target, _, count = spec.rpartition(":")
    if target != name:
        return
    _seen[name] = _seen.get(name, 0) + 1
    if _seen[name] == int(count):
        if before_kill is not None:
            before_kill()
        os.kill(os.getpid(), signal.SIGKILL)
