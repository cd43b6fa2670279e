"""Request targets to paths: decoding, normalising, confinement."""

from marmoset import paths


def test_decode_plain_and_percent():
    assert paths.decode(b"/a/b.html") == (0, "/a/b.html")
    assert paths.decode(b"/a%20b") == (0, "/a b")
    assert paths.decode(b"/%e2%82%ac") == (0, "/\u20ac")


def test_decode_refuses_nul_backslash_and_bad_escapes():
    assert paths.decode(b"/a%00b")[0] == 400
    assert paths.decode(b"/a%5c..%5cb")[0] == 403
    assert paths.decode(b"/a\\b")[0] == 403
    assert paths.decode(b"/a%zz")[0] == 400
    assert paths.decode(b"/a%2")[0] == 400
    assert paths.decode(b"/%ff%fe")[0] == 400


def test_normalize_resolves_dots():
    assert paths.normalize("/a/./b/../c") == "/a/c"
    assert paths.normalize("//a//b/") == "/a/b/"
    assert paths.normalize("/") == "/"
    assert paths.normalize("/a/..") == "/"


def test_normalize_refuses_climbing_above_root():
    for p in ("/..", "/../etc/passwd", "/a/../../b", "/./../x"):
        assert paths.normalize(p) is None, p


def test_encoded_dots_are_decoded_before_normalising():
    st, p = paths.decode(b"/%2e%2e/%2E%2E/etc/passwd")
    assert st == 0 and paths.normalize(p) is None
    st, p = paths.decode(b"/a/..%2f..%2fetc")
    assert st == 0 and paths.normalize(p) is None


def test_inside():
    assert paths.inside("/srv/www", "/srv/www")
    assert paths.inside("/srv/www", "/srv/www/a")
    assert not paths.inside("/srv/www", "/srv/www2/a")
    assert not paths.inside("/srv/www", "/srv")
