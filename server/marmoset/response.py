"""Response heads written straight into a worker's output buffer, and built-in error pages.

A head is assembled from prebuilt byte strings (status lines, Server, Date) and numbers
written digit by digit, so a response costs no string formatting. The Date line is rebuilt
at most once a second per worker (Clock).
"""

from . import VERSION, compat
from .compat import const

REASONS = {
    200: "OK", 206: "Partial Content", 301: "Moved Permanently", 304: "Not Modified",
    400: "Bad Request", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
    408: "Request Timeout", 411: "Length Required", 413: "Content Too Large",
    414: "URI Too Long", 416: "Range Not Satisfiable", 431: "Request Header Fields Too Large",
    500: "Internal Server Error", 501: "Not Implemented", 503: "Service Unavailable",
    505: "HTTP Version Not Supported",
}
_STATUS_LINES = {}
for _code in REASONS:
    _STATUS_LINES[_code] = bytes("HTTP/1.1 %d %s\r\n" % (_code, REASONS[_code]), "ascii")
del _code

_DAYS = (b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun")
_MONTHS = (b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec")
_MONTH_INDEX = {}
for _i in range(12):
    _MONTH_INDEX[_MONTHS[_i]] = _i + 1
del _i

KEEP_ALIVE = b"Connection: keep-alive\r\n"
CLOSE = b"Connection: close\r\n"
ACCEPT_RANGES = b"Accept-Ranges: bytes\r\n"
_OUT_SIZE = const(16384)


def server_line(hide_version):
    return b"Server: Marmoset\r\n" if hide_version else bytes("Server: Marmoset/%s\r\n" % VERSION, "ascii")


def status_line(code):
    line = _STATUS_LINES.get(code)
    if line is None:
        line = bytes("HTTP/1.1 %d Unknown\r\n" % code, "ascii")
    return line


class Out:
    """A worker's output buffer: a head (and a small body) is built here and sent at once."""

    def __init__(self, size=_OUT_SIZE):
        self.buf = bytearray(size)
        self.mv = memoryview(self.buf)
        self.pos = 0

    def add(self, data):
        p = self.pos
        n = len(data)
        self.mv[p : p + n] = data
        self.pos = p + n

    def num(self, value):
        """Decimal digits of a non-negative int, without making a string."""
        buf = self.buf
        p = self.pos
        if value == 0:
            buf[p] = 48
            self.pos = p + 1
            return
        end = p
        v = value
        while v:
            v //= 10
            end += 1
        self.pos = end
        while value:
            end -= 1
            buf[end] = 48 + value % 10
            value //= 10

    def hex(self, value):
        buf = self.buf
        p = self.pos
        end = p
        v = value
        while True:
            v >>= 4
            end += 1
            if not v:
                break
        self.pos = end
        while end > p:
            end -= 1
            d = value & 15
            buf[end] = 48 + d if d < 10 else 87 + d
            value >>= 4

    def two(self, value):
        buf = self.buf
        p = self.pos
        buf[p] = 48 + value // 10
        buf[p + 1] = 48 + value % 10
        self.pos = p + 2

    def http_date(self, t):
        """IMF-fixdate (RFC 9110 5.6.7) of epoch seconds t."""
        tm = compat.gmtime(t)
        self.add(_DAYS[tm[6]])
        self.add(b", ")
        self.two(tm[2])
        self.buf[self.pos] = 32
        self.pos += 1
        self.add(_MONTHS[tm[1] - 1])
        self.buf[self.pos] = 32
        self.pos += 1
        self.num(tm[0])
        self.buf[self.pos] = 32
        self.pos += 1
        self.two(tm[3])
        self.buf[self.pos] = 58
        self.pos += 1
        self.two(tm[4])
        self.buf[self.pos] = 58
        self.pos += 1
        self.two(tm[5])
        self.add(b" GMT")

    def etag(self, mtime, size):
        self.add(b'"')
        self.hex(mtime)
        self.buf[self.pos] = 45
        self.pos += 1
        self.hex(size)
        self.add(b'"')


class DateLine:
    """A header line holding an HTTP date ('Date: ...'), rebuilt only when the time changes."""

    def __init__(self, prefix):
        self.prefix = prefix
        self.time = -1
        self.line = b""
        self._out = Out(64)

    def get(self, t):
        if t != self.time:
            out = self._out
            out.pos = 0
            out.add(self.prefix)
            out.http_date(t)
            out.add(b"\r\n")
            self.line = bytes(out.buf[: out.pos])
            self.time = t
        return self.line


class Clock(DateLine):
    """The Date header line: built at most once a second."""

    def __init__(self):
        DateLine.__init__(self, b"Date: ")

    def date_line(self):
        return self.get(compat.now())


def parse_http_date(value):
    """Epoch seconds from an IMF-fixdate ('Sun, 06 Nov 1994 08:49:37 GMT'), or -1."""
    parts = bytes(value).split()
    if len(parts) != 6 or parts[5] != b"GMT":
        return -1
    try:
        day = int(parts[1])
        month = _MONTH_INDEX.get(parts[2], 0)
        year = int(parts[3])
        hms = parts[4].split(b":")
        hh, mm, ss = int(hms[0]), int(hms[1]), int(hms[2])
    except (ValueError, IndexError):
        return -1
    if not month or year < 1970:
        return -1
    return _days_from_civil(year, month, day) * 86400 + hh * 3600 + mm * 60 + ss


def _days_from_civil(y, m, d):
    # Howard Hinnant's algorithm: days since 1970-01-01, no time module needed (and no tz).
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def html_escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;").replace("'", "&#39;")


def error_body(code, detail, version_text):
    reason = REASONS.get(code, "Error")
    return bytes(
        "<!DOCTYPE html>\n<html><head><title>%d %s</title></head>\n<body><h1>%s</h1>\n<p>%s</p>\n"
        "<hr><address>%s</address></body></html>\n" % (code, reason, reason, html_escape(detail), version_text),
        "utf-8",
    )
