"""HTTP behaviour over real sockets, on every interpreter in MARMOSET_TEST_INTERPRETERS."""

import email.utils
import re
import socket

from httpclient import Conn, get, raw


def test_get_serves_a_file_with_its_headers(server):
    r = get(server.port, "/hello.txt")
    assert r.status == 200
    assert r.body == b"hello world\n"
    assert r.headers["content-type"] == "text/plain"
    assert r.headers["content-length"] == "12"
    assert r.headers["accept-ranges"] == "bytes"
    assert re.fullmatch(r"Marmoset/\d+\.\d+\.\d+", r.headers["server"])
    assert email.utils.parsedate_to_datetime(r.headers["date"]).tzname() == "UTC"
    assert email.utils.parsedate_to_datetime(r.headers["last-modified"])
    assert re.fullmatch(r'"[0-9a-f]+-c"', r.headers["etag"])


def test_content_type_comes_from_monkey_mime(server):
    assert get(server.port, "/data.json").headers["content-type"] == "application/json"
    assert get(server.port, "/").headers["content-type"] == "text/html"
    assert get(server.port, "/noext").headers["content-type"] == "text/plain"


def test_head_has_headers_and_no_body(server):
    with Conn(server.port) as c:
        r = c.request("HEAD", "/hello.txt")
        assert r.status == 200 and r.headers["content-length"] == "12"
        # The next response must start right away: no stray body bytes in between.
        r2 = c.request("GET", "/hello.txt")
        assert r2.body == b"hello world\n"


def test_post_to_a_static_file_reads_and_discards_the_body(server):
    with Conn(server.port) as c:
        r = c.request("POST", "/hello.txt", body=b"x" * 3000)
        assert r.status == 200 and r.body == b"hello world\n"
        assert c.request("GET", "/").status == 200


def test_index_file_and_directory_redirect(server):
    assert get(server.port, "/").body == b"<h1>home</h1>\n"
    r = get(server.port, "/sub")
    assert r.status == 301 and r.headers["location"] == "/sub/"
    r = get(server.port, "/sub?x=1")
    assert r.status == 301 and r.headers["location"] == "/sub/?x=1"
    assert get(server.port, "/sub/").body == b"<p>sub</p>\n"
    assert get(server.port, "/empty-dir/").status == 403


