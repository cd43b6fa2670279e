"""Answering one parsed request: Monkey's pipeline for static files.

decode URL -> virtual host -> Redirect -> stage 30 handlers -> path confinement -> stat ->
directory (301 / index file) -> method -> MIME type -> validators (304) -> Range -> head ->
body. The head (and a small body) is written into the worker's Out buffer; a larger body is
left on the connection (open file, offset, count) for the worker to send as the socket allows.
"""

from . import compat, mime, parser, paths, plugin, response, vhost
from .compat import ST_MODE, ST_MTIME, ST_SIZE
from .parser import H_IF_MODIFIED_SINCE, H_IF_NONE_MATCH, H_IF_RANGE, H_RANGE, M_GET, M_HEAD, M_OPTIONS, M_OTHER, M_POST

_ALLOW = b"Allow: GET, HEAD, POST, OPTIONS\r\n"


class Request:
    """What a stage-30 handler is given about the request."""

    def __init__(self, conn, vh, path, query, full):
        self.conn = conn
        self.vhost = vh
        self.path = path  # decoded, normalised URI path
        self.query = query  # raw query string (bytes, without '?') or b""
        self.file = full  # the file it maps to under DocumentRoot
        self.method = parser.METHOD_NAMES[conn.method]


def handle(w, conn):
    """Answer the request in conn's buffer into w.out; returns the status sent."""
    buf = conn.buf
    ts = conn.target_start
    te = conn.target_end
    q = buf.find(b"?", ts, te)
    raw = bytes(buf[ts : q if q >= 0 else te])
    query = bytes(buf[q + 1 : te]) if q >= 0 else b""
    if conn.method == M_OTHER:
        return error(w, conn, 501, "")
    if conn.method == M_OPTIONS and raw == b"*":
        return options(w, conn)
    st, path = paths.decode(raw)
    if st:
        return error(w, conn, st, "")
    path = paths.normalize(path)
    if path is None:
        return error(w, conn, 403, "")
    host = conn.abs_host
    if host is not None:
        host = memoryview(buf)[host[0] : host[1]]
    else:
        host = parser.header(conn, buf, parser.H_HOST)
    vh = vhost.select(w.conf.vhosts, host)
    conn.vhost = vh
    if vh.redirect:
        return redirect(w, conn, vh.redirect.rstrip("/") + path)
    root = vh.docroot
    rel = path
    if w.userdir and path.startswith("/~"):
        root, rel = _user_dir(w, path)
        if root is None:
            return error(w, conn, 404, path)
    full = root + rel
    if vh.handlers:
        for rx, name, params, _text in vh.handlers:
            if rx.match(path):
                ret = w.plugins.by_name[name].stage30(w, conn, Request(conn, vh, path, query, full), params)
                if ret != plugin.NOT_ME:
                    return ret
    if not w.symlink and not paths.confined(root, rel):
        return error(w, conn, 403, path)
    st = compat.stat(full)
    if st is None:
        return error(w, conn, 404, path)
    mode = st[ST_MODE]
    if compat.is_dir_mode(mode):
        if not path.endswith("/"):
            loc = path + "/"
            if query:
                loc += "?" + str(query, "utf-8")
            return redirect(w, conn, loc)
        for index in w.indexfiles:
            st = compat.stat(full + index)
            if st is not None and compat.is_file_mode(st[ST_MODE]):
                if not w.symlink and not paths.confined(root, rel + index):
                    return error(w, conn, 403, path)
                full = full + index
                break
        else:
            return error(w, conn, 403, path)
    elif not compat.is_file_mode(mode):
        return error(w, conn, 403, path)
    if conn.method == M_OPTIONS:
        return options(w, conn)
    if conn.method != M_GET and conn.method != M_HEAD and conn.method != M_POST:
        return error(w, conn, 405, path)
    return static(w, conn, full, st[ST_SIZE], st[ST_MTIME])


