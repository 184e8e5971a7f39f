"""`python -m soak.run` (`make soak`): the reliability suite of issue 10, bounded in time,
loopback only. Writes artifacts/soak/report.json and report.md with figures; exit 1 when a
behaviour fails (errors, mismatched answers, partial documents, impersonations, leaks, an
undetected or unrepaired damage)."""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from . import concurrency, damage, hostile, killing
from .common import CORPUS, REPO, built_index, corpus_files, launch_app
from .report import write

SCENARIOS = ["concurrency", "kill", "hostile", "damage"]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def make_upload(pages: int):
    """make(path, i) -> a `pages`-page PDF of corpus texts, different for each i (never 'unchanged')."""
    files = corpus_files()
    texts = [files[d].read_text(encoding="utf-8") for d in ("crc", "iccpr", "uncac") if d in files] or \
        [p.read_text(encoding="utf-8") for p in files.values()]

    def make(path: Path, i: int) -> Path:
        return concurrency.large_pdf(path, [f"Compilation number {i} of the soak test, {time.time_ns()}"] + texts,
                                     pages=pages)

    return make


def failures(results: dict) -> list[str]:
    out = []
    c = results.get("concurrency", {}).get("figures")
    if c:
        if c["errors"]:
            out.append(f"concurrency: {c['errors']} questions failed")
        if c["mismatched"]:
            out.append(f"concurrency: {c['mismatched']} answers did not match their own question")
        if not c["upload_ok"]:
            out.append(f"concurrency: the large upload did not succeed: {c['upload_result']}")
        if c["asked"] == 0:
            out.append("concurrency: no question was asked")
    k = results.get("kill", {}).get("figures")
    if k:
        if k["checks_clean"] != k["checks_run"]:
            out.append(f"kill -9: `rag index check` clean only {k['checks_clean']}/{k['checks_run']} times")
        if k["partial_documents"] or k["orphan_vectors"]:
            out.append(f"kill -9: {k['partial_documents']} partial documents, {k['orphan_vectors']} orphan vectors")
    h = results.get("hostile", {}).get("totals")
    if h:
        for key in ("crashes", "partial_documents", "impersonations", "paths_leaked", "escaped_paths", "duplicates",
                    "server_files_read"):
            if h[key]:
                out.append(f"hostile uploads: {h[key]} {key.replace('_', ' ')}")
        if h["kinds"] < 30:
            out.append(f"hostile uploads: only {h['kinds']} kinds")
    d = results.get("damage", {}).get("figures")
    if d:
        for key in ("detected", "repaired", "answers_identical"):
            if d[key] != d["kinds"]:
                out.append(f"damage: {key.replace('_', ' ')} {d[key]}/{d['kinds']}")
    for name, err in results.get("errors", {}).items():
        out.append(f"{name}: the scenario itself failed: {err}")
    return out


def merge(reports: list[Path], out: Path) -> int:
    """Combine the scenarios of several report.json files (later ones win) into one report."""
    import json

    results: dict = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "errors": {}, "merged_from": []}
    for path in reports:
        data = json.loads(Path(path).read_text())
        results["merged_from"].append(f"{path} ({data.get('started')})")
        for name in SCENARIOS + ["upload_doc"]:
            if name in data:
                results[name] = data[name]
        results["errors"].update(data.get("errors", {}))
    results["wall_s"] = "(merged)"
    results["failures"] = failures(results)
    results["ok"] = not results["failures"]
    log(f"report: {write(results, out)}")
    return 0 if results["ok"] else 1


