"""README's configuration reference is generated from the server's table and must match it."""

from pathlib import Path

from marmoset import cli

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_configuration_reference_matches_the_table():
    text = README.read_text()
    start = text.index("<!-- config-reference:start -->") + len("<!-- config-reference:start -->")
    end = text.index("<!-- config-reference:end -->")
    assert text[start:end].strip() == cli.reference().strip(), "run: python3 -m marmoset --config-reference"


def test_readme_gives_the_two_commands():
    text = README.read_text()
    assert "make run" in text and "make test" in text
