"""Marmoset: a Monkey-style HTTP server for MicroPython and CPython."""

VERSION = "0.1.0"
