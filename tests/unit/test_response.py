"""Heads written into the Out buffer: numbers, dates, validators."""

from marmoset import response


def _text(out):
    return bytes(out.buf[: out.pos])


def test_numbers_are_written_without_strings():
    out = response.Out(64)
    for v in (0, 7, 10, 12345, 2**40):
        out.pos = 0
        out.num(v)
        assert _text(out) == bytes(str(v), "ascii")
    out.pos = 0
    out.hex(0)
    out.add(b" ")
    out.hex(0xBEEF01)
    assert _text(out) == b"0 beef01"


def test_http_date_round_trip():
    out = response.Out(64)
    out.http_date(784111777)
    assert _text(out) == b"Sun, 06 Nov 1994 08:49:37 GMT"
    assert response.parse_http_date(b"Sun, 06 Nov 1994 08:49:37 GMT") == 784111777
    assert response.parse_http_date(b"Sunday, 06-Nov-94 08:49:37 GMT") == -1
    assert response.parse_http_date(b"garbage") == -1
    assert response.parse_http_date(b"Sun, 06 Foo 1994 08:49:37 GMT") == -1


def test_dates_across_years():
    out = response.Out(64)
    for t in (0, 951782400, 1709251199, 4102444800):  # 1970, 2000-02-29, 2024-02-29, 2100
        out.pos = 0
        out.http_date(t)
        assert response.parse_http_date(_text(out)) == t, t


def test_error_body_escapes_what_it_reflects():
    body = response.error_body(404, "/<script>alert('x')</script>", "Marmoset")
    assert b"<script>" not in body and b"&lt;script&gt;" in body


def test_status_lines():
    assert response.status_line(404) == b"HTTP/1.1 404 Not Found\r\n"
    assert response.status_line(599) == b"HTTP/1.1 599 Unknown\r\n"
