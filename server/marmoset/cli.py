"""Command line, with Monkey's flags: -c -s -p -w -o -v -h (and -D refused with a reason)."""

import sys

from . import VERSION, config
from .rconf import ConfigError

USAGE = """Usage: marmoset [OPTION]...
Serve static sites with Monkey's configuration format.

  -c, --configdir DIR    configuration folder (monkey.conf, sites/, plugins.load)
  -s, --serverconf FILE  main configuration file inside DIR (default monkey.conf)
  -p, --port PORT        listen on PORT instead of the configured Listen
  -w, --workers N        number of worker threads (0: one per CPU core)
  -o, --one-shot DIR     serve DIR with default settings, without configuration files
  -v, --version          print the version and exit
  -h, --help             print this help and exit
      --config-reference print the configuration keys as a Markdown table
"""

_WITH_VALUE = {"-c": "configdir", "--configdir": "configdir", "-s": "serverconf", "--serverconf": "serverconf",
               "-p": "port", "--port": "port", "-w": "workers", "--workers": "workers",
               "-o": "oneshot", "--one-shot": "oneshot"}


def parse_args(argv):
    opts = {}
    i = 0
    while i < len(argv):
        a = argv[i]
        value = None
        if a.startswith("--") and "=" in a:
            a, value = a.split("=", 1)
        if a in ("-h", "--help", "-v", "--version", "--config-reference"):
            opts[a.lstrip("-")[0] if a != "--config-reference" else "reference"] = True
        elif a in ("-D", "--daemon"):
            raise ValueError("-D/--daemon is not supported: run under an init system (start-stop-daemon --background)")
        elif a in _WITH_VALUE:
            if value is None:
                i += 1
                if i >= len(argv):
                    raise ValueError("%s needs a value" % a)
                value = argv[i]
            opts[_WITH_VALUE[a]] = value
        else:
            raise ValueError("unknown option %r" % a)
        i += 1
    for key in ("port", "workers"):
        if key in opts:
            try:
                opts[key] = int(opts[key])
            except ValueError:
                raise ValueError("--%s needs a number, not %r" % (key, opts[key])) from None
    return opts


def reference():
    lines = ["| Key | Default | Meaning |", "|---|---|---|"]
    for key, _kind, default, doc in config.SERVER_KEYS:
        if isinstance(default, bool):
            shown = "on" if default else "off"
        elif isinstance(default, list):
            shown = " ".join(default)
        else:
            shown = str(default)
        lines.append("| `%s` | `%s` | %s |" % (key, shown, doc) if shown else "| `%s` | (empty) | %s |" % (key, doc))
    return "\n".join(lines)


def _with_port(listens, port):
    """Monkey's -p: the configured addresses, on another port."""
    out = []
    for value in listens:
        host, _, transport = config.parse_listen(value)
        host = "[%s]" % host if ":" in host else host
        spec = "%s:%d %s" % (host, port, transport)
        if spec not in out:
            out.append(spec)
    return out


def main(argv):
    try:
        opts = parse_args(argv)
    except ValueError as exc:
        sys.stderr.write("marmoset: %s\n%s" % (exc, USAGE))
        return 2
    if opts.get("h"):
        sys.stdout.write(USAGE)
        return 0
    if opts.get("v"):
        sys.stdout.write("Marmoset %s\n" % VERSION)
        return 0
    if opts.get("reference"):
        sys.stdout.write(reference() + "\n")
        return 0
    try:
        if "oneshot" in opts:
            conf = config.one_shot(opts["oneshot"], opts.get("port"))
        else:
            conf = config.load(opts.get("configdir", "conf"), opts.get("serverconf", "monkey.conf"))
            if "port" in opts:
                conf.server["Listen"] = _with_port(conf.server["Listen"], opts["port"])
        if "workers" in opts:
            conf.server["Workers"] = opts["workers"]
        conf.finish()
        from . import server

        srv = server.Server(conf)
    except ConfigError as exc:
        sys.stderr.write("marmoset: configuration error: %s\n" % exc)
        return 1
    return srv.run()
