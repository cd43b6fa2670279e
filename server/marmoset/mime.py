"""Content types by file extension: Monkey's monkey.mime ([MIMETYPES] ext type)."""

from . import rconf

_BUILTIN = (
    ("html", "text/html"), ("htm", "text/html"), ("css", "text/css"), ("js", "application/javascript"),
    ("json", "application/json"), ("txt", "text/plain"), ("xml", "text/xml"), ("svg", "image/svg+xml"),
    ("png", "image/png"), ("jpg", "image/jpeg"), ("jpeg", "image/jpeg"), ("gif", "image/gif"),
    ("ico", "image/x-icon"), ("webp", "image/webp"), ("pdf", "application/pdf"), ("wasm", "application/wasm"),
    ("gz", "application/gzip"), ("tar", "application/x-tar"), ("zip", "application/zip"),
    ("mp4", "video/mp4"), ("mp3", "audio/mpeg"), ("woff", "font/woff"), ("woff2", "font/woff2"),
)


def builtin():
    table = {}
    for ext, kind in _BUILTIN:
        table[ext] = kind
    return table


def load(path):
    """{extension: type}, lowercase extensions; raises ConfigError on a bad line."""
    table = {}
    for sec in rconf.read(path):
        if sec.name != "MIMETYPES":
            raise rconf.ConfigError(sec.path, sec.line, "unknown section [%s] (expected [MIMETYPES])" % sec.name)
        for ext, kind, line in sec.entries:
            if not kind or " " in kind or "/" not in kind:
                raise rconf.ConfigError(sec.path, line, "bad MIME type %r for extension %s" % (kind, ext))
            table[ext.lower()] = kind
    return table


def lookup(table, path, default):
    dot = path.rfind(".")
    if dot < 0 or path.find("/", dot) >= 0:
        return default
    return table.get(path[dot + 1 :].lower(), default)
