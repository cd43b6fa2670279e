"""The server's configuration: one table of keys, defaults and types, and its loader.

SERVER_KEYS is the single source of truth: the loader validates against it, the Cheetah
``config`` command prints from it and README's configuration reference is generated from it
(``python3 -m marmoset --config-reference``). A configuration either loads whole or the
server refuses to start with ConfigError naming the file, line and problem.
"""

import os

from . import compat, rconf
from .rconf import ConfigError

# Value types
T_INT = "int"
T_BOOL = "bool"
T_STR = "str"
T_LIST = "list"  # space-separated words
T_REPEAT = "repeat"  # the key may appear on several lines: a list of values

# (key, type, default, meaning). Keys are matched case-insensitively.
SERVER_KEYS = (
    ("Listen", T_REPEAT, ["2001"], "Address and port to listen on, `[addr:]port` or `[v6addr]:port`, optionally followed by a transport name; repeat for several listeners."),
    ("Workers", T_INT, 0, "Number of worker threads, each with its own poll set; 0 means one per CPU core."),
    ("Timeout", T_INT, 15, "Seconds a client has to send a complete request, counted from its first byte; also the longest stall while sending a response."),
    ("PidFile", T_STR, "", "File the server writes its process id to at start and removes at exit; empty for none."),
    ("UserDir", T_STR, "", "Folder under each user's home served at `/~user/`; empty disables user directories."),
    ("Indexfile", T_LIST, ["index.html", "index.htm"], "Files tried, in order, when a directory is requested."),
    ("HideVersion", T_BOOL, False, "When on, the Server header and error pages omit the version number."),
    ("Resume", T_BOOL, True, "Honour Range requests (206 Partial Content)."),
    ("User", T_STR, "", "Account to switch to after binding the listeners (needs root and ffi); empty keeps the current user."),
    ("KeepAlive", T_BOOL, True, "Allow persistent connections."),
    ("KeepAliveTimeout", T_INT, 5, "Seconds an idle persistent connection is kept waiting for its next request (Monkey's template value; Monkey's code ignored the key)."),
    ("MaxKeepAliveRequest", T_INT, 1000, "Requests served on one connection before it is closed."),
    ("MaxRequestSize", T_INT, 32, "Largest request (line, headers and body) in KB; larger ones get 413, 414 or 431."),
    ("RequestBuffer", T_INT, 1024, "Initial size in bytes of each connection's request buffer; it grows in steps of this size up to MaxRequestSize (Marmoset)."),
    ("GCThreshold", T_INT, 256, "MicroPython only: collect garbage after this many KB are allocated, so the heap pages touched (and the RSS) stay small whatever the heap size; 0 keeps the interpreter's default (Marmoset)."),
    ("SymLink", T_BOOL, False, "Follow symbolic links that lead outside the DocumentRoot."),
    ("DefaultMimeType", T_STR, "text/plain", "Content-Type for files whose extension is not in monkey.mime."),
    ("FDLimit", T_INT, 0, "Most connections held open at once (excess ones are refused at accept); 0 means no limit beyond the system's."),
)

HOST_KEYS = (
    ("ServerName", T_LIST, [], "Host names (with aliases) this virtual host answers, matched against Host case-insensitively."),
    ("DocumentRoot", T_STR, None, "Folder served by this host (required)."),
    ("Redirect", T_STR, "", "When set, every request gets 301 to this URL prefix."),
)
LOGGER_KEYS = (
    ("AccessLog", T_STR, "", "Access log file for this host (Logger plugin)."),
    ("ErrorLog", T_STR, "", "Error log file for this host (Logger plugin)."),
)
HANDLERS_KEYS = (("Match", T_REPEAT, [], "`Match <regex> <plugin> [params]`: requests whose path matches go to that plugin."),)

SITE_SECTIONS = {"HOST": HOST_KEYS, "LOGGER": LOGGER_KEYS, "HANDLERS": HANDLERS_KEYS}


def _convert(path, line, key, kind, value):
    if kind == T_INT:
        try:
            n = int(value)
        except ValueError:
            raise ConfigError(path, line, "%s needs a whole number, not %r" % (key, value)) from None
        if n < 0:
            raise ConfigError(path, line, "%s must not be negative" % key)
        return n
    if kind == T_BOOL:
        v = value.lower()
        if v in ("on", "yes", "true", "1"):
            return True
        if v in ("off", "no", "false", "0"):
            return False
        raise ConfigError(path, line, "%s needs on or off, not %r" % (key, value))
    if kind == T_LIST:
        return value.split()
    return value


