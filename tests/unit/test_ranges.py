"""Range header parsing (RFC 9110 14.1.2), one range only."""

from marmoset.http import _parse_range


def test_single_ranges():
    assert _parse_range(b"bytes=0-9", 100) == (0, 10)
    assert _parse_range(b"bytes=90-", 100) == (90, 100)
    assert _parse_range(b"bytes=-10", 100) == (90, 100)
    assert _parse_range(b"bytes=-1000", 100) == (0, 100)
    assert _parse_range(b"bytes=50-5000", 100) == (50, 100)
    assert _parse_range(b"bytes=99-99", 100) == (99, 100)


def test_unsatisfiable():
    assert _parse_range(b"bytes=100-", 100) == (-1, -1)
    assert _parse_range(b"bytes=100-100", 100) == (-1, -1)  # Monkey's old infinite loop
    assert _parse_range(b"bytes=-0", 100) == (-1, -1)


def test_ignored():
    for v in (b"bytes=1-2,4-5", b"items=1-2", b"bytes=5-1", b"bytes=a-b", b"bytes=-", b"bytes=1"):
        assert _parse_range(v, 100) is None, v
