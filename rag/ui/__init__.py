"""The Gradio app: layout (gr.Blocks), handlers (callbacks over rag.api), render (pure HTML)."""
from __future__ import annotations

import os

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before gradio is imported anywhere below

__all__ = ["build_app", "launch_kwargs", "prepare", "prepare_in_background", "warm_up"]


def __getattr__(name: str):
    # Importing gradio (and the retrieval stack behind startup) is slow; only what is used pays
    # for it, so the starting page (splash.py) can be served before either is imported.
    if name in ("build_app", "launch_kwargs"):
        from . import layout

        return getattr(layout, name)
    if name in ("prepare", "prepare_in_background", "warm_up"):
        from . import startup

        return getattr(startup, name)
    raise AttributeError(name)
