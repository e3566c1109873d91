"""`python -m dataops`: each command is a short-lived process, tuned as one.

Planning imports the Pulumi SDKs, which build hundreds of thousands of long-lived objects (their
resource and type classes). With the cyclic garbage collector on, every collection of the oldest
generation walks all of them again, and at exit the interpreter tears each one down. Measured
here, a cold `parity` planned in one process takes 7.3 s with both and 4.5 s without. A command
lives for seconds and leaves little cyclic garbage (about 6 MB over three plans), so the
collector is off and the process ends with `os._exit` once its output is flushed (`main` flushes
stdout itself, so that a reader that went away shows in its exit code). Every file a command
writes is closed, and every worktree removed, before `main` returns.
"""

import contextlib
import gc
import os
import sys

gc.disable()

from dataops.cli import main  # noqa: E402  (after gc.disable: the import is part of the cost)

code = main()  # it flushes stdout itself, so that a closed pipe decides its exit code (141)
with contextlib.suppress(BrokenPipeError):  # nobody reads stderr any more either
    sys.stderr.flush()
os._exit(code)
