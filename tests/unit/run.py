"""A tiny test runner both interpreters share (MicroPython has no unittest and no pytest).

    micropython tests/unit/run.py [module...]     (MICROPYPATH=server:tests/unit)
Runs every test_* function of each module, prints one line per failure and a closing
'N passed, N failed' line; exits 1 when anything failed. pytest collects the same modules.
"""

import sys

MODULES = ("test_parser", "test_paths", "test_config", "test_response", "test_ranges")


def main(names):
    passed = 0
    failed = 0
    for name in names or MODULES:
        mod = __import__(name)
        for attr in sorted(dir(mod)):
            if not attr.startswith("test_"):
                continue
            fn = getattr(mod, attr)
            try:
                fn()
                passed += 1
            except Exception as exc:  # AssertionError included
                failed += 1
                print("FAIL %s.%s: %r" % (name, attr, exc))
                if hasattr(sys, "print_exception"):
                    sys.print_exception(exc)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


sys.exit(main(sys.argv[1:]))
