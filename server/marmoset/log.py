"""Error reporting to stderr, one line per event, safe from several worker threads."""

import sys

from . import compat

_lock = compat.allocate_lock()


def error(peer, message):
    _lock.acquire()
    try:
        sys.stderr.write("[marmoset] %s %s\n" % (peer or "-", message))
    finally:
        _lock.release()


def exception(peer, exc, where):
    _lock.acquire()
    try:
        sys.stderr.write("[marmoset] %s error in %s: %r\n" % (peer or "-", where, exc))
        compat.print_exception(exc, sys.stderr)
    finally:
        _lock.release()


def info(message):
    error(None, message)
