"""Monkey's configuration format: good files load whole, bad ones name file, line, problem."""

import os

from marmoset import config, rconf

_TMP = "/tmp/marmoset-unit-%d" % (os.getpid() if hasattr(os, "getpid") else 1)
_counter = [0]


def _write(name, text):
    _mkdir(_TMP)
    path = _TMP + "/" + name
    with open(path, "w") as f:
        f.write(text)
    return path


def _mkdir(path):
    try:
        os.mkdir(path)
    except OSError:
        pass


def _confdir(server, site="[HOST]\n    DocumentRoot /tmp\n", extra=None):
    _counter[0] += 1
    d = "%s/conf%d" % (_TMP, _counter[0])
    _mkdir(_TMP)
    _mkdir(d)
    _mkdir(d + "/sites")
    with open(d + "/monkey.conf", "w") as f:
        f.write(server)
    with open(d + "/sites/default", "w") as f:
        f.write(site)
    for name, text in (extra or {}).items():
        with open(d + "/" + name, "w") as f:
            f.write(text)
    return d


def _error(fn, *args):
    try:
        fn(*args)
    except rconf.ConfigError as exc:
        return exc
    raise AssertionError("no ConfigError")


def test_sections_keys_and_repeats():
    p = _write("a.conf", "# c\n[SERVER]\n    Listen 1\n    Listen 2\n\n    Workers 3\n[OTHER]\n\tK v w\n")
    secs = rconf.read(p)
    assert [s.name for s in secs] == ["SERVER", "OTHER"]
    assert secs[0].get_all("listen") == ["1", "2"]
    assert secs[0].get("WORKERS") == "3"
    assert secs[1].get("k") == "v w"


def test_indentation_errors_name_the_line():
    exc = _error(rconf.read, _write("b.conf", "[SERVER]\n    Listen 1\n  Workers 2\n"))
    assert exc.line == 3 and "indentation" in exc.problem
    exc = _error(rconf.read, _write("c.conf", "[SERVER]\nListen 1\n"))
    assert exc.line == 2 and "too low" in exc.problem
    exc = _error(rconf.read, _write("d.conf", "[SERVER]\n \tListen 1\n"))
    assert "mixed" in exc.problem
    exc = _error(rconf.read, _write("e.conf", "[SERVER]\n    Listen 1\n        Workers 1\n"))
    assert "extra" in exc.problem
    exc = _error(rconf.read, _write("f.conf", "Listen 1\n"))
    assert "outside" in exc.problem


def test_include_with_glob():
    _write("inc-1.conf", "[ONE]\n    A 1\n")
    _write("inc-2.conf", "[TWO]\n    B 2\n")
    p = _write("main.conf", "@INCLUDE inc-*.conf\n[THREE]\n    C 3\n")
    assert [s.name for s in rconf.read(p)] == ["ONE", "TWO", "THREE"]


def test_defaults_and_values():
    d = _confdir("[SERVER]\n    Listen 8080\n    KeepAlive off\n    Indexfile a.html b.html\n")
    conf = config.load(d)
    s = conf.server
    assert s["Listen"] == ["8080"] and s["KeepAlive"] is False
    assert s["Indexfile"] == ["a.html", "b.html"]
    assert s["Timeout"] == 15 and s["MaxRequestSize"] == 32 and s["KeepAliveTimeout"] == 5
    assert conf.listeners == [("0.0.0.0", 8080, "liana")]
    assert conf.vhosts[0].docroot == "/tmp"


def test_bad_values_are_refused():
    for text, words in (
        ("[SERVER]\n    Workers many\n", "whole number"),
        ("[SERVER]\n    KeepAlive maybe\n", "on or off"),
        ("[SERVER]\n    Colour blue\n", "unknown key"),
        ("[SERVER]\n    Timeout 1\n    Timeout 2\n", "twice"),
        ("[SERVER]\n    Listen 99999\n", "port out of range"),
        ("[SERVER]\n    Listen http\n", "port must be a number"),
        ("[SERVER]\n    Listen 80 tls\n", "not loaded"),
        ("[SERVERS]\n    Listen 80\n", "unknown section"),
    ):
        d = _confdir(text)
        exc = _error(_load_with_plugins, d)
        assert words in str(exc), (text, str(exc))


def _load_with_plugins(d):
    from marmoset import plugin

    plugin.load(config.load(d))


def test_site_errors():
    exc = _error(config.load, _confdir("[SERVER]\n    Listen 1\n", "[HOST]\n    ServerName x\n"))
    assert "no DocumentRoot" in str(exc)
    exc = _error(config.load, _confdir("[SERVER]\n    Listen 1\n", "[HOST]\n    DocumentRoot /nonexistent/x\n"))
    assert "does not exist" in str(exc) and "sites/default" in str(exc)
    conf = config.load(_confdir("[SERVER]\n    Listen 1\n", "[HOST]\n    DocumentRoot /tmp\n[ERROR_PAGES]\n    404 /nonexistent.html\n"))
    assert conf.vhosts[0].error_pages[404] == "/nonexistent.html"  # a warning only: site content may come later
    exc = _error(config.load, _confdir("[SERVER]\n    Listen 1\n", "[HOST]\n    DocumentRoot /tmp\n[ERROR_PAGES]\n    99 x.html\n"))
    assert "not 4xx or 5xx" in str(exc)
    exc = _error(config.load, _confdir("[SERVER]\n    Listen 1\n", "[HOST]\n    DocumentRoot /tmp\n[HANDLERS]\n    Match /x\n"))
    assert "Match needs" in str(exc)


def test_handler_naming_a_missing_plugin_is_an_error():
    d = _confdir("[SERVER]\n    Listen 1\n", "[HOST]\n    DocumentRoot /tmp\n[HANDLERS]\n    Match /cgi-bin/.* nosuch\n")
    exc = _error(_load_with_plugins, d)
    assert "nosuch" in str(exc)


def test_plugins_load_errors():
    d = _confdir("[SERVER]\n    Listen 1\n", extra={"plugins.load": "[PLUGINS]\n    Load does_not_exist\n"})
    exc = _error(_load_with_plugins, d)
    assert "plugins.load:2" in str(exc) and "cannot load plugin" in str(exc)


def test_mime_table():
    from marmoset import mime

    d = _confdir("[SERVER]\n    Listen 1\n", extra={"monkey.mime": "[MIMETYPES]\n    HTML text/html\n    x bad\n"})
    exc = _error(config.load, d)
    assert "monkey.mime:3" in str(exc)
    assert mime.lookup({"html": "text/html"}, "/a/b.HTML", "d") == "text/html"
    assert mime.lookup({"html": "text/html"}, "/a.b/c", "d") == "d"
