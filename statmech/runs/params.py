"""Helpers experiments use on their parameters and seeds.

Scan and command-line parameters are scalars (int, float, str, bool), so a
list of sizes is a comma-separated string (``dims = "64,256,1024"``) that an
experiment parses with :func:`parse_list`; independent streams inside one run
come from :func:`child_seed`. Both live in :mod:`statmech._validation`, the
one home of argument checks and seed handling; they are re-exported here for
experiment authors.
"""

from __future__ import annotations

from statmech._validation import child_seed, parse_list

__all__ = ["parse_list", "child_seed"]
