"""Cheetah's commands: each returns plain data (for JSON) and has a text form (for people).

Headings and wording follow Monkey's Cheetah; ``clients`` and ``memory`` are Marmoset's.
"""

import sys

from .. import VERSION, compat, config, plugin


def _user():
    uid = compat.geteuid()
    try:
        return compat.user_name(uid) or str(uid)
    except OSError:
        return str(uid)


def status(ch):
    srv = ch.server
    return {
        "version": VERSION,
        "interpreter": "%s %s" % (sys.implementation.name, ".".join(str(v) for v in sys.implementation.version[:3])),
        "config": srv.conf.path or "(one-shot)",
        "cheetah": {"mode": ch.mode, "socket": ch.path if ch.mode == "SERVER" else ""},
        "pid": srv.pid,
        "user": _user(),
        "listeners": [{"host": lst.host, "port": lst.port, "transport": lst.name} for lst in srv.listeners],
        "workers": len(srv.workers),
        "event_backend": compat.POLL_BACKEND,
        "uptime": compat.now() - srv.started,
    }


def status_text(ch, d):
    lines = [
        "Marmoset HTTP Server v%s (%s)" % (d["version"], d["interpreter"]),
        "-----------------------------",
        "- Configuration path  : %s" % d["config"],
        "- Cheetah! mode       : %s%s" % (d["cheetah"]["mode"], " (%s)" % d["cheetah"]["socket"] if d["cheetah"]["socket"] else ""),
        "- Process ID          : %d" % d["pid"],
        "- Server user         : %s" % d["user"],
        "- Server listening    : %s" % ", ".join("%s:%d (%s)" % (x["host"], x["port"], x["transport"]) for x in d["listeners"]),
        "- Worker threads      : %d" % d["workers"],
        "- Events backend      : %s" % d["event_backend"],
    ]
    return "\n".join(lines) + "\n\n"


def uptime_text_of(seconds):
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return "%d day(s), %d hour(s), %d minute(s) and %d second(s)" % (days, hours, minutes, secs)


def uptime(ch):
    s = compat.now() - ch.server.started
    return {"seconds": s, "text": uptime_text_of(s)}


def uptime_text(ch, d):
    return "Server has been running: %s\n\n" % d["text"]


def configuration(ch):
    s = ch.server.conf.server
    out = {}
    for key, _kind, _default, _doc in config.SERVER_KEYS:
        out[key] = s[key]
    return out


def configuration_text(ch, d):
    lines = ["Basic configuration", "-------------------"]
    for key, _kind, _default, _doc in config.SERVER_KEYS:
        v = d[key]
        if isinstance(v, bool):
            v = "on" if v else "off"
        elif isinstance(v, list):
            v = " ".join(v)
        lines.append("%-20s %s" % (key, v))
    return "\n".join(lines) + "\n\n"


def plugins_(ch):
    reg = ch.server.plugins
    items = []
    for p in reg.plugins:
        stages = reg.stages_of(p)
        items.append({"name": p.name, "description": getattr(p, "description", ""), "stages": stages,
                      "network": bool(getattr(p, "network", False))})
    return items


def plugins_text(ch, d):
    lines = ["List of plugins and stages", "--------------------------"]
    for st in plugin.STAGES:
        names = [p["name"] for p in d if st in p["stages"]]
        lines.append("STAGE_%d  : %s" % (st, " ".join(names) if names else "(none)"))
    lines.append("NETWORK   : %s" % " ".join(p["name"] for p in d if p["network"]))
    lines.append("")
    for p in d:
        lines.append("  %-10s %s" % (p["name"], p["description"]))
    return "\n".join(lines) + "\n\n"


def vhosts(ch):
    out = []
    for vh in ch.server.conf.vhosts:
        out.append({
            "names": [str(n, "utf-8") for n in vh.names],
            "document_root": vh.docroot,
            "file": vh.file,
            "redirect": vh.redirect,
            "error_pages": dict((str(k), v) for k, v in vh.error_pages.items()),
            "handlers": [{"match": h[3], "plugin": h[1], "params": h[2]} for h in vh.handlers],
        })
    return out


