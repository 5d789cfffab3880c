"""Moved to :mod:`statmech.runs.cli`; ``python -m statmech.cli`` and this import path keep working."""

import sys

from statmech.runs.cli import UserError, build_parser, main

__all__ = ["main", "build_parser", "UserError"]

if __name__ == "__main__":
    sys.exit(main())