def main(argv: list[str] | None = None) -> int:
    if argv is None and sys.argv[1:2] == ["merge"]:
        argv = sys.argv[1:]
    if argv and argv[0] == "merge":  # python -m soak.run merge OUT REPORT.json...
        return merge([Path(a) for a in argv[2:]], Path(argv[1]))
    p = argparse.ArgumentParser(prog="soak", description=__doc__)
    p.add_argument("--sessions", type=int, default=20)
    p.add_argument("--questions", type=int, default=20)
    p.add_argument("--pages", type=int, default=200, help="pages of the large uploaded PDF")
    p.add_argument("--kill-delays", type=float, nargs="*", default=[3, 10, 20, 35, -1],
                   help="seconds after the upload starts at which each round's kill -9 lands (one round each); "
                        "-1: the moment its first vectors reach Chroma, before the registry commit")
    p.add_argument("--kill-pages", type=int, default=60, help="pages of each round's upload")
    p.add_argument("--kill-target", choices=["app", "ingest"], default="app")
    p.add_argument("--damage-kinds", nargs="*", choices=damage.KINDS, metavar="KIND",
                   help=f"damages to inflict (default all: {', '.join(damage.KINDS)})")
    p.add_argument("--only", nargs="*", choices=SCENARIOS, help="run only these scenarios")
    p.add_argument("--budget-s", type=float, default=1500, help="the concurrency scenario's deadline")
    p.add_argument("--out", type=Path, default=REPO / "artifacts" / "soak")
    p.add_argument("--workdir", type=Path, help="scratch folder (default: a temp dir, removed after)")
    args = p.parse_args(argv)
    chosen = args.only or SCENARIOS
    work = args.workdir or Path(tempfile.mkdtemp(prefix="rag-soak-"))
    work.mkdir(parents=True, exist_ok=True)
    (work / "none.toml").write_text("")
    t0 = time.monotonic()
    results: dict = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "args": {k: str(v) for k, v in vars(args).items()},
                     "errors": {}}
    previous = args.out / "report.json"
    if args.only and previous.is_file():  # a partial run keeps the other scenarios' last results
        import json

        old = json.loads(previous.read_text())
        for name in SCENARIOS:
            if name not in chosen and name in old:
                results[name] = old[name]
                results.setdefault("kept_from_earlier_runs", []).append(name)
        if "concurrency" not in chosen and "upload_doc" in old:
            results["upload_doc"] = old["upload_doc"]
    try:
        log("building (or copying the cached) index of the corpus…")
        pristine = work / "pristine" / "index"
        built_index(pristine)
        upload = make_upload(args.pages)
        if "concurrency" in chosen:
            log(f"concurrency: {args.sessions} sessions × {args.questions} questions, {args.pages}-page upload")
            try:
                idx = work / "conc" / "index"
                shutil.copytree(pristine, idx)
                app = launch_app(work / "conc", idx, RAG_CORPUS_DIR=str(CORPUS))
                try:
                    killing.wait_answering(app.url)
                    doc = upload(work / "conc" / "large.pdf", 0)
                    results["upload_doc"] = f"{doc.name} ({args.pages} pages, {doc.stat().st_size / 1e6:.1f} MB)"
                    results["concurrency"] = concurrency.run(app.url, args.sessions, args.questions, doc,
                                                             deadline_s=args.budget_s, log=log)
                finally:
                    app.stop()
            except Exception as exc:  # noqa: BLE001
                results["errors"]["concurrency"] = f"{type(exc).__name__}: {exc}"[:500]
        if "kill" in chosen:
            log(f"kill -9 of {args.kill_target} at {args.kill_delays} s into an upload")
            try:
                idx = work / "kill" / "index"
                shutil.copytree(pristine, idx)
                fn = killing.kill_app_rounds if args.kill_target == "app" else killing.kill_ingest_rounds
                results["kill"] = fn(work / "kill", idx, CORPUS, make_upload(args.kill_pages), args.kill_delays, log=log)
            except Exception as exc:  # noqa: BLE001
                results["errors"]["kill"] = f"{type(exc).__name__}: {exc}"[:500]
        if "hostile" in chosen:
            log("hostile uploads")
            try:
                idx = work / "hostile" / "index"
                shutil.copytree(pristine, idx)
                results["hostile"] = hostile.run(idx, CORPUS, work / "hostile", log=log)
            except Exception as exc:  # noqa: BLE001
                results["errors"]["hostile"] = f"{type(exc).__name__}: {exc}"[:500]
        if "damage" in chosen:
            log("damage and repair")
            try:
                results["damage"] = damage.run(pristine, work / "damage", CORPUS, kinds=args.damage_kinds, log=log)
            except Exception as exc:  # noqa: BLE001
                results["errors"]["damage"] = f"{type(exc).__name__}: {exc}"[:500]
    finally:
        results["wall_s"] = round(time.monotonic() - t0, 1)
        results["failures"] = failures(results)
        results["ok"] = not results["failures"]
        report = write(results, args.out)
        log(f"report: {report}")
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    for f in results["failures"]:
        log(f"FAIL {f}")
    return 0 if results["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
