"""Plugins after Monkey's: loaded from plugins.load, called at stages 10 to 50.

A plugin is a module with a ``Plugin`` class. Its instance may define any of:

    init(server)                      once, before the listeners open (may raise to refuse)
    worker_init(worker)               once in each worker thread
    exit(server)                      at shutdown
    stage10(worker, sock, addr)       connection accepted, before any allocation for it
    stage20(worker, conn)             a complete request is in conn's buffer
    stage30(worker, conn, req)        handler for a request matched by [HANDLERS] Match
    stage40(worker, conn)             the response has been sent
    stage50(worker, conn)             the connection is closed (the object is then recycled
                                      for another client: keep nothing that refers to it)

stage10/20/30 answer NOT_ME, CONTINUE, END (the plugin answered) or CLOSE (drop the
connection). A plugin with ``network = True`` is a transport (Liana, TLS): it provides
read, write, send_file, close and buffer_size for the sockets of the listeners naming it.
"""

import sys

from .rconf import ConfigError

NOT_ME = -1
CONTINUE = 100
END = 200
CLOSE = 300

STAGES = (10, 20, 30, 40, 50)
BUILTIN = ("liana",)


class Registry:
    def __init__(self):
        self.plugins = []
        self.by_name = {}
        self.stage = {10: [], 20: [], 40: [], 50: []}  # bound methods per stage
        self.transports = {}

    def add(self, plugin):
        self.plugins.append(plugin)
        self.by_name[plugin.name] = plugin
        for st in (10, 20, 40, 50):
            hook = getattr(plugin, "stage%d" % st, None)
            if hook is not None:
                self.stage[st].append(hook)
        if getattr(plugin, "network", False):
            self.transports[plugin.name] = plugin

    def stages_of(self, plugin):
        return [st for st in STAGES if getattr(plugin, "stage%d" % st, None) is not None]


def _import(spec):
    if spec.endswith(".py") or "/" in spec:
        slash = spec.rfind("/")
        folder = spec[:slash] if slash > 0 else "."
        name = spec[slash + 1 :]
        if name.endswith(".py"):
            name = name[:-3]
        if folder not in sys.path:
            sys.path.append(folder)
        return __import__(name)
    mod = __import__("marmoset.plugins." + spec)
    return getattr(mod.plugins, spec)


def load(conf):
    """A Registry with Liana plus every plugin named in plugins.load; ConfigError on failure."""
    reg = Registry()
    specs = [(name, "(built-in)", 0) for name in BUILTIN]
    for spec, path, line in conf.plugins:
        name = spec.rsplit("/", 1)[-1]
        if name.endswith(".py"):
            name = name[:-3]
        if name in BUILTIN:
            continue
        specs.append((spec, path, line))
    for spec, path, line in specs:
        try:
            mod = _import(spec)
            plugin = mod.Plugin(conf)
        except ConfigError:
            raise
        except ImportError as exc:
            raise ConfigError(path, line, "cannot load plugin %r: %s" % (spec, exc)) from None
        except Exception as exc:
            raise ConfigError(path, line, "plugin %r failed to start: %r" % (spec, exc)) from None
        if plugin.name in reg.by_name:
            raise ConfigError(path, line, "plugin %r loaded twice" % plugin.name)
        reg.add(plugin)
    for vh in conf.vhosts:
        for _rx, name, _params, text in vh.handlers:
            p = reg.by_name.get(name)
            if p is None or getattr(p, "stage30", None) is None:
                raise ConfigError(vh.file, 0, "[HANDLERS] Match %s names %r, which is not a loaded handler plugin" % (text, name))
    for host, port, transport in conf.listeners:
        if transport not in reg.transports:
            raise ConfigError(conf.server_file, 0, "Listen %s:%d names transport %r, which is not loaded" % (host, port, transport))
    return reg