def apply(section, table, target, allow_unknown=False):
    """Check section's entries against table and store them in dict target (defaults first)."""
    by_name = {}
    for key, kind, default, _ in table:
        by_name[key.lower()] = (key, kind)
        if key not in target:
            target[key] = list(default) if isinstance(default, list) else default
    seen = {}
    for key, value, line in section.entries:
        entry = by_name.get(key.lower())
        if entry is None:
            if allow_unknown:
                continue
            raise ConfigError(section.path, line, "unknown key %r in [%s]" % (key, section.name))
        name, kind = entry
        if kind == T_REPEAT:
            if name not in seen:
                target[name] = []
            target[name].append(value)
        else:
            if name in seen:
                raise ConfigError(section.path, line, "%s given twice in [%s]" % (name, section.name))
            if value == "" and kind != T_LIST:
                raise ConfigError(section.path, line, "%s needs a value" % name)
            target[name] = _convert(section.path, line, name, kind, value)
        seen[name] = line
    return target


def defaults():
    conf = {}
    for key, _kind, default, _ in SERVER_KEYS:
        conf[key] = list(default) if isinstance(default, list) else default
    return conf


def parse_listen(value, path="", line=0):
    """'[addr:]port [transport]' -> (host, port, transport)."""
    parts = value.split()
    transport = parts[1] if len(parts) > 1 else "liana"
    spec = parts[0] if parts else ""
    host = "0.0.0.0"
    if spec.startswith("["):
        close = spec.find("]")
        if close < 0 or spec[close + 1 : close + 2] != ":":
            raise ConfigError(path, line, "bad Listen %r: use [v6addr]:port" % value)
        host = spec[1:close]
        spec = spec[close + 2 :]
    elif ":" in spec:
        host, spec = spec.rsplit(":", 1)
    try:
        port = int(spec)
    except ValueError:
        raise ConfigError(path, line, "bad Listen %r: the port must be a number" % value) from None
    if not 0 < port < 65536:
        raise ConfigError(path, line, "bad Listen %r: port out of range" % value)
    return host, port, transport


class Config:
    """Everything the server runs with: server keys, mime table, plugins, virtual hosts."""

    def __init__(self):
        self.server = defaults()
        self.path = ""  # the configuration folder, or "" in one-shot mode
        self.server_file = ""
        self.mime = {}
        self.plugins = []  # (name, path, line) from plugins.load
        self.vhosts = []
        self.listeners = []

    def finish(self):
        """Derived values; validate what only makes sense across keys."""
        s = self.server
        self.listeners = [parse_listen(v, self.server_file, 0) for v in s["Listen"]]
        if s["MaxRequestSize"] < 1:
            raise ConfigError(self.server_file, 0, "MaxRequestSize must be at least 1 (KB)")
        if s["RequestBuffer"] < 256:
            raise ConfigError(self.server_file, 0, "RequestBuffer must be at least 256 bytes")
        if not self.vhosts:
            raise ConfigError(self.path + "/sites", 0, "no virtual host is configured")


def load(confdir, server_file="monkey.conf"):
    """Read a Monkey configuration folder into a Config; raises ConfigError."""
    from . import mime, vhost

    conf = Config()
    conf.path = confdir.rstrip("/") or "/"
    conf.server_file = rconf._join(conf.path, server_file)
    if not compat.isdir(conf.path):
        raise ConfigError(conf.path, 0, "configuration folder does not exist")
    found = False
    for sec in rconf.read(conf.server_file):
        if sec.name != "SERVER":
            raise ConfigError(sec.path, sec.line, "unknown section [%s] (expected [SERVER])" % sec.name)
        apply(sec, SERVER_KEYS, conf.server)
        found = True
    if not found:
        raise ConfigError(conf.server_file, 0, "no [SERVER] section")
    mime_file = rconf._join(conf.path, "monkey.mime")
    conf.mime = mime.load(mime_file) if compat.exists(mime_file) else mime.builtin()
    plugins_file = rconf._join(conf.path, "plugins.load")
    if compat.exists(plugins_file):
        for sec in rconf.read(plugins_file):
            if sec.name != "PLUGINS":
                raise ConfigError(sec.path, sec.line, "unknown section [%s] (expected [PLUGINS])" % sec.name)
            for key, value, line in sec.entries:
                if key.lower() != "load":
                    raise ConfigError(sec.path, line, "unknown key %r in [PLUGINS] (expected Load)" % key)
                if not value:
                    raise ConfigError(sec.path, line, "Load needs a plugin name")
                conf.plugins.append((value, sec.path, line))
    sites = rconf._join(conf.path, "sites")
    if not compat.isdir(sites):
        raise ConfigError(sites, 0, "sites folder does not exist")
    names = sorted(n for n in os.listdir(sites) if not n.startswith(".") and not n.endswith("~"))
    # 'default' first: it answers requests whose Host matches no other virtual host.
    if "default" in names:
        names.remove("default")
        names.insert(0, "default")
    for name in names:
        conf.vhosts.append(vhost.load(rconf._join(sites, name), conf))
    conf.finish()
    return conf


def one_shot(docroot, port=None):
    """A configuration serving one folder with every default (Monkey's -o)."""
    from . import mime, vhost

    conf = Config()
    conf.mime = mime.builtin()
    conf.server_file = "(one-shot)"
    if port is not None:
        conf.server["Listen"] = [str(port)]
    conf.vhosts.append(vhost.VHost("(one-shot)", [], docroot, conf))
    conf.finish()
    return conf
