"""Treaty Q&A web app: `python app.py` or `rag serve`.

Host and port come from settings (RAG_APP__HOST / RAG_APP__PORT; default 127.0.0.1:7860);
set RAG_APP__USERNAME and RAG_APP__PASSWORD to require a login.
"""
from __future__ import annotations

import os

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before gradio is imported
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
# PyTorch's idle worker threads busy-wait by default; on a small shared machine that made one
# query embedding ~15x slower (measured: 740 ms -> 50 ms). Must be set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def main() -> None:
    import sys

    from rag.settings import SettingsError, load_settings
    from rag.ui.splash import Splash

    try:
        settings = load_settings()
    except SettingsError as exc:  # name the bad key, no traceback
        print(f"error in the settings:\n{exc}", file=sys.stderr)
        raise SystemExit(2) from None
    splash = Splash(settings.app.host, settings.app.port)  # a page at once; the app's in ~6 s
    from rag.api import TreatyQA
    from rag.ui import build_app, launch_kwargs, prepare_in_background

    qa = TreatyQA(settings)
    demo = build_app(qa)
    demo.queue(default_concurrency_limit=4, max_size=64)
    splash.close()
    demo.launch(**launch_kwargs(settings), prevent_thread_lock=True)
    # Only now: opening the index beside Gradio's import delayed the page by ~1 s and the first
    # answer not at all (measured on 2 cores, scripts/cold_start.py). The page shows the index
    # build's progress meanwhile.
    prepare_in_background(qa)
    demo.block_thread()


if __name__ == "__main__":
    main()
