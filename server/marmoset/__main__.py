"""python3 -m marmoset / micropython -m marmoset."""

import sys

from marmoset import cli

sys.exit(cli.main(sys.argv[1:]))