def static(w, conn, full, size, mtime):
    buf = conn.buf
    out = w.out
    status = 200
    start = 0
    end = size  # exclusive
    if _not_modified(w, conn, buf, mtime, size):
        status = 304
    elif w.resume and conn.hdr[2 * H_RANGE] and _range_applies(w, conn, buf, mtime, size):
        r = _parse_range(parser.header(conn, buf, H_RANGE), size)
        if r is not None:
            if r[0] < 0:
                return range_error(w, conn, size)
            status = 206
            start, end = r
    out.pos = 0
    begin(w, conn, status)
    out.add(w.mime_line(full))
    out.add(w.last_modified.get(mtime))
    out.add(b"ETag: ")
    out.etag(mtime, size)
    out.add(b"\r\n")
    if w.resume:
        out.add(response.ACCEPT_RANGES)
    if status == 304:
        finish(w, conn, -1)
        return status
    if status == 206:
        out.add(b"Content-Range: bytes ")
        out.num(start)
        out.add(b"-")
        out.num(end - 1)
        out.add(b"/")
        out.num(size)
        out.add(b"\r\n")
    count = end - start
    finish(w, conn, count)
    if conn.method == M_HEAD or count == 0:
        return status
    try:
        f = open(full, "rb")
    except OSError:
        # Vanished or unreadable between stat and open: nothing was sent yet.
        return error(w, conn, 403, full)
    if start:
        f.seek(start)
    room = len(out.buf) - out.pos
    if count <= room:
        # Small body: head and body leave in one write (no Nagle stall, one system call).
        n = f.readinto(out.mv[out.pos : out.pos + count])
        f.close()
        if n != count:
            return error(w, conn, 500, "")  # the file shrank between stat and read
        out.pos += count
    else:
        conn.file = f
        conn.file_off = start
        conn.file_left = count
    return status


def begin(w, conn, status):
    out = w.out
    out.pos = 0
    conn.status = status
    out.add(response.status_line(status))
    out.add(w.server_line)
    out.add(w.clock.date_line())


def finish(w, conn, length):
    """Content-Length (unless -1), Connection and the blank line."""
    out = w.out
    if length >= 0:
        out.add(b"Content-Length: ")
        out.num(length)
        out.add(b"\r\n")
    keep = conn.keep_alive and w.keepalive and conn.served + 1 < w.max_keepalive and not w.stopping
    conn.keep = keep
    if keep:
        if conn.version == 0:
            out.add(response.KEEP_ALIVE)
    else:
        out.add(response.CLOSE)
    out.add(b"\r\n")


def error(w, conn, status, detail):
    """An error response: the vhost's page for the status, or the built-in one."""
    vh = conn.vhost
    page = vh.error_pages.get(status) if vh is not None else None
    body = None
    if page is not None:
        try:
            with open(page, "rb") as f:
                body = f.read()
        except OSError:
            body = None
    if body is None:
        body = response.error_body(status, detail, w.version_text)
    begin(w, conn, status)
    out = w.out
    out.add(b"Content-Type: text/html; charset=utf-8\r\n")
    if status == 405:
        out.add(_ALLOW)
    if status >= 500 or status in (400, 411, 413, 414, 431):
        conn.keep_alive = False  # framing may be lost: never read another request after these
    finish(w, conn, len(body))
    if conn.method != M_HEAD:
        _add_body(w, body)
    return status


def redirect(w, conn, location):
    begin(w, conn, 301)
    out = w.out
    out.add(b"Location: ")
    out.add(bytes(_location(location), "utf-8"))
    out.add(b"\r\nContent-Type: text/html; charset=utf-8\r\n")
    body = response.error_body(301, location, w.version_text)
    finish(w, conn, len(body))
    if conn.method != M_HEAD:
        _add_body(w, body)
    return 301


def options(w, conn):
    begin(w, conn, 200)
    w.out.add(_ALLOW)
    finish(w, conn, 0)
    return 200


def range_error(w, conn, size):
    begin(w, conn, 416)
    out = w.out
    out.add(b"Content-Range: bytes */")
    out.num(size)
    out.add(b"\r\n")
    finish(w, conn, 0)
    return 416


