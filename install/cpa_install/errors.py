"""Installer errors. Each one is shown as a single line, never a traceback.

InstallError        anything that stops the operation (exit code 1)
 +-- Refused        a file or registry key we did not write is in the way (exit code 3)
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1  # an operation failed, or --check found a broken registration
EXIT_USAGE = 2  # bad command line (argparse)
EXIT_REFUSED = 3  # would overwrite something we did not write; use --force


class InstallError(Exception):
    """Raised for any failure the user can act on; str(exc) is the message."""

    exit_code = EXIT_FAILED


class Refused(InstallError):
    """Raised before anything is written when a target holds foreign content."""

    exit_code = EXIT_REFUSED
