"""Monkey's configuration file format ("rconf"), read strictly.

    # comment
    [SECTION]
        Key value with spaces
        Key another value          (a key may repeat: each line is kept, in order)
    @INCLUDE other.conf            (relative to the including file; '*' globs allowed)

Entries live under a section and are indented; a section's entries share one indentation
(the same run of spaces or tabs). Keys are case-insensitive (kept as written for messages).
Every problem raises ConfigError naming the file and line, and nothing is half-loaded.
"""

import os


class ConfigError(Exception):
    def __init__(self, path, line, problem):
        super().__init__("%s:%d: %s" % (path, line, problem) if line else "%s: %s" % (path, problem))
        self.path = path
        self.line = line
        self.problem = problem


class Section:
    """One [NAME] block: entries as (key, value, line) in file order."""

    def __init__(self, name, path, line):
        self.name = name
        self.path = path
        self.line = line
        self.entries = []

    def get(self, key, default=None):
        key = key.lower()
        for k, v, _ in self.entries:
            if k.lower() == key:
                return v
        return default

    def get_all(self, key):
        key = key.lower()
        return [v for k, v, _ in self.entries if k.lower() == key]


def read(path, _depth=0):
    """A list of Section objects from path (and the files it includes)."""
    if _depth > 8:
        raise ConfigError(path, 0, "@INCLUDE nested too deeply (a loop?)")
    try:
        with open(path) as f:
            text = f.read()
    except OSError as exc:
        raise ConfigError(path, 0, "cannot read file (%s)" % exc) from None
    sections = []
    current = None
    indent = None
    lineno = 0
    for raw in text.split("\n"):
        lineno += 1
        line = raw.rstrip()
        stripped = line.strip()
        if not stripped or stripped[0] == "#":
            continue
        if stripped.startswith("@INCLUDE"):
            pattern = stripped[8:].strip()
            if not pattern:
                raise ConfigError(path, lineno, "@INCLUDE needs a file name")
            for inc in _glob(_join(_dirname(path), pattern), path, lineno):
                sections.extend(read(inc, _depth + 1))
            continue
        lead = line[: len(line) - len(line.lstrip())]
        if stripped[0] == "[":
            if lead:
                raise ConfigError(path, lineno, "a section header must not be indented")
            if stripped[-1] != "]" or len(stripped) < 3:
                raise ConfigError(path, lineno, "bad section header %r" % stripped)
            current = Section(stripped[1:-1].strip().upper(), path, lineno)
            sections.append(current)
            indent = None
            continue
        if current is None:
            raise ConfigError(path, lineno, "entry outside of any [SECTION]")
        if not lead:
            raise ConfigError(path, lineno, "indentation too low: entries of [%s] must be indented" % current.name)
        if " " in lead and "\t" in lead:
            raise ConfigError(path, lineno, "mixed tabs and spaces in indentation")
        if indent is None:
            indent = lead
        elif lead != indent:
            if len(lead) > len(indent) and lead.startswith(indent):
                raise ConfigError(path, lineno, "extra indentation level")
            raise ConfigError(path, lineno, "inconsistent indentation (expected %d %s)" % (len(indent), "tab(s)" if indent[0] == "\t" else "space(s)"))
        parts = stripped.split(None, 1)
        current.entries.append((parts[0], parts[1].strip() if len(parts) > 1 else "", lineno))
    return sections


def _dirname(path):
    i = path.rfind("/")
    return path[:i] if i > 0 else ("/" if i == 0 else ".")


def _join(a, b):
    if b.startswith("/"):
        return b
    return a.rstrip("/") + "/" + b


def _match(pattern, name):
    """fnmatch for '*' and '?' (MicroPython has no fnmatch)."""
    if not pattern:
        return not name
    if pattern[0] == "*":
        for i in range(len(name) + 1):
            if _match(pattern[1:], name[i:]):
                return True
        return False
    if name and (pattern[0] == "?" or pattern[0] == name[0]):
        return _match(pattern[1:], name[1:])
    return False


def _glob(pattern, path, lineno):
    if "*" not in pattern and "?" not in pattern:
        return [pattern]
    folder = _dirname(pattern)
    base = pattern[len(folder) + 1 :] if folder != "/" else pattern[1:]
    try:
        names = os.listdir(folder)
    except OSError:
        raise ConfigError(path, lineno, "@INCLUDE folder %s does not exist" % folder) from None
    return [_join(folder, n) for n in sorted(names) if _match(base, n) and not n.startswith(".")]
