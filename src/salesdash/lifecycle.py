"""How a long-running salesdash process ends (the API server, the stream consumer)."""

from __future__ import annotations

import signal


def ignore_stop_signals() -> None:
    """Once a process has stopped serving, a further SIGINT/SIGTERM (Ctrl-C twice, a SIGTERM after the SIGINT)
    must not kill its exit half-way. At interpreter shutdown CPython resets Python-level handlers to the default
    action (die by the signal, or a KeyboardInterrupt traceback), but leaves "ignore" as it is."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
