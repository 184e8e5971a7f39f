"""`rag` command line: a thin layer over rag.api and friends."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
# PyTorch's idle worker threads busy-wait by default; on a small shared machine that made one
# query embedding ~15x slower (measured: 740 ms -> 50 ms). Must be set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def _settings(args):
    from .settings import load_settings

    s = load_settings()
    overrides = {}
    if getattr(args, "index_dir", None):
        overrides["index_dir"] = Path(args.index_dir)
    if getattr(args, "corpus_dir", None):
        overrides["corpus_dir"] = Path(args.corpus_dir)
    if getattr(args, "preset", None):
        s = s.preset(args.preset)
    return s.with_overrides(**overrides) if overrides else s


def cmd_ingest(args) -> int:
    from .api import TreatyQA
    from .index.ingest import IndexMismatch

    settings = _settings(args)
    paths = [Path(p) for p in args.paths] or [settings.corpus_dir]
    qa = TreatyQA(settings)
    try:
        report = qa.ingest(paths, progress=not args.quiet, prune=not args.no_prune)
    except IndexMismatch as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(report.summary())
    if args.json:
        print(json.dumps([r.__dict__ for r in report.results], indent=2))
    return 0 if report.ok else 1


def cmd_index_status(args) -> int:
    from .index.registry import Registry

    settings = _settings(args)
    reg_path = Path(settings.index_dir) / "registry.sqlite"
    if not reg_path.exists():
        print(f"No index at {settings.index_dir}. Run: rag ingest PATH")
        return 1
    docs = Registry(reg_path).documents()
    if args.json:
        print(json.dumps([{**{k: v for k, v in d.items() if k != "meta"}, "meta": d["meta"].model_dump(mode="json")}
                          for d in docs], indent=2))
        return 0
    print(f"Index {settings.index_dir}: {len(docs)} documents")
    print(f"{'id':32} {'type':11} {'lang':4} {'provisions':>10} {'chunks':>7}  title")
    for d in docs:
        m = d["meta"]
        print(f"{d['doc_id']:32} {m.doc_type.value:11} {m.language:4} {d['n_provisions']:>10} {d['n_chunks']:>7}  {m.title[:60]}")
    return 0


def _open_index(settings):
    """The index for a read command: a missing directory is named, not created empty."""
    from .index.service import Index

    if not settings.chroma_host and not (Path(settings.index_dir) / "registry.sqlite").exists():
        print(f"No index at {settings.index_dir}. Build it: rag ingest PATH", file=sys.stderr)
        return None
    return Index(settings)


def cmd_index_check(args) -> int:
    ix = _open_index(_settings(args))
    if ix is None:
        return 1
    problems = ix.check()
    for p in problems:
        print(p.line())
    if not problems:
        print(f"ok: {len(ix.documents)} documents, {len(ix.chunks)} chunks, {ix.store.count()} vectors")
    return 1 if problems else 0


def cmd_index_repair(args) -> int:
    from .index.check import open_for_repair

    settings = _settings(args)
    ix, moved = open_for_repair(settings)
    report = ix.repair()
    report.moved_aside = moved
    print(report.summary())
    problems = ix.check()
    for p in problems:
        print(f"still wrong: {p.line()}", file=sys.stderr)
    return 1 if problems else 0


def cmd_index_rebuild(args) -> int:
    from .index.service import Index

    settings = _settings(args)
    report = Index(settings).rebuild([Path(settings.corpus_dir)], progress=not args.quiet)
    print(report.summary())
    return 0 if report.ok else 1


def cmd_index_remove(args) -> int:
    from .index.service import Index

    ix = Index(_settings(args))
    rc = 0
    for doc_id in args.doc_ids:
        if ix.remove(doc_id):
            print(f"removed {doc_id}")
        else:
            print(f"not in the index: {doc_id}", file=sys.stderr)
            rc = 1
    return rc


def cmd_corpus_download(args) -> int:
    from .corpus.download import download_corpus, format_report

    report = download_corpus(_settings(args), args.ids or None, force=args.force, progress=not args.quiet)
    print(format_report(report))
    return 0 if report.ok else 1


def cmd_corpus_list(args) -> int:
    from .corpus.download import format_manifest
    from .corpus.manifest import load_manifest

    settings = _settings(args)
    print(format_manifest(load_manifest(settings.manifest), settings.corpus_dir))
    return 0


def _filters(args):
    from .model import DocType, Filters

    return Filters(doc_ids=args.doc or [], doc_types=[DocType(t) for t in (args.type or [])],
                   languages=args.lang or [])


def cmd_ask(args) -> int:
    from .api import QuestionError, TreatyQA
    from .model import Turn

    settings = _settings(args)
    if args.mode:
        settings = settings.with_overrides(answer={"mode": args.mode})
    if not settings.chroma_host and not Path(settings.index_dir).is_dir() and not Path(settings.corpus_dir).is_dir():
        print(f"No index at {settings.index_dir} and no corpus at {settings.corpus_dir} to build it from. "
              "Run: rag corpus download, or rag ingest PATH", file=sys.stderr)
        return 1
    qa = TreatyQA(settings)
    qa.ensure_index(progress=True)  # first use: build the index from the corpus (progress on stderr)
    problems = qa.index.check()
    for p in problems:
        print(f"warning: the index is damaged: {p.line()}", file=sys.stderr)
    if any(p.vectors for p in problems):
        print("warning: answers below may rest on keyword search only until the index is repaired",
              file=sys.stderr)
    if args.questions:
        items = []
        for n, line in enumerate(Path(args.questions).read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    obj = json.loads(line)
                except ValueError as exc:
                    print(f"{args.questions}:{n}: not JSON: {exc}", file=sys.stderr)
                    return 2
                items.append(obj if isinstance(obj, dict) else {"question": str(obj)})
    else:
        if not args.question:
            print("Give a question, or --questions FILE.", file=sys.stderr)
            return 2
        items = [{"question": " ".join(args.question)}]
    history: list[Turn] = []
    rc = 1 if problems else 0  # answered, but from a damaged index: scripts must notice
    for item in items:
        try:
            answer = qa.ask(item.get("question", ""), history if args.conversation else None, _filters(args))
        except QuestionError as exc:
            rc = 1
            if args.json:
                err = {"question": item.get("question", ""), "error": str(exc)}
                if "id" in item:
                    err["id"] = item["id"]
                print(json.dumps(err))
            else:
                print(f"error: {exc}", file=sys.stderr)
            continue
        history.append(Turn.from_answer(answer))
        if args.json:
            out = answer.model_dump(mode="json")
            if "id" in item:
                out["id"] = item["id"]
            print(json.dumps(out, ensure_ascii=False))
        else:
            print(format_answer(answer))
    return rc


def format_answer(answer) -> str:
    lines = [answer.answer, ""]
    for n in answer.notices:
        lines.append(f"Note: {n}")
    if answer.citations:
        lines.append("Sources:")
        for c in answer.citations:
            lines.append(f"  [{c.key}] {c.label} ({c.source_type.value}) — {c.doc_title}")
    if answer.related:
        lines.append("Related (not cited as support):")
        for c in answer.related:
            lines.append(f"  - {c.label}")
    return "\n".join(lines)


def cmd_serve(args) -> int:
    import runpy

    if args.host:
        os.environ["RAG_APP__HOST"] = args.host
    if args.port:
        os.environ["RAG_APP__PORT"] = str(args.port)
    runpy.run_path(str(Path(__file__).resolve().parent.parent / "app.py"), run_name="__main__")
    return 0


def cmd_eval(args) -> int:
    from .evaluation.cli import run as eval_run

    return eval_run(args, _settings(args))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rag", description="Cited question answering over treaty texts.")
    p.add_argument("--index-dir", help="index directory (default: settings.index_dir)")
    p.add_argument("--corpus-dir", help="corpus directory (default: settings.corpus_dir)")
    p.add_argument("--preset", help="named settings preset (see rag.settings.PRESETS)")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("ingest", help="parse, chunk, embed and index files or folders")
    s.add_argument("paths", nargs="*", help="files or folders (default: the corpus directory)")
    s.add_argument("--quiet", action="store_true")
    s.add_argument("--json", action="store_true", help="also print per-file results as JSON")
    s.add_argument("--no-prune", action="store_true", help="keep documents whose files are gone")
    s.set_defaults(func=cmd_ingest)

    ix = sub.add_parser("index", help="inspect or change the index").add_subparsers(dest="index_cmd", required=True)
    st = ix.add_parser("status", help="list indexed documents")
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=cmd_index_status)
    rb = ix.add_parser("rebuild", help="drop the index and build it again from the corpus directory "
                                       "(after changing the embedding model or upgrading the chunker)")
    rb.add_argument("--quiet", action="store_true")
    rb.set_defaults(func=cmd_index_rebuild)
    ck = ix.add_parser("check", help="compare the registry with Chroma and the build record; "
                                     "exit 1 with one line per problem")
    ck.set_defaults(func=cmd_index_check)
    rp = ix.add_parser("repair", help="re-embed missing vectors from the registry, drop orphans, "
                                      "set unreadable index files aside")
    rp.set_defaults(func=cmd_index_repair)
    rm = ix.add_parser("remove", help="remove documents from the index")
    rm.add_argument("doc_ids", nargs="+")
    rm.set_defaults(func=cmd_index_remove)

    co = sub.add_parser("corpus", help="the official corpus").add_subparsers(dest="corpus_cmd", required=True)
    dl = co.add_parser("download", help="fetch missing official documents from the manifest")
    dl.add_argument("ids", nargs="*", help="document ids or groups (default: all)")
    dl.add_argument("--force", action="store_true", help="re-download and accept changed files")
    dl.add_argument("--quiet", action="store_true")
    dl.set_defaults(func=cmd_corpus_download)
    ls = co.add_parser("list", help="list manifest documents and whether they are present")
    ls.set_defaults(func=cmd_corpus_list)

    a = sub.add_parser("ask", help="ask a question")
    a.add_argument("question", nargs="*")
    a.add_argument("--json", action="store_true", help="print the answer object as JSON")
    a.add_argument("--questions", help="JSONL file of questions ({\"question\": ...} per line)")
    a.add_argument("--conversation", action="store_true", help="treat --questions as one conversation")
    a.add_argument("--doc", action="append", help="restrict to a document id (repeatable)")
    a.add_argument("--type", action="append", choices=["treaty", "submission", "commentary"])
    a.add_argument("--lang", action="append", help="restrict to a language code")
    a.add_argument("--mode", choices=["extractive", "llm"])
    a.set_defaults(func=cmd_ask)

    sv = sub.add_parser("serve", help="launch the Gradio app")
    sv.add_argument("--host")
    sv.add_argument("--port", type=int)
    sv.set_defaults(func=cmd_serve)

    ev = sub.add_parser("eval", help="run the evaluation harness")
    ev.add_argument("--questions", action="append", help="gold JSONL file(s) (default: eval/gold/dev.jsonl)")
    ev.add_argument("--compare", action="append", default=[], help="extra configuration: preset name or TOML file")
    ev.add_argument("--out", default=None, help="output directory (default: eval/reports/latest; with --sealed, "
                    "eval/reports, files sealed-<date>.md/.html/.json)")
    ev.add_argument("--sealed", action="store_true",
                    help="run ONLY the sealed held-out set eval/gold/sealed.jsonl, with baselines; once, at the end")
    ev.add_argument("--no-baselines", action="store_true")
    ev.add_argument("--check", action="store_true", help="fail if a metric is below eval/thresholds.toml")
    ev.add_argument("--limit", type=int, help="only the first N questions of each file (smoke runs)")
    ev.add_argument("--thresholds", help="thresholds TOML for --check (default: eval/thresholds.toml)")
    ev.add_argument("--no-cold-start", action="store_true", help="skip the cold-start measurement")
    ev.add_argument("--quiet", action="store_true", help="no progress bars")
    ev.set_defaults(func=cmd_eval)

    from .bench import add_parser as add_bench

    add_bench(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    from .index.errors import IndexDamaged
    from .settings import SettingsError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except SettingsError as exc:  # a typo in rag.toml or a RAG_* variable: say which, no traceback
        print(f"error in the settings:\n{exc}", file=sys.stderr)
        return 2
    except IndexDamaged as exc:  # a corrupt registry or Chroma file: one line, file and command
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
