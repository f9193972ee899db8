"""Ctrl-C for the tests: a SIGINT delivered to the main thread while a call runs."""

import _thread
import threading


def interrupted(call, after=0.2):
    """Runs call() with a Ctrl-C (SIGINT, from a timer thread) arriving `after` seconds in; True if it raised
    KeyboardInterrupt."""
    timer = threading.Timer(after, _thread.interrupt_main)
    timer.start()
    try:
        call()
    except KeyboardInterrupt:
        return True
    finally:
        timer.cancel()
    return False
