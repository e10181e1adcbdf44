"""pmbtest - what the ctest drivers written in Python share: expect()
prints a failure and remembers it; failed() says whether any happened (the
driver's exit status)."""

_failed = 0


def expect(cond, what):
    """Print FAIL: what, and remember it, unless cond holds."""
    global _failed
    if not cond:
        _failed = 1
        print("FAIL: " + what)


def failed():
    """1 once any expect() failed, else 0."""
    return _failed
