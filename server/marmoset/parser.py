"""Sans-I/O HTTP/1.x request parser: bytes in, a verdict out, no sockets.

``feed(req, buf, n)`` looks at ``buf[0:n]`` (the connection's own buffer, never copied) and
answers PENDING (need more bytes), READY (a whole request, body included, is in the buffer)
or an HTTP error status (400, 411, 413, 414, 431, 501, 505), after which the connection is
answered and closed. On READY the request's parts are offsets into the buffer plus a few
small integers on ``req``; nothing is decoded that the server may not need.

``req`` is any object made by ``Request.__init__``; the server's Connection is one, so the
parser state costs no allocation of its own. Scanning resumes where the last call stopped, so
a request trickled one byte at a time costs linear time, not quadratic.
"""

from .compat import const

PENDING = const(0)
READY = const(1)

# Method codes: small ints compare without allocation; names come from METHODS.
M_GET = const(1)
M_HEAD = const(2)
M_POST = const(3)
M_PUT = const(4)
M_DELETE = const(5)
M_OPTIONS = const(6)
M_OTHER = const(7)  # a well-formed method the server does not implement (501)
METHODS = {b"GET": M_GET, b"HEAD": M_HEAD, b"POST": M_POST, b"PUT": M_PUT, b"DELETE": M_DELETE, b"OPTIONS": M_OPTIONS}
METHOD_NAMES = ("", "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "OTHER")

# Headers the core looks at, by index into req.hdr (start, end offsets of the value).
H_HOST = const(0)
H_CONNECTION = const(1)
H_CONTENT_LENGTH = const(2)
H_TRANSFER_ENCODING = const(3)
H_RANGE = const(4)
H_IF_MODIFIED_SINCE = const(5)
H_IF_NONE_MATCH = const(6)
H_REFERER = const(7)
H_AUTHORIZATION = const(8)
H_USER_AGENT = const(9)
H_CONTENT_TYPE = const(10)
H_IF_RANGE = const(11)
N_HEADERS = const(12)
KNOWN = {
    b"host": H_HOST,
    b"connection": H_CONNECTION,
    b"content-length": H_CONTENT_LENGTH,
    b"transfer-encoding": H_TRANSFER_ENCODING,
    b"range": H_RANGE,
    b"if-modified-since": H_IF_MODIFIED_SINCE,
    b"if-none-match": H_IF_NONE_MATCH,
    b"referer": H_REFERER,
    b"authorization": H_AUTHORIZATION,
    b"user-agent": H_USER_AGENT,
    b"content-type": H_CONTENT_TYPE,
    b"if-range": H_IF_RANGE,
}
# Only names of these lengths can be known: other header names are never lowercased (no alloc).
_KNOWN_LENGTHS = bytes(sorted(set(len(k) for k in KNOWN)))

# tchar (RFC 9110 5.6.2) as a 256-byte table: one index per byte, no allocation.
_TCHAR = bytearray(256)
for _c in b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ":
    _TCHAR[_c] = 1
del _c

_MAX_HEADERS = const(100)
_TARGET_CTLS = (b"\0", b"\t", b"\r", b"\x1b", b"\x7f", b"\x0b", b"\x0c", b"\x08")


class Request:
    """Parser state for one connection, reset before every request.

    limit       largest request (line + headers + body) accepted, from MaxRequestSize
    max_uri     longest request target before 414
    """

    def __init__(self, limit=32768, max_uri=8192):
        self.limit = limit
        self.max_uri = max_uri
        self.hdr = [0] * (2 * N_HEADERS)
        self.reset()

    def reset(self):
        self.start = 0  # where the request line starts (after stray empty lines)
        self.abs_host = None  # (start, end) of the authority of an absolute-form target
        self.scan = 0  # where the search for the end of the head resumes
        self.head_end = 0  # offset of the body (just after the blank line)
        self.end = 0  # offset just after the body: the next pipelined request starts here
        self.method = 0
        self.method_end = 0
        self.target_start = 0
        self.target_end = 0
        self.version = 0  # minor version: 0 for HTTP/1.0, 1 for HTTP/1.1
        self.content_length = 0
        self.keep_alive = False
        self.nheaders = 0
        hdr = self.hdr
        for i in range(2 * N_HEADERS):
            hdr[i] = 0


def header(req, buf, index):
    """The value of a known header as a memoryview slice, or None."""
    s = req.hdr[2 * index]
    if s == 0:
        return None
    return memoryview(buf)[s : req.hdr[2 * index + 1]]


def header_bytes(req, buf, index):
    s = req.hdr[2 * index]
    if s == 0:
        return None
    return bytes(buf[s : req.hdr[2 * index + 1]])


def find_header(req, buf, name):
    """Any header by lowercase bytes name (a plugin's slow path; allocates)."""
    i = buf.find(b"\n", req.start, req.head_end) + 1
    end = req.head_end
    while i < end:
        j = buf.find(b"\n", i, end)
        if j < 0:
            break
        c = buf.find(b":", i, j)
        if c > 0 and bytes(buf[i:c]).lower() == name:
            return bytes(buf[c + 1 : j]).strip()
        i = j + 1
    return None


def feed(req, buf, n):
    """Look at buf[0:n]: PENDING, READY, or an error status. Never raises on any input."""
    if req.head_end == 0:
        # Tolerate empty lines before a request (RFC 9112 2.2): the line starts after them.
        i = req.start
        while i < n and (buf[i] == 13 or buf[i] == 10):
            i += 1
        req.start = i
        if i == n:
            return PENDING
        start = req.scan - 3 if req.scan > i + 3 else i
        end = buf.find(b"\n\r\n", start, n)
        lf_end = buf.find(b"\n\n", start, n)
        if end < 0 or (0 <= lf_end < end):
            end = lf_end
            head_end = lf_end + 2
        else:
            head_end = end + 3
        if end < 0:
            req.scan = n
            line_end = buf.find(b"\n", i, n)
            if n - i >= 8 and _bad_start(buf, i, n):
                return 400
            if line_end < 0:
                if n - i > req.max_uri:
                    return 414
            if n >= req.limit:
                return 431 if line_end >= 0 else 414
            return PENDING
        if head_end > req.limit:
            return 431
        status = _parse_head(req, buf, head_end)
        if status != READY:
            return status
        req.head_end = head_end
        req.end = head_end + req.content_length
        if req.end > req.limit:
            return 413
    if n < req.end:
        return PENDING
    return READY


def _bad_start(buf, s, n):
    """True when the bytes so far cannot begin a request line (fail fast on garbage)."""
    for i in range(s, n):
        c = buf[i]
        if c == 32:
            return i == s  # the method ended: the rest is judged once the head is whole
        if not _TCHAR[c]:
            return True
    return False


def _parse_head(req, buf, head_end):
    # ---- request line: METHOD SP target SP HTTP/1.x
    s = req.start
    line_end = buf.find(b"\n", s, head_end)
    le = line_end - 1 if buf[line_end - 1] == 13 else line_end
    sp1 = buf.find(b" ", s, le)
    if sp1 <= s:
        return 400
    for i in range(s, sp1):
        if not _TCHAR[buf[i]]:
            return 400
    sp2 = buf.find(b" ", sp1 + 1, le)
    if sp2 < 0 or sp2 == sp1 + 1:
        return 400
    if le - sp2 - 1 != 8 or buf.find(b"HTTP/", sp2 + 1, sp2 + 6) != sp2 + 1:
        return 400
    major = buf[sp2 + 6]
    minor = buf[sp2 + 8]
    if buf[sp2 + 7] != 46 or not 48 <= major <= 57 or not 48 <= minor <= 57:
        return 400
    if major != 49:
        return 505
    req.version = 1 if minor >= 49 else 0
    if sp2 - sp1 - 1 > req.max_uri:
        return 414
    # Control bytes in the target: searched in C (a byte loop here costs more than the rest).
    for bad in _TARGET_CTLS:
        if buf.find(bad, sp1 + 1, sp2) >= 0:
            return 400
    # The common methods are recognised in place; others cost a lookup.
    if sp1 - s == 3 and buf[s] == 71 and buf[s + 1] == 69 and buf[s + 2] == 84:
        req.method = M_GET
    else:
        req.method = METHODS.get(bytes(buf[s:sp1]), M_OTHER)
    req.method_end = sp1
    req.target_start = sp1 + 1
    req.target_end = sp2
    c = buf[sp1 + 1]
    if c != 47:  # not origin-form: absolute-form "http://host/path", or "*" for OPTIONS
        if c == 42 and sp2 == sp1 + 2:
            if req.method != M_OPTIONS:
                return 400
        elif not _absolute_form(req, buf, sp1 + 1, sp2):
            return 400
    # ---- header fields
    hdr = req.hdr
    count = 0
    i = line_end + 1
    last = head_end - 2 if buf[head_end - 2] == 13 else head_end - 1  # the blank line
    while i < last:
        j = buf.find(b"\n", i, head_end)
        e = j - 1 if buf[j - 1] == 13 else j
        c = buf[i]
        if c == 32 or c == 9:
            return 400  # obsolete line folding (RFC 9112 5.2)
        colon = buf.find(b":", i, e)
        if colon <= i:
            return 400
        for k in range(i, colon):
            if not _TCHAR[buf[k]]:
                return 400  # includes whitespace before the colon
        vs = colon + 1
        while vs < e and (buf[vs] == 32 or buf[vs] == 9):
            vs += 1
        ve = e
        while ve > vs and (buf[ve - 1] == 32 or buf[ve - 1] == 9):
            ve -= 1
        # RFC 9110 5.5: NUL, CR and LF in a value must be refused (LF cannot occur here);
        # other control bytes are passed through, as the RFC allows.
        if buf.find(b"\0", vs, ve) >= 0 or buf.find(b"\r", vs, ve) >= 0:
            return 400
        count += 1
        if count > _MAX_HEADERS:
            return 431
        if colon - i in _KNOWN_LENGTHS:
            idx = KNOWN.get(bytes(buf[i:colon]).lower(), -1)
            if idx >= 0:
                if hdr[2 * idx] != 0:
                    # A repeated Host or Content-Length is how requests get smuggled.
                    if idx == H_HOST or idx == H_CONTENT_LENGTH or idx == H_TRANSFER_ENCODING:
                        return 400
                else:
                    hdr[2 * idx] = vs  # never 0: a header follows the request line
                    hdr[2 * idx + 1] = ve
        i = j + 1
    req.nheaders = count
    # ---- message framing and persistence
    if hdr[2 * H_HOST] == 0 and req.version == 1:
        return 400
    te = hdr[2 * H_TRANSFER_ENCODING]
    cl = hdr[2 * H_CONTENT_LENGTH]
    if te:
        if cl:
            return 400  # both: a smuggling attempt; refuse and close
        v = bytes(buf[te : hdr[2 * H_TRANSFER_ENCODING + 1]]).lower()
        if v != b"chunked":
            return 501
        return 411  # bodies are buffered whole: ask for a length
    if cl:
        ce = hdr[2 * H_CONTENT_LENGTH + 1]
        if ce == cl or ce - cl > 10:
            return 400 if ce == cl else 413
        value = 0
        for k in range(cl, ce):
            d = buf[k] - 48
            if not 0 <= d <= 9:
                return 400
            value = value * 10 + d
        req.content_length = value
    elif req.method == M_POST or req.method == M_PUT:
        return 411
    req.keep_alive = _keep_alive(req, buf)
    return READY


def _absolute_form(req, buf, s, e):
    """Accept http://authority/path: the authority becomes Host, the path the target."""
    if e - s < 8 or bytes(buf[s : s + 7]).lower() != b"http://":
        return False
    a = s + 7
    p = buf.find(b"/", a, e)
    if p < 0 or p == a:
        return False
    req.target_start = p
    # RFC 9112 3.2.2: the authority in the target overrides any Host header.
    req.abs_host = (a, p)
    return True


def _keep_alive(req, buf):
    s = req.hdr[2 * H_CONNECTION]
    if s == 0:
        return req.version == 1
    v = bytes(buf[s : req.hdr[2 * H_CONNECTION + 1]]).lower()
    if req.version == 1:
        return v.find(b"close") < 0
    return v.find(b"keep-alive") >= 0
