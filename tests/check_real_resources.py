#!/usr/bin/env python3
"""check_real_resources.py BINARY TAG - the lifetime family's real resources
on one interpreter: every row passes its check (rows committed, descriptors
back where they were); closing a sqlite3 connection (contextlib.closing,
try/finally) or a file (with) leaves no descriptor open after the block and
none for the collector; `with sqlite3.connect(...)` leaves the connection
open after the block, and an insert after it locks the database against a
second writer; from CPython 3.11 the dropped connection waits for the cyclic
collector (one descriptor per block), before 3.11 reference counting closes
it; a file opened without `with` stays open until its name is rebound."""
import re
import sys
import tempfile

from pmbtest import expect, failed, run_cases


def main():
    binary, tag = sys.argv[1], sys.argv[2]
    m = re.match(r"cpython-(\d+)\.(\d+)", tag)
    version = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    with tempfile.TemporaryDirectory() as tmp:
        rc, err, doc = run_cases(binary, tmp, "^lifetime/(sqlite|file)/")
        expect(rc == 0 and doc is not None, "real resources: exit %d, stderr %s"
               % (rc, err[-400:]))
        if doc is None:
            return failed()
        rows = {r["name"]: r for r in doc["benchmarks"]}
        expect(len(rows) == 5, "%d rows, expected 5: %s" % (len(rows), sorted(rows)))
        for name, r in rows.items():
            expect(not r.get("error_occurred"), "%s: %s" % (name, r.get("error_message")))

        def c(name, counter):
            return rows.get("lifetime/" + name, {}).get(counter, float("nan"))

        for name in ("sqlite/closing", "sqlite/try_finally", "file/with"):
            expect(c(name, "fds_open_after_block") == 0 and
                   c(name, "fds_awaiting_collector_per_iter") == 0,
                   "%s left descriptors: %g after the block, %g for the collector"
                   % (name, c(name, "fds_open_after_block"),
                      c(name, "fds_awaiting_collector_per_iter")))
        for name in ("sqlite/closing", "sqlite/try_finally", "sqlite/with_connect"):
            expect(c(name, "db_locked_after_block") == 0, "%s: locked after the block" % name)
        trap = "sqlite/with_connect"
        waits = 1 if version >= (3, 11) else 0
        expect(c(trap, "fds_open_after_block") == 1 and
               c(trap, "db_locked_after_write_after_block") == 1 and
               c(trap, "fds_awaiting_collector_per_iter") == waits,
               "%s: %g open after the block, locked after a later insert %g, %g waiting for "
               "the collector per block (expected 1, 1, %d on %s)"
               % (trap, c(trap, "fds_open_after_block"),
                  c(trap, "db_locked_after_write_after_block"),
                  c(trap, "fds_awaiting_collector_per_iter"), waits, tag))
        expect(c("file/no_with", "fds_open_after_block") == 1,
               "file/no_with: %g open before f is rebound" % c("file/no_with", "fds_open_after_block"))
        print("real resources on %s: with sqlite3.connect() leaves 1 descriptor open after the "
              "block, %g per block for the collector; an insert after it locks the database"
              % (tag, c(trap, "fds_awaiting_collector_per_iter")))
    return failed()


if __name__ == "__main__":
    sys.exit(main())
