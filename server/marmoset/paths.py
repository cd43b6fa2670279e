"""From a request target to a file path that can never leave the DocumentRoot.

The target is percent-decoded once, then normalised ('.', '..', '//'); a '..' that would
climb above the root, a NUL byte, a backslash or bad UTF-8 is refused. Symbolic links are
resolved component by component and, unless SymLink is on, a link leading outside the root
is refused too.
"""

from . import compat

OK = 0

def _hexval(c):
    if 48 <= c <= 57:
        return c - 48
    c |= 32
    if 97 <= c <= 102:
        return c - 87
    return -1


def decode(raw):
    """Percent-decode raw target bytes (query already cut off): (status, str path)."""
    if raw.find(b"%") < 0:
        out = raw
    else:
        out = bytearray()
        i = 0
        n = len(raw)
        while i < n:
            c = raw[i]
            if c == 37:
                if i + 2 >= n:
                    return 400, None
                hi = _hexval(raw[i + 1])
                lo = _hexval(raw[i + 2])
                if hi < 0 or lo < 0:
                    return 400, None
                out.append(hi * 16 + lo)
                i += 3
            else:
                out.append(c)
                i += 1
    if out.find(b"\0") >= 0:
        return 400, None
    if out.find(b"\\") >= 0:
        return 403, None
    try:
        path = str(out, "utf-8")
    except UnicodeError:
        return 400, None
    return OK, path


def normalize(path):
    """'/a/./b/../c' -> '/a/c'; None when '..' climbs above '/'. Keeps a trailing '/'."""
    if path.find("/.") < 0 and path.find("//") < 0:
        return path  # already normal: the common case allocates nothing
    parts = []
    for seg in path.split("/"):
        if seg == "" or seg == ".":
            continue
        if seg == "..":
            if not parts:
                return None
            parts.pop()
        else:
            parts.append(seg)
    out = "/" + "/".join(parts)
    if path.endswith("/") and parts:
        out += "/"
    return out


def realpath(path):
    """Absolute path with every symbolic link resolved (os.path.realpath for both ports)."""
    if not path.startswith("/"):
        path = _getcwd().rstrip("/") + "/" + path
    resolved = ""
    todo = [s for s in path.split("/") if s]
    hops = 0
    while todo:
        seg = todo.pop(0)
        if seg == ".":
            continue
        if seg == "..":
            resolved = resolved[: resolved.rfind("/")]
            continue
        candidate = resolved + "/" + seg
        if compat.is_symlink(candidate):
            hops += 1
            if hops > 40:
                return candidate  # a loop: stat() will fail on it later
            target = compat.readlink(candidate)
            if target.startswith("/"):
                resolved = ""
            todo = [s for s in target.split("/") if s] + todo
            continue
        resolved = candidate
    return resolved or "/"


def inside(root, path):
    return path == root or path.startswith(root + "/")


def confined(root, rel):
    """True when root + rel, with symbolic links followed, stays inside root.

    rel is normalised (no '..'), so only a link can lead out: lstat each component and
    resolve fully only when one is a link.
    """
    # Walk the components with find(): one string per component, no list.
    i = 1
    n = len(rel)
    while i <= n:
        j = rel.find("/", i)
        if j < 0:
            j = n
        if j > i and compat.is_symlink(root + rel[:j]):
            return inside(realpath(root), realpath(root + rel))
        i = j + 1
    return True


def _getcwd():
    import os

    return os.getcwd()
