"""The Gradio app: layout (gr.Blocks), handlers (callbacks over rag.api), render (pure HTML)."""
from __future__ import annotations

import os

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before gradio is imported anywhere below

from .startup import prepare, prepare_in_background, warm_up  # noqa: E402

__all__ = ["build_app", "launch_kwargs", "prepare", "prepare_in_background", "warm_up"]


def __getattr__(name: str):
    # Importing gradio is slow; only the app pays for it.
    if name in ("build_app", "launch_kwargs"):
        from . import layout

        return getattr(layout, name)
    raise AttributeError(name)
