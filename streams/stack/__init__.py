"""Start, watch and stop the real processes of a local stack (``make run`` and the tests)."""
