"""Defaults the CLI parser needs, importable without pandas (``python -m pipeline`` answers a bad flag fast)."""

# CheckList cases per test. The INV/DIR cases carry up to 22 variants each: 200 per test is ~33k distinct texts
# (~9 min for the demo MiniLM on the 2-core CPU), 25 is ~4.3k (about a minute); ``--max-per-test`` raises it.
DEFAULT_MAX_PER_TEST = 25
