"""A minimal TAP producer for the functional tests.

    import tap
    def test_something(): ...          # raises AssertionError to fail
    def test_other(): raise tap.Skip('why')
    tap.main([test_something, test_other])

Each test function is one TAP line named after the function.  An exception
other than Skip makes it "not ok" with the traceback as diagnostics.  The
exit status is non-zero when any test failed.
"""

import signal
import sys
import traceback


class Skip(Exception):
    """Raised by a test that cannot run here; the message is the reason."""


def diag(text):
    """Print TEXT as TAP diagnostics (every line prefixed with '# ')."""
    for line in str(text).splitlines() or ['']:
        print('# ' + line, flush=True)


def _sigterm(signum, frame):
    # meson's timeout sends SIGTERM: unwind so every finally/with block
    # stops the processes and removes the files it created.
    raise SystemExit('terminated by signal %d' % signum)


def main(tests):
    signal.signal(signal.SIGTERM, _sigterm)
    print('1..%d' % len(tests), flush=True)
    failed = 0
    for n, test in enumerate(tests, 1):
        name = test.__name__
        try:
            test()
        except Skip as e:
            print('ok %d - %s # SKIP %s' % (n, name, e), flush=True)
            continue
        except Exception:
            failed += 1
            print('not ok %d - %s' % (n, name), flush=True)
            diag(traceback.format_exc())
            continue
        print('ok %d - %s' % (n, name), flush=True)
    sys.exit(1 if failed else 0)
