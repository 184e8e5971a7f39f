"""Helpers shared by tests (renderers of test documents)."""