def vhosts_text(ch, d):
    lines = ["List of virtual hosts", "---------------------"]
    for vh in d:
        lines.append("* %s" % (" ".join(vh["names"]) or "(default)"))
        lines.append("      - Document root : %s" % vh["document_root"])
        lines.append("      - Config file   : %s" % vh["file"])
        if vh["redirect"]:
            lines.append("      - Redirect      : %s" % vh["redirect"])
        for code in sorted(vh["error_pages"]):
            lines.append("      - Error page %s: %s" % (code, vh["error_pages"][code]))
        for h in vh["handlers"]:
            lines.append("      - Handler       : %s -> %s" % (h["match"], h["plugin"]))
    return "\n".join(lines) + "\n\n"


def workers(ch):
    return [{"id": w.index, "active": w.active, "accepted": w.accepted, "requests": w.requests} for w in ch.server.workers]


def workers_text(ch, d):
    lines = ["Worker threads", "--------------", "%-6s %-8s %-10s %s" % ("ID", "ACTIVE", "ACCEPTED", "REQUESTS")]
    for w in d:
        lines.append("%-6d %-8d %-10d %d" % (w["id"], w["active"], w["accepted"], w["requests"]))
    return "\n".join(lines) + "\n\n"


def clients(ch):
    rows = []
    for w in ch.server.workers:
        got = w.call(lambda wk: wk.snapshot(compat.ticks_ms()))
        for r in got or ():
            rows.append({"worker": r[0], "peer": r[1], "state": r[2], "age": r[3], "requests": r[4], "bytes_sent": r[5]})
    return rows


def clients_text(ch, d):
    lines = ["Open connections: %d" % len(d), "%-6s %-24s %-8s %-8s %-9s %s" % ("WORKER", "PEER", "STATE", "AGE(s)", "REQUESTS", "BYTES")]
    for c in d:
        lines.append("%-6d %-24s %-8s %-8d %-9d %d" % (c["worker"], c["peer"], c["state"], c["age"], c["requests"], c["bytes_sent"]))
    return "\n".join(lines) + "\n\n"


def memory(ch):
    import gc

    used = gc.mem_alloc() if hasattr(gc, "mem_alloc") else None
    free = gc.mem_free() if hasattr(gc, "mem_free") else None
    return {"heap_used": used, "heap_free": free, "rss_kb": compat.rss_kb()}


def memory_text(ch, d):
    heap = "n/a (not MicroPython)" if d["heap_used"] is None else "%d bytes used, %d bytes free" % (d["heap_used"], d["heap_free"])
    return "Memory\n------\n- Heap : %s\n- RSS  : %d KB\n\n" % (heap, d["rss_kb"])


def help_(ch):
    return [{"command": name, "shortcut": "\\" + short, "description": desc} for name, short, desc in _HELP]


def help_text(ch, d):
    lines = ["List of available commands for Cheetah Shell", ""]
    for c in d:
        lines.append("%-8s %-4s %s" % (c["command"], c["shortcut"], c["description"]))
    return "\n".join(lines) + "\n\n"


def clear(ch):
    return True


def clear_text(ch, d):
    return "\x1b[2J\x1b[H"


_HELP = (
    ("?", "h", "synonym for 'help'"),
    ("config", "f", "display the main configuration"),
    ("clients", "n", "list open connections, one line each"),
    ("clear", "c", "clear the screen"),
    ("help", "h", "print this help"),
    ("memory", "m", "heap and resident memory"),
    ("plugins", "g", "list loaded plugins and their stages"),
    ("quit", "q", "exit Cheetah shell"),
    ("status", "s", "display general server information"),
    ("uptime", "u", "display how long the server has been running"),
    ("vhosts", "v", "list virtual hosts"),
    ("workers", "w", "list worker threads and their connections"),
)

COMMANDS = {
    "help": (help_, help_text),
    "config": (configuration, configuration_text),
    "status": (status, status_text),
    "uptime": (uptime, uptime_text),
    "plugins": (plugins_, plugins_text),
    "vhosts": (vhosts, vhosts_text),
    "workers": (workers, workers_text),
    "clients": (clients, clients_text),
    "memory": (memory, memory_text),
    "clear": (clear, clear_text),
    "quit": (None, None),
}
# Monkey's shortcuts ('\\f' for config, ...) come from the help table, so the two cannot disagree.
ALIASES = {"?": "help", "exit": "quit"}
for _name, _short, _doc in _HELP:
    if _name != "?":
        ALIASES["\\" + _short] = _name
del _name, _short, _doc