def _add_body(w, body):
    out = w.out
    if out.pos + len(body) <= len(out.buf):
        out.add(body)
    else:
        w.extra = body  # a large custom error page: sent after the head


def _location(path):
    # Header injection guard: nothing below 0x21 survives into a Location header.
    out = []
    for ch in path:
        o = ord(ch)
        if o < 33 or o == 127:
            out.append("%%%02X" % o)
        else:
            out.append(ch)
    return "".join(out)


def _not_modified(w, conn, buf, mtime, size):
    inm = parser.header(conn, buf, H_IF_NONE_MATCH)
    if inm is not None:
        tag = w.out
        save = tag.pos
        tag.etag(mtime, size)
        etag = bytes(tag.buf[save : tag.pos])
        tag.pos = save
        value = bytes(inm)
        if value.strip() == b"*":
            return True
        for part in value.split(b","):
            part = part.strip()
            if part.startswith(b"W/"):
                part = part[2:]
            if part == etag:
                return True
        return False  # If-None-Match present: If-Modified-Since is ignored (RFC 9110 13.2.2)
    ims = parser.header(conn, buf, H_IF_MODIFIED_SINCE)
    if ims is not None and (conn.method == M_GET or conn.method == M_HEAD):
        t = response.parse_http_date(ims)
        return t >= 0 and mtime <= t
    return False


def _range_applies(w, conn, buf, mtime, size):
    ir = parser.header(conn, buf, H_IF_RANGE)
    if ir is None:
        return True
    value = bytes(ir).strip()
    if value.startswith(b'"'):
        out = w.out
        save = out.pos
        out.etag(mtime, size)
        ok = bytes(out.buf[save : out.pos]) == value
        out.pos = save
        return ok
    return response.parse_http_date(value) == mtime


def _parse_range(value, size):
    """(start, end) for one 'bytes=a-b' range; (-1, -1) if unsatisfiable; None to ignore."""
    v = bytes(value).strip()
    if not v.startswith(b"bytes=") or b"," in v:
        return None  # other units or several ranges: answer 200 with the whole file
    spec = v[6:].strip()
    dash = spec.find(b"-")
    if dash < 0:
        return None
    a = spec[:dash].strip()
    b = spec[dash + 1 :].strip()
    if not _digits(a) and a or not _digits(b) and b or not a and not b:
        return None
    if not a:
        n = int(b)
        if n == 0:
            return -1, -1
        return (size - n if n < size else 0), size
    start = int(a)
    if start >= size:
        return -1, -1
    end = int(b) + 1 if b else size
    if end <= start:
        return None  # last-byte-pos before first-byte-pos: invalid, ignored (RFC 9110 14.1.1)
    return start, end if end < size else size


def _digits(b):
    if not b:
        return False
    for c in b:
        if not 48 <= c <= 57:
            return False
    return True


def _user_dir(w, path):
    """('/home/user/<UserDir>', rest of path) for /~user/..., or (None, None)."""
    slash = path.find("/", 2)
    user = path[2:slash] if slash > 0 else path[2:]
    rest = path[slash:] if slash > 0 else "/"
    try:
        entry = compat.user_by_name(user)
    except OSError:
        entry = None
    if entry is None:
        return None, None
    root = paths.realpath(entry[2].rstrip("/") + "/" + w.userdir)
    if compat.stat(root) is None:
        return None, None
    return root, rest


def mime_line(table, default, path):
    return bytes("Content-Type: %s\r\n" % mime.lookup(table, path, default), "utf-8")


def respond(w, conn, status, content_type, body, headers=b""):
    """A complete response from a plugin (stage 30): status, type, body bytes, extra header lines."""
    begin(w, conn, status)
    out = w.out
    out.add(b"Content-Type: ")
    out.add(content_type)
    out.add(b"\r\n")
    if headers:
        out.add(headers)
    finish(w, conn, len(body))
    if conn.method != M_HEAD:
        _add_body(w, body)
    return plugin.END
