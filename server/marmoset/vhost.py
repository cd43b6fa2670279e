"""Virtual hosts: a sites/* file each, matched by the request's Host header."""

import os

from . import compat, config, rconf
from .rconf import ConfigError


class VHost:
    """One site: names, document root, redirect, error pages, handlers, plugin sections."""

    def __init__(self, file, names, docroot, conf):
        self.file = file
        self.names = [bytes(n.lower(), "utf-8") for n in names]  # bytes: Host is compared unconverted
        self.docroot = _realpath(docroot)
        if self.docroot is None:
            raise ConfigError(file, 0, "DocumentRoot %s does not exist or is not a folder" % docroot)
        self.redirect = ""
        self.error_pages = {}  # status -> file path
        self.handlers = []  # (compiled regex, plugin name, params, source text)
        self.logger = {"AccessLog": "", "ErrorLog": ""}
        self.sections = []  # every rconf.Section of the file, for plugins
        self.conf = conf


def load(path, conf):
    sections = rconf.read(path)
    host = {}
    found = None
    for sec in sections:
        table = config.SITE_SECTIONS.get(sec.name)
        if sec.name == "HOST":
            if found is not None:
                raise ConfigError(sec.path, sec.line, "a second [HOST] section")
            found = sec
            config.apply(sec, table, host)
    if found is None:
        raise ConfigError(path, 0, "no [HOST] section")
    if host["DocumentRoot"] is None:
        raise ConfigError(path, found.line, "[HOST] has no DocumentRoot")
    vh = VHost(path, host["ServerName"], host["DocumentRoot"], conf)
    vh.redirect = host["Redirect"]
    vh.sections = sections
    for sec in sections:
        if sec.name == "HOST":
            continue
        if sec.name == "LOGGER":
            config.apply(sec, config.LOGGER_KEYS, vh.logger)
        elif sec.name == "ERROR_PAGES":
            for key, value, line in sec.entries:
                try:
                    status = int(key)
                except ValueError:
                    raise ConfigError(sec.path, line, "error page key must be a status code, not %r" % key) from None
                if not 400 <= status <= 599:
                    raise ConfigError(sec.path, line, "error page status %d is not 4xx or 5xx" % status)
                page = value if value.startswith("/") else vh.docroot + "/" + value
                st = compat.stat(page)
                if st is None or not compat.is_file_mode(st[compat.ST_MODE]):
                    # Site content, not configuration: a deploy may drop it, and that must not
                    # stop the server from starting. Warn; the built-in page answers meanwhile.
                    from . import log

                    log.error(None, "warning: %s:%d: error page %s does not exist (the built-in page is used)" % (sec.path, line, page))
                vh.error_pages[status] = page
        elif sec.name == "HANDLERS":
            for key, value, line in sec.entries:
                if key.lower() != "match":
                    raise ConfigError(sec.path, line, "unknown key %r in [HANDLERS] (expected Match)" % key)
                parts = value.split()
                if len(parts) < 2:
                    raise ConfigError(sec.path, line, "Match needs a regular expression and a plugin name")
                try:
                    import re

                    rx = re.compile(parts[0])
                except Exception as exc:
                    raise ConfigError(sec.path, line, "bad regular expression %r (%s)" % (parts[0], exc)) from None
                vh.handlers.append((rx, parts[1], parts[2:], parts[0]))
        # Other sections ([AUTH], plugin ones) are checked by the plugin that reads them.
    return vh


def select(vhosts, host):
    """The VHost for a Host header value (bytes or None); the first one is the default."""
    if host and len(vhosts) > 1:
        name = _host_name(host)
        for vh in vhosts:
            for n in vh.names:
                if n == name:
                    return vh
    return vhosts[0]


def _host_name(host):
    h = bytes(host).lower()
    if h.startswith(b"["):
        return h[: h.find(b"]") + 1]
    colon = h.find(b":")
    return h[:colon] if colon >= 0 else h


def _realpath(path):
    """The absolute, normalised path of a folder (None if it is not one).

    Symbolic links in the DocumentRoot itself are kept, not resolved: a site deployed as
    'DocumentRoot -> releases/N' switches atomically when the link is replaced.
    """
    if not compat.isdir(path):
        return None
    from . import paths

    if not path.startswith("/"):
        path = os.getcwd().rstrip("/") + "/" + path
    return paths.normalize(path).rstrip("/") or "/"
