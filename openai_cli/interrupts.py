"""SIGTERM and SIGHUP end oai as Ctrl-C does: through every cleanup path.

Their default ends the process at once, with temporary files left behind; as
:class:`~openai_cli.errors.Terminated` (a KeyboardInterrupt) they take every path
Ctrl-C takes, and ``main.py`` turns them into exit codes 143 and 129. ``main()``
catches them before any command runs. A TAB writes a file only when it keeps what
it resolved of the settings, so ``main()`` defers catching them to that moment
(:func:`before_writing`), and a TAB that writes nothing never imports the signal
module, whose enums cost it a few percent of its start-up. Code run in-process (the
tests' ``run()``) catches nothing: the signals stay the host's.
"""

from __future__ import annotations

_deferred = False


def catch() -> None:
    """From now on, SIGTERM and SIGHUP raise ``Terminated`` and ``HungUp``."""
    import signal

    for sig in _ending():
        # An ignored SIGHUP (nohup) stays ignored.
        if sig == signal.SIGTERM or signal.getsignal(sig) is not signal.SIG_IGN:
            signal.signal(sig, _on_ending_signal)


def defer() -> None:
    """Catch them only once something is about to be written (:func:`before_writing`)."""
    global _deferred
    _deferred = True


def before_writing() -> None:
    """Called before a TAB writes: catch them now, if ``main()`` deferred it."""
    global _deferred
    if _deferred:
        _deferred = False
        catch()


def _ending() -> list[int]:
    import signal

    return [signal.SIGTERM, *([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])]


def _on_ending_signal(signum: int, frame: object) -> None:
    import signal

    from openai_cli.errors import HungUp, Terminated

    # A second one ends the process at once, should the cleanup itself hang.
    for sig in _ending():
        if signal.getsignal(sig) is _on_ending_signal:
            signal.signal(sig, signal.SIG_DFL)
    raise Terminated() if signum == signal.SIGTERM else HungUp()
