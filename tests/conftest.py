import os
import tempfile

# Tests never reuse a stale Numba cache from another checkout.
os.environ.setdefault("NUMBA_CACHE_DIR", tempfile.mkdtemp(prefix="statmech-numba-"))
os.environ.setdefault("MPLBACKEND", "Agg")
