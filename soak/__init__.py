"""The reliability suite (issue 10): many sessions, kill -9, hostile uploads, damaged indexes.

`make soak` runs `python -m soak.run`; tests/test_soak.py runs the same scenarios small.
See soak/README.md.
"""
