"""The command line's outcomes other than success, each with its exit status."""

from __future__ import annotations

EXIT_OK = 0
EXIT_USAGE = 2  # a bad argument or input file: nothing was trained
EXIT_DIVERGED = 3  # the loss stopped being finite: the last good checkpoint is kept
EXIT_INTERRUPTED = 130  # SIGINT or SIGTERM: the checkpoint is written, the run can resume


class UsageError(Exception):
    """A mistake in the command line or its files: reported as one line, exit status 2."""


class DivergedError(Exception):
    """Training produced a non-finite loss: reported as one line, exit status 3."""