def test_error_statuses(server):
    p = server.port
    assert get(p, "/missing").status == 404
    with Conn(p) as c:
        r = c.request("PUT", "/hello.txt", body=b"x")
        assert r.status == 405 and "GET" in r.headers["allow"]
        r = c.request("DELETE", "/hello.txt")
        assert r.status == 405
    assert Conn(p).request("BREW", "/").status == 501
    assert b"HTTP/1.1 505 " in raw(p, b"GET / HTTP/2.0\r\nHost: a\r\n\r\n")
    assert b"HTTP/1.1 400 " in raw(p, b"GET / HTTP/1.1\r\n\r\n")
    assert b"HTTP/1.1 411 " in raw(p, b"POST / HTTP/1.1\r\nHost: a\r\n\r\n")
    assert b"HTTP/1.1 414 " in raw(p, b"GET /" + b"a" * 40000 + b" HTTP/1.1\r\nHost: a\r\n\r\n")
    assert b"HTTP/1.1 431 " in raw(p, b"GET / HTTP/1.1\r\nHost: a\r\nX: " + b"b" * 40000 + b"\r\n\r\n")
    assert b"HTTP/1.1 413 " in raw(p, b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n")


def test_content_length_with_transfer_encoding_is_refused_and_closed(server):
    out = raw(server.port, b"POST /hello.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 400 ")
    assert out.count(b"HTTP/1.1") == 1  # the smuggled request is never answered
    assert b"Connection: close" in out


def test_error_page_escapes_the_reflected_uri(server):
    r = get(server.port, "/%3Cscript%3Ealert(1)%3C/script%3E")
    assert r.status == 404
    assert b"<script>" not in r.body and b"&lt;script&gt;" in r.body


def test_keep_alive_rules(server):
    with Conn(server.port) as c:
        for _ in range(5):
            r = c.request("GET", "/hello.txt")
            assert r.status == 200 and "connection" not in r.headers
    with Conn(server.port) as c:
        r = c.request("GET", "/hello.txt", version="1.0", host=None)
        assert r.headers["connection"] == "close"
        assert c.closed_by_peer()
    with Conn(server.port) as c:
        r = c.request("GET", "/hello.txt", version="1.0", host=None, headers={"Connection": "Keep-Alive"})
        assert r.headers["connection"] == "keep-alive"
        assert c.request("GET", "/hello.txt", version="1.0", headers={"Connection": "keep-alive"}).status == 200
    with Conn(server.port) as c:
        r = c.request("GET", "/hello.txt", headers={"Connection": "close"})
        assert r.headers["connection"] == "close" and c.closed_by_peer()


def test_max_keep_alive_requests(make_server, docroot):
    srv = make_server(docroot, server_extra="MaxKeepAliveRequest 3")
    with Conn(srv.port) as c:
        assert "connection" not in c.request().headers
        assert "connection" not in c.request().headers
        assert c.request().headers["connection"] == "close"
        assert c.closed_by_peer()


def test_pipelined_requests_are_answered_in_order(server):
    with Conn(server.port) as c:
        c.send(b"".join(b"GET /%s HTTP/1.1\r\nHost: a\r\n\r\n" % p for p in (b"hello.txt", b"missing", b"", b"data.json")))
        got = [c.response() for _ in range(4)]
        assert [r.status for r in got] == [200, 404, 200, 200]
        assert got[0].body == b"hello world\n" and got[3].body == b'{"a": 1}\n'


def test_request_split_across_many_writes(server):
    with Conn(server.port) as c:
        for b in b"GET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n":
            c.send(bytes([b]))
        assert c.response().body == b"hello world\n"


def test_virtual_hosts_redirect_and_error_pages(make_server, tmp_path):
    a = tmp_path / "a"
    b = tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "index.html").write_text("site A\n")
    (b / "index.html").write_text("site B\n")
    (b / "oops.html").write_text("B's own 404\n")
    sites = {
        "default": "[HOST]\n    ServerName a.test\n    DocumentRoot %s\n" % a,
        "b": "[HOST]\n    ServerName b.test www.b.test\n    DocumentRoot %s\n[ERROR_PAGES]\n    404 oops.html\n" % b,
        "old": "[HOST]\n    ServerName old.test\n    DocumentRoot %s\n    Redirect http://b.test/\n" % a,
        ".hidden": "not a site at all",
    }
    srv = make_server(None, sites=sites)
    assert get(srv.port, "/", host="a.test").body == b"site A\n"
    assert get(srv.port, "/", host="B.TEST:80").body == b"site B\n"
    assert get(srv.port, "/", host="www.b.test").body == b"site B\n"
    assert get(srv.port, "/", host="unknown.test").body == b"site A\n"
    r = get(srv.port, "/nope", host="b.test")
    assert r.status == 404 and r.body == b"B's own 404\n"
    r = get(srv.port, "/x/y", host="old.test")
    assert r.status == 301 and r.headers["location"] == "http://b.test/x/y"
    r = get(srv.port, "http://b.test/index.html", host="a.test")
    assert r.body == b"site B\n"


def test_hide_version(make_server, docroot):
    srv = make_server(docroot, server_extra="HideVersion on")
    r = get(srv.port, "/missing")
    assert r.headers["server"] == "Marmoset"
    assert b"Marmoset/" not in r.body


def test_ipv6_listener(make_server, docroot):
    if not socket.has_ipv6:
        return
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        return  # no IPv6 loopback on this machine
    from conftest import free_port

    port = free_port(socket.AF_INET6, "::1")
    srv = make_server(docroot, port=port, listen=["[::1]:%d" % port, "127.0.0.1:%d" % port])
    with socket.create_connection(("::1", port), timeout=10) as s:
        s.sendall(b"GET /hello.txt HTTP/1.0\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 200 ")
    assert get(srv.port, "/hello.txt").status == 200


def test_missing_error_page_falls_back_to_the_built_in_one(make_server, docroot):
    site = "[HOST]\n    DocumentRoot %s\n[ERROR_PAGES]\n    404 gone.html\n" % docroot
    srv = make_server(docroot, sites={"default": site})
    r = get(srv.port, "/nope")
    assert r.status == 404 and b"Not Found" in r.body
    assert "error page %s/gone.html does not exist" % docroot in srv.log()
    (docroot / "gone.html").write_text("custom\n")  # deployed later: used without a restart
    assert get(srv.port, "/nope").body == b"custom\n"
