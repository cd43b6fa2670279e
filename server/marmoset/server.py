"""Start-up and shutdown: plugins, listeners, PidFile, signals, workers, scheduler.

Order matters: the configuration is whole before anything opens; signals are blocked before
any thread starts (so only the scheduler's descriptor sees them); listeners open before
privileges are dropped; on a stop signal the listeners close first, workers get a grace
period for responses in flight, and the PidFile is removed last.
"""

import os
import sys

from . import VERSION, compat, log, plugin, scheduler
from .worker import Worker


def drop_privileges(user):
    """Become user (after the listeners are bound); a message when that is impossible."""
    try:
        entry = compat.user_by_name(user)
    except OSError as exc:
        return "cannot read /etc/passwd to find User %s (%s)" % (user, exc)
    if entry is None:
        return "User %s does not exist" % user
    if compat.geteuid() == entry[0]:
        return None
    if compat.geteuid() != 0:
        return "User %s needs the server started as root" % user
    try:
        compat.setgroups([])
        compat.setgid(entry[1])
        compat.setuid(entry[0])
    except OSError as exc:
        return "cannot switch to User %s (%s)" % (user, exc)
    return None


class Server:
    def __init__(self, conf, plugins=None):
        self.conf = conf
        self.plugins = plugins if plugins is not None else plugin.load(conf)
        hide = conf.server["HideVersion"]
        self.version_text = "Marmoset" if hide else "Marmoset/%s" % VERSION
        n = conf.server["Workers"]
        self.nworkers = n if n > 0 else compat.cpu_count()
        self.workers = []
        self.listeners = []
        self.stop_requested = False
        self.started = compat.now()
        self.pid = compat.getpid()

    def run(self):
        """Serve until SIGTERM/SIGINT; returns the exit status."""
        signals = compat.Signals()
        compat.gc_threshold(self.conf.server["GCThreshold"] * 1024)
        for p in self.plugins.plugins:
            hook = getattr(p, "init", None)
            if hook is not None:
                hook(self)
        try:
            self.listeners = scheduler.open_listeners(self.conf.listeners, self.plugins.transports)
        except OSError as exc:
            log.error(None, "error: %s" % (exc.args[1] if len(exc.args) > 1 else exc))
            return 1
        user = self.conf.server["User"]
        if user:
            problem = drop_privileges(user)
            if problem:
                log.error(None, "error: %s" % problem)
                self._close_listeners()
                return 1
        pidfile = self.conf.server["PidFile"]
        if pidfile:
            try:
                with open(pidfile, "w") as f:
                    f.write("%d\n" % self.pid)
            except OSError as exc:
                log.error(None, "error: cannot write PidFile %s (%s)" % (pidfile, exc))
                self._close_listeners()
                return 1
        self.workers = [Worker(self, i) for i in range(self.nworkers)]
        for w in self.workers:
            compat.start_thread(w.run, ())
        sched = scheduler.Scheduler(self, self.listeners, self.workers, signals)
        log.info(
            "Marmoset %s on %s, %d worker(s), listening on %s"
            % (VERSION, sys.implementation.name, self.nworkers, ", ".join("%s:%d" % (lst.host, lst.port) for lst in self.listeners))
        )
        sig = sched.run()
        log.info("signal %d: stopping" % sig)
        sched.close()
        for w in self.workers:
            w.stop()
        deadline = compat.ticks_ms() + 7000
        while compat.ticks_diff(deadline, compat.ticks_ms()) > 0:
            if all(w.done for w in self.workers):
                break
            compat.sleep_ms(20)
        for p in self.plugins.plugins:
            hook = getattr(p, "exit", None)
            if hook is not None:
                try:
                    hook(self)
                except Exception as exc:
                    log.exception(None, exc, "plugin %s exit" % p.name)
        if pidfile:
            try:
                os.remove(pidfile)
            except OSError:
                pass
        log.info("stopped")
        return 0

    def _close_listeners(self):
        for lst in self.listeners:
            lst.sock.close()
