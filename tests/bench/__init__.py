"""``make bench``: see ``tests/bench/__main__.py``."""
