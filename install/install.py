#!/usr/bin/env python3
"""Install the cpa-bridge native-messaging host and CLI; see --help.

Standard library only: this runs before any virtual environment exists.
"""

import os
import sys

if sys.version_info < (3, 9):
    sys.exit(
        "install.py: error: Python 3.9 or newer is needed (this is %d.%d)" % sys.version_info[:2]
    )

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cpa_install.cli import main

if __name__ == "__main__":
    sys.exit(main())
