"""Property-based: whatever bytes arrive, the parser answers PENDING, READY or an error status."""

from hypothesis import given, settings
from hypothesis import strategies as st

from marmoset import parser

STATUSES = {parser.PENDING, parser.READY, 400, 411, 413, 414, 431, 501, 505}

_tokens = st.sampled_from([b"GET", b"HEAD", b"POST", b"PUT", b" ", b"/", b"%2e", b"..", b"?", b"HTTP/1.1", b"HTTP/1.0",
                           b"\r\n", b"\n", b"Host:", b"Content-Length:", b"Transfer-Encoding:", b"chunked", b"0", b"5",
                           b"Connection:", b"close", b"\x00", b"\t", b":", b"http://", b"*", b"Range: bytes=0-1"])
structured = st.lists(_tokens, max_size=40).map(b"".join)


def _check(data, limit):
    req = parser.Request(limit, limit // 2)
    buf = bytearray(data)
    v = parser.feed(req, buf, len(buf))
    assert v in STATUSES, v
    if v == parser.READY:
        assert 0 < req.end <= len(buf)
        assert req.head_end <= req.end
        assert req.target_start < req.target_end <= req.head_end
    return v


@settings(max_examples=1500, deadline=None)
@given(st.binary(max_size=600), st.sampled_from([64, 256, 4096]))
def test_random_bytes(data, limit):
    _check(data, limit)


@settings(max_examples=1500, deadline=None)
@given(structured, st.sampled_from([64, 4096]))
def test_request_like_bytes_whole_and_in_two_parts(data, limit):
    whole = _check(data, limit)
    for cut in range(0, len(data), max(1, len(data) // 7)):
        req = parser.Request(limit, limit // 2)
        buf = bytearray(data)
        first = parser.feed(req, buf, cut)
        assert first in STATUSES
        if first == parser.PENDING:
            assert parser.feed(req, buf, len(data)) == whole
        else:
            # A prefix may hit a limit first (414 before the ':' that makes it 400),
            # but a rejected prefix always means a rejected request.
            assert first >= 400 and whole >= 400, (first, whole)
