"""Parser behaviour, each request also fed split at every byte boundary."""

from marmoset import parser
from marmoset.parser import PENDING, READY

GOOD = (
    (b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", parser.M_GET, b"/", 1, True),
    (b"GET /x?y=1 HTTP/1.0\r\n\r\n", parser.M_GET, b"/x?y=1", 0, False),
    (b"HEAD /k HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", parser.M_HEAD, b"/k", 0, True),
    (b"GET /c HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", parser.M_GET, b"/c", 1, False),
    (b"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", parser.M_POST, b"/p", 1, True),
    (b"GET /lf HTTP/1.1\nHost: a\n\n", parser.M_GET, b"/lf", 1, True),
    (b"\r\n\r\nGET /after-crlf HTTP/1.1\r\nHost: a\r\n\r\n", parser.M_GET, b"/after-crlf", 1, True),
    (b"GET / HTTP/1.1\r\nHost:   spaced   \r\nX-Empty:\r\n\r\n", parser.M_GET, b"/", 1, True),
    (b"BREW /pot HTTP/1.1\r\nHost: a\r\n\r\n", parser.M_OTHER, b"/pot", 1, True),
    (b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", parser.M_OPTIONS, b"*", 1, True),
)

BAD = (
    (b"GET / HTTP/1.1\r\n\r\n", 400),  # HTTP/1.1 without Host
    (b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
    (b"GET / HTTP/1.x\r\nHost: a\r\n\r\n", 400),
    (b"GET / FOO/1.1\r\nHost: a\r\n\r\n", 400),
    (b"GET /\r\n\r\n", 400),
    (b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    (b"G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    (b"GET /a\x00b HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: a\x00b\r\n\r\n", 400),  # NUL in a value (RFC 9110 5.5)
    (b"GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400),  # bare CR in a value
    (b"GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n", 400),  # control byte in the target
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", 411),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
    (b"POST / HTTP/1.1\r\nHost: a\r\n\r\n", 411),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999\r\n\r\n", 413),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n", 413),
    (b"GET /x HTTP/1.1\r\nHost: a\r\nbad\\name: 1\r\n\r\n", 400),
    (b"GET ftp://x/ HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    (b"GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400),  # a TLS hello on a plain port
)


def _feed_split(data, limit=4096):
    """Feed data growing one byte at a time; return the final verdict and the request."""
    req = parser.Request(limit, 2048)
    buf = bytearray(len(data) + 16)
    verdict = PENDING
    for k in range(1, len(data) + 1):
        buf[k - 1] = data[k - 1]
        verdict = parser.feed(req, buf, k)
        if verdict != PENDING:
            return verdict, req, buf, k
    return verdict, req, buf, len(data)


def _feed_whole(data, limit=4096):
    req = parser.Request(limit, 2048)
    buf = bytearray(data)
    return parser.feed(req, buf, len(buf)), req, buf


def test_good_requests_whole_and_split():
    for data, method, target, version, keep in GOOD:
        v, req, buf = _feed_whole(data)
        assert v == READY, (data, v)
        assert req.method == method, data
        assert bytes(buf[req.target_start : req.target_end]) == target, data
        assert req.version == version and req.keep_alive == keep, data
        assert req.end == len(data), data
        v2, req2, buf2, k = _feed_split(data)
        assert v2 == READY and k == len(data), (data, v2, k)
        assert bytes(buf2[req2.target_start : req2.target_end]) == target


def test_every_split_point_gives_the_same_verdict():
    # Two chunks at every boundary: the state kept between calls must not change the result.
    for data in [g[0] for g in GOOD] + [b[0] for b in BAD]:
        expected = _feed_whole(data)[0]
        for cut in range(1, len(data)):
            req = parser.Request(4096, 2048)
            buf = bytearray(data)
            first = parser.feed(req, buf, cut)
            if first != PENDING:
                assert first == expected, (data, cut, first, expected)
                continue
            assert parser.feed(req, buf, len(data)) == expected, (data, cut)


def test_bad_requests_get_their_status():
    for data, status in BAD:
        v = _feed_whole(data)[0]
        assert v == status, (data, v, status)
        v2 = _feed_split(data)[0]
        assert v2 == status, (data, "split", v2, status)


def test_body_is_part_of_the_request():
    data = b"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhel"
    v, req, buf = _feed_whole(data)
    assert v == PENDING
    assert req.head_end == len(data) - 3 and req.end == len(data) + 2


def test_pipelined_requests_are_parsed_in_order():
    one = b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
    two = b"GET /2 HTTP/1.1\r\nHost: a\r\n\r\n"
    buf = bytearray(one + two + b"GET /3 HT")
    req = parser.Request(4096, 2048)
    assert parser.feed(req, buf, len(buf)) == READY
    assert bytes(buf[req.target_start : req.target_end]) == b"/1"
    rest = len(buf) - req.end
    buf[0:rest] = buf[req.end :]
    req.reset()
    assert parser.feed(req, buf, rest) == READY
    assert bytes(buf[req.target_start : req.target_end]) == b"/2"
    rest2 = rest - req.end
    buf[0:rest2] = buf[req.end : rest]
    req.reset()
    assert parser.feed(req, buf, rest2) == PENDING


def test_headers_known_to_the_core_are_found():
    data = b"GET / HTTP/1.1\r\nhOsT: example.org:81\r\nRANGE: bytes=1-2\r\nIf-None-Match: \"x\"\r\nX-Other: 1\r\n\r\n"
    v, req, buf = _feed_whole(data)
    assert v == READY
    assert parser.header_bytes(req, buf, parser.H_HOST) == b"example.org:81"
    assert parser.header_bytes(req, buf, parser.H_RANGE) == b"bytes=1-2"
    assert parser.header_bytes(req, buf, parser.H_IF_NONE_MATCH) == b'"x"'
    assert parser.header_bytes(req, buf, parser.H_REFERER) is None
    assert parser.find_header(req, buf, b"x-other") == b"1"
    assert req.nheaders == 4


def test_absolute_form_gives_the_host():
    v, req, buf = _feed_whole(b"GET http://Example.org:8/a/b HTTP/1.1\r\nHost: other\r\n\r\n")
    assert v == READY
    assert bytes(buf[req.target_start : req.target_end]) == b"/a/b"
    assert bytes(buf[req.abs_host[0] : req.abs_host[1]]) == b"Example.org:8"


def test_limits_give_414_and_431():
    long_uri = b"GET /" + b"a" * 3000 + b" HTTP/1.1\r\nHost: a\r\n\r\n"
    assert _feed_whole(long_uri)[0] == 414
    assert _feed_split(long_uri)[0] == 414
    big_headers = b"GET / HTTP/1.1\r\nHost: a\r\n" + b"X-A: " + b"b" * 5000 + b"\r\n\r\n"
    assert _feed_whole(big_headers)[0] == 431
    many = b"GET / HTTP/1.1\r\nHost: a\r\n" + b"X: 1\r\n" * 101 + b"\r\n"
    assert _feed_whole(many, 8192)[0] == 431


def test_reset_clears_everything():
    v, req, buf = _feed_whole(b"GET / HTTP/1.1\r\nHost: a\r\nRange: bytes=0-1\r\n\r\n")
    assert v == READY
    req.reset()
    assert req.head_end == 0 and req.hdr[2 * parser.H_RANGE] == 0 and req.abs_host is None
