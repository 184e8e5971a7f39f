"""report.md and report.html (same content) with PNG plots, from an EvalResult.

The document is built once as a list of blocks (headings, paragraphs, tables, images)
and rendered twice, so the two formats cannot drift apart. Every comparison number is
shown with its difference to the reference configuration.
"""
from __future__ import annotations

import html
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ..settings import REPO_ROOT
from .aggregate import STAGES, aggregate
from .results import EvalResult
from .thresholds import ThresholdError, check_thresholds, load_thresholds

HEADLINE = [
    ("article.hit@5", "Art hit@5"), ("article.recall@10", "Art R@10"), ("article.mrr@10", "Art MRR@10"),
    ("article.ndcg@10", "Art nDCG@10"), ("paragraph.hit@5", "Para hit@5"), ("paragraph.mrr@10", "Para MRR@10"),
    ("answer.refusal_accuracy", "Refusal acc"), ("answer.citation_validity", "Cit. valid"),
    ("answer.citation_precision", "Cit. P"), ("answer.citation_recall", "Cit. R"),
    ("answer.faithfulness", "Faithful"),
]
VERDICT_KEYS = [
    ("answer.verdict_accuracy", "verdict acc"), ("answer.verdict_accuracy_coverage", "verdict acc (coverage)"),
    ("answer.confidently_wrong", "confidently wrong"), ("answer.hedge", "hedge"),
    ("answer.verdict_missing", "no verdict"), ("answer.verdict_supported", "verdict supported"),
    ("answer.named_cited", "named article cited"), ("answer.refused_near", "near refused"),
    ("answer.refused_far", "far refused"), ("answer.refused_answerable", "answerable refused"),
]


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]


@dataclass
class Image:
    path: str  # relative to the report
    alt: str


Block = tuple[str, str] | Table | Image  # ("h2"|"h3"|"p", text)


def fmt(v: float | None, digits: int = 3) -> str:
    return "n/a" if v is None else f"{v:.{digits}f}"


def with_delta(v: float | None, ref: float | None) -> str:
    if v is None:
        return "n/a"
    if ref is None:
        return fmt(v)
    d = v - ref
    sign = "+" if d > 0.0005 else ("−" if d < -0.0005 else "±")
    return f"{v:.3f} ({sign}{abs(d):.3f})"


def _git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True,
                             timeout=10)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


# -- plots ---------------------------------------------------------------------------

def _plots(result: EvalResult, out: Path, prefix: str = "") -> list[Image]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ref = result.reference
    images = []
    # 1. per kind: article hit@5 (answerable kinds) and refusal accuracy, reference config, all splits.
    kinds = result.by_kind.get(ref, {})
    merged: dict[str, dict[str, float | None]] = {}
    for s in result.splits:
        for k in kinds.get(s, {}):
            merged[k] = _kind_all(result, ref, k)
    if merged:
        names = list(merged)
        hit = [merged[k].get("article.hit@5") or 0.0 for k in names]
        refusal = [merged[k].get("answer.refusal_accuracy") or 0.0 for k in names]
        fig, ax = plt.subplots(figsize=(9, 4))
        x = range(len(names))
        ax.bar([i - 0.2 for i in x], hit, width=0.4, label="article hit@5")
        ax.bar([i + 0.2 for i in x], refusal, width=0.4, label="refusal accuracy")
        ax.set_xticks(list(x), names, rotation=30, ha="right")
        ax.set_ylim(0, 1.05)
        ax.set_title(f"{ref}: per question kind ({', '.join(result.splits)})")
        ax.legend(loc="lower right")
        fig.tight_layout()
        fig.savefig(out / f"{prefix}kinds.png", dpi=110)
        plt.close(fig)
        images.append(Image(f"{prefix}kinds.png", "article hit@5 and refusal accuracy per question kind"))
    # 2. recall@k curves, every configuration.
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, level in zip(axes, ("article", "paragraph")):
        for c in result.configs:
            allm = result.summary[c.name].get("all", {})
            ys = [allm.get(f"{level}.recall@{k}") for k in (1, 3, 5, 10)]
            if all(y is not None for y in ys):
                ax.plot([1, 3, 5, 10], ys, marker="o", label=c.name, linewidth=2.5 if c.name == ref else 1.2)
        ax.set_title(f"{level} recall@k ({', '.join(result.splits)})")
        ax.set_xlabel("k")
        ax.set_xticks([1, 3, 5, 10])
        ax.set_ylim(0, 1.05)
        ax.grid(alpha=0.3)
    axes[0].legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(out / f"{prefix}recall_at_k.png", dpi=110)
    plt.close(fig)
    images.append(Image(f"{prefix}recall_at_k.png", "recall@k per configuration"))
    # 3. latency per stage, reference configuration.
    runs = result.runs.get(ref, {})
    stages = [s for s in STAGES
              if any(s in r.timings for r in runs.values())]
    if stages:
        data = [[r.timings[s] * 1000 for r in runs.values() if s in r.timings] for s in stages]
        fig, ax = plt.subplots(figsize=(8, 4))
        ax.boxplot(data, showfliers=True)
        ax.set_xticks(range(1, len(stages) + 1), stages)
        ax.set_yscale("log")
        ax.set_ylabel("ms (log scale)")
        ax.set_title(f"{ref}: latency per stage ({len(runs)} questions)")
        fig.tight_layout()
        fig.savefig(out / f"{prefix}latency.png", dpi=110)
        plt.close(fig)
        images.append(Image(f"{prefix}latency.png", "latency per stage"))
    return images


def _kind_all(result: EvalResult, config: str, kind: str) -> dict[str, float | None]:
    spec = next(c for c in result.configs if c.name == config)
    units = [u for u in result.units if u.kind == kind]
    return aggregate(units, result.runs[config], spec.answers)


# -- content -------------------------------------------------------------------------

def build(result: EvalResult, images: list[Image]) -> list[Block]:
    ref = result.reference
    blocks: list[Block] = [("h1", "Evaluation report")]
    blocks.append(("p", f"Run {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}, commit {_git_commit()}. "
                        f"{len(result.units)} scored questions (conversation turns counted one by one) in "
                        f"splits {', '.join(result.splits)}. Reference configuration: **{ref}**; every other number "
                        f"is shown with its difference to the reference in brackets."))
    blocks.append(("h2", "Configurations"))
    blocks.append(Table(["name", "kind", "what"], [[c.name, c.kind, c.description] for c in result.configs]))

    blocks.append(("h2", "Headline"))
    rows = []
    for split in result.splits:
        refm = result.summary[ref].get(split, {})
        for c in result.configs:
            m = result.summary[c.name].get(split, {})
            cells = [split, c.name, fmt(m.get("n.units"), 0)]
            for key, _ in HEADLINE:
                if c.name == ref:
                    cells.append(fmt(m.get(key)))
                else:
                    cells.append(with_delta(m.get(key), refm.get(key)))
            rows.append(cells)
    blocks.append(Table(["split", "config", "n"] + [h for _, h in HEADLINE], rows))
    blocks.append(("p", "Art = article level, Para = paragraph level; R = recall. Retrieval is scored on the top 10 "
                        "ranked passages; answer metrics are n/a for retrieval-only baselines. Faithfulness is the "
                        f"share of cited answer sentences that the {result.judge.get('name', 'offline')} judge finds "
                        "supported by the provisions they cite."))
    for img in images:
        blocks.append(img)

    blocks.append(("h2", "Per question kind"))
    kind_rows = []
    for split in result.splits:
        for kind, m in result.by_kind[ref].get(split, {}).items():
            row = [split, kind, fmt(m.get("n.units"), 0), fmt(m.get("article.hit@5")), fmt(m.get("article.mrr@10")),
                   fmt(m.get("paragraph.hit@5")), fmt(m.get("answer.refusal_accuracy")),
                   fmt(m.get("answer.citation_recall")), fmt(m.get("answer.faithfulness"))]
            for c in result.configs:
                if c.name != ref:
                    cm = result.by_kind[c.name].get(split, {}).get(kind, {})
                    row.append(with_delta(cm.get("article.hit@5"), m.get("article.hit@5")))
            kind_rows.append(row)
    blocks.append(Table(["split", "kind", "n", "Art hit@5", "Art MRR@10", "Para hit@5", "Refusal acc", "Cit. R",
                         "Faithful"] + [f"{c.name} Art hit@5" for c in result.configs if c.name != ref], kind_rows))

    blocks.append(("h2", "Retrieval at every k"))
    for level in ("article", "paragraph"):
        rows = []
        for split in result.splits:
            refm = result.summary[ref].get(split, {})
            for metric in ("hit", "recall", "mrr", "ndcg"):
                for c in result.configs:
                    m = result.summary[c.name].get(split, {})
                    cells = [split, metric, c.name]
                    for k in (1, 3, 5, 10):
                        key = f"{level}.{metric}@{k}"
                        cells.append(fmt(m.get(key)) if c.name == ref else with_delta(m.get(key), refm.get(key)))
                    rows.append(cells)
        blocks.append(("h3", f"{level.capitalize()} level"))
        blocks.append(Table(["split", "metric", "config", "@1", "@3", "@5", "@10"], rows))

    blocks.append(("h2", "Answers"))
    rows = []
    keys = [("answer.refusal_accuracy", "refusal acc"), ("answer.refusal_precision", "refusal P"),
            ("answer.refusal_recall", "refusal R"), ("answer.citation_validity", "citation validity"),
            ("answer.citation_precision", "citation P"), ("answer.citation_recall", "citation R"),
            ("answer.faithfulness", "faithfulness"), ("answer.faithfulness_ragas", "faithfulness (ragas)")]
    for split in result.splits:
        refm = result.summary[ref].get(split, {})
        for c in result.configs:
            if not c.answers:
                continue
            m = result.summary[c.name].get(split, {})
            rows.append([split, c.name] + [fmt(m.get(k)) if c.name == ref else with_delta(m.get(k), refm.get(k))
                                           for k, _ in keys])
    blocks.append(Table(["split", "config"] + [h for _, h in keys], rows))
    blocks.append(("p", "Refusal P = share of refusals that were right (the question was unanswerable); refusal R = "
                        "share of unanswerable questions refused. Citation validity = share of citations that exist "
                        "in the index and lie in (or hold) a passage the answerer was given. Citation P/R: cited "
                        "articles against gold articles (a refused answerable question has recall 0)."))

    blocks.append(("h2", "Verdicts and refusals"))
    rows = []
    for split in result.splits:
        refm = result.summary[ref].get(split, {})
        for c in result.configs:
            if not c.answers:
                continue
            m = result.summary[c.name].get(split, {})
            rows.append([split, c.name, fmt(m.get("n.coverage"), 0), fmt(m.get("n.near"), 0), fmt(m.get("n.far"), 0)]
                        + [fmt(m.get(k)) if c.name == ref else with_delta(m.get(k), refm.get(k))
                           for k, _ in VERDICT_KEYS])
    blocks.append(Table(["split", "config", "n coverage", "n near", "n far"] + [h for _, h in VERDICT_KEYS], rows))
    blocks.append(("p", "Verdict acc = the answer's verdict equals the gold verdict, over units with one (a refusal "
                        "without a verdict reads as not_addressed; no verdict at all is wrong); coverage = gold yes / "
                        "no / partly only. Confidently wrong = yes where the gold is no, or no where it is yes; hedge "
                        "= partly where the gold is yes or no (both over gold yes/no). Verdict supported = a yes / "
                        "partly verdict whose evidence sentences are in the named provision's cited text and carry "
                        "the subject's key words. Named article cited = a coverage answer cites the article the "
                        "question names. Near / far refused = share of near-topic / off-topic unanswerables declined; "
                        "answerable refused = share of answerable questions declined (want 0)."))

    blocks.append(("h2", "Latency"))
    rows = []
    for c in result.configs:
        for stage, st in result.latency.get(c.name, {}).items():
            rows.append([c.name, stage, fmt((st["p50"] or 0) * 1000, 1), fmt((st["p95"] or 0) * 1000, 1),
                         fmt(st["n"], 0)])
    blocks.append(Table(["config", "stage", "p50 ms", "p95 ms", "n"], rows))
    cs = result.cold_start
    if cs:
        if cs.get("seconds") is not None:
            blocks.append(("p", f"Cold start (new process to first answer, `{cs['command']}`): "
                                f"**{cs['seconds']:.1f} s**."))
        else:
            blocks.append(("p", f"Cold start not measured: {cs.get('error')}"))

    blocks.append(("h2", "Faithfulness judge"))
    j = result.judge
    blocks.append(("p", j.get("description", "")))
    ag = j.get("agreement")
    if ag:
        blocks.append(Table(["labels", "threshold", "accuracy (fitted)", "kappa (fitted)", "accuracy (leave-one-out)",
                             "kappa (leave-one-out)"],
                            [[str(ag["n"]), fmt(ag["threshold"]), fmt(ag["accuracy"]), fmt(ag["kappa"]),
                              fmt(ag["loo_accuracy"]), fmt(ag["loo_kappa"])]]))
        blocks.append(("p", "Confusion, leave-one-out (hand label / judge): " +
                       ", ".join(f"{k}: {v}" for k, v in ag["confusion"].items())))
        if ag["mistakes"]:
            blocks.append(Table(["sentence", "hand label", "judge rule", "cosine", "note"],
                                [[m["sentence"], m["label"], m["judge"], fmt(m["cosine"]), m["note"]]
                                 for m in ag["mistakes"]]))
    rg = j.get("ragas", {})
    ragas_line = ("computed for the reference configuration." if rg.get("used")
                  else f"not computed — {rg.get('why')}.")
    blocks.append(("p", "RAGAS claim-level faithfulness: " + ragas_line))

    if result.sealed or "dev" not in result.splits:
        blocks.append(("h2", "Worst questions"))
        blocks.append(("p", "Not listed: questions are shown one by one for the dev set only."))
    else:
        blocks += _worst_blocks(result)
    blocks += _threshold_blocks(result)
    if result.notes:
        blocks.append(("h2", "Notes"))
        for n in result.notes:
            blocks.append(("p", "- " + n))
    return blocks


def _worst_blocks(result: EvalResult) -> list[Block]:
    blocks: list[Block] = [("h2", "Worst questions (reference, dev)")]
    headers = ["id", "split", "kind", "question", "gold", "retrieved (top 3)", "answer"]
    blocks.append(("h3", "Weakest retrieval"))
    blocks.append(("p", "Answerable questions with the lowest mean of article hit@5, article MRR@10 and paragraph "
                        "hit@5; with what was retrieved (top 3) and how the answer began."))
    blocks.append(Table(headers, _worst(result, answerable=True)))
    blocks.append(("h3", "Wrong refusal decisions"))
    blocks.append(("p", "Unanswerable questions that were answered, and answerable ones that were refused."))
    blocks.append(Table(headers, _worst(result, answerable=None)))
    blocks.append(("h3", "Wrong verdicts"))
    blocks.append(("p", "Units with an expected verdict whose answer gave another (or none)."))
    blocks.append(Table(headers + ["verdict (gold / given)"], _worst(result, answerable=False)))
    return blocks


def _threshold_blocks(result: EvalResult) -> list[Block]:
    ref = result.reference
    blocks: list[Block] = []
    try:
        thresholds = load_thresholds()
    except ThresholdError as exc:
        thresholds = None
        blocks.append(("h2", "Thresholds"))
        blocks.append(("p", f"Not checked: {exc}"))
    if thresholds:
        blocks.append(("h2", "Thresholds (eval/thresholds.toml)"))
        rows = []
        for split, table in thresholds.items():
            for metric, minimum in table.items():
                v = result.summary[ref].get(split, {}).get(metric) if split in result.summary[ref] else None
                status = "not run" if split not in result.summary[ref] else ("ok" if v is not None and v >= minimum
                                                                             else "FAIL")
                rows.append([split, metric, fmt(minimum), fmt(v), status])
        blocks.append(Table(["split", "metric", "minimum", "measured", "status"], rows))
        failures, _ = check_thresholds(result.summary[ref], thresholds)
        blocks.append(("p", "All thresholds met." if not failures else f"{len(failures)} below threshold."))
    return blocks


def _worst(result: EvalResult, answerable: bool | None, n: int = 15) -> list[list[str]]:
    """answerable=True: weakest retrieval; None: wrong refusal decisions; False: wrong verdicts.
    Dev units only."""
    runs = result.runs[result.reference]
    scored = []
    for u in result.units:
        r = runs.get(u.uid)
        if r is None or u.split != "dev":
            continue
        if answerable is False:
            if r.metrics.get("answer.verdict_correct") != 0.0:
                continue
            score = 0.0
        elif answerable:
            vals = [r.metrics.get(k) for k in ("article.hit@5", "article.mrr@10", "paragraph.hit@5")]
            vals = [v for v in vals if v is not None]
            if not u.gold or not vals:
                continue
            score = sum(vals) / len(vals)
        else:
            if r.metrics.get("answer.refusal_correct") != 0.0:
                continue
            score = 0.0
        if score < 1.0:
            scored.append((score, u, r))
    scored.sort(key=lambda t: (t[0], t[1].uid))
    rows = []
    for _, u, r in scored[:n]:
        gold = "; ".join(g.describe() for g in u.gold) or "(unanswerable)"
        got = "; ".join(x["label"] for x in r.retrieved[:3]) or (r.error or "")
        if r.refused:
            ans = "REFUSED"
        else:
            text = r.answer or r.error or ""
            ans = text.splitlines()[0][:120] if text else ""
        row = [u.uid, u.split, u.kind, u.question, gold, got, ans]
        if answerable is False:
            row.append(f"{u.verdict} / {(r.verdict or {}).get('kind') or ('not_addressed' if r.refused else 'none')}")
        rows.append(row)
    return rows


# -- rendering -----------------------------------------------------------------------

def _md_cell(s: str) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


def to_markdown(blocks: list[Block]) -> str:
    out = []
    for b in blocks:
        if isinstance(b, Table):
            out.append("| " + " | ".join(_md_cell(h) for h in b.headers) + " |")
            out.append("|" + "---|" * len(b.headers))
            out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in b.rows]
            out.append("")
        elif isinstance(b, Image):
            out.append(f"![{b.alt}]({b.path})\n")
        else:
            tag, text = b
            prefix = {"h1": "# ", "h2": "## ", "h3": "### "}.get(tag, "")
            out.append(prefix + text + "\n")
    return "\n".join(out)


def _inline(text: str) -> str:
    import re

    t = html.escape(text)
    t = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", t)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", t)


def to_html(blocks: list[Block]) -> str:
    body = []
    for b in blocks:
        if isinstance(b, Table):
            body.append("<table><thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in b.headers)
                        + "</tr></thead><tbody>")
            body += ["<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in b.rows]
            body.append("</tbody></table>")
        elif isinstance(b, Image):
            body.append(f'<p><img src="{html.escape(b.path)}" alt="{html.escape(b.alt)}"></p>')
        else:
            tag, text = b
            tag = tag if tag in ("h1", "h2", "h3") else "p"
            body.append(f"<{tag}>{_inline(text)}</{tag}>")
    style = ("body{font-family:system-ui,sans-serif;margin:2em;max-width:1400px}"
             "table{border-collapse:collapse;margin:1em 0;font-size:0.85em}"
             "td,th{border:1px solid #ccc;padding:3px 6px;vertical-align:top}th{background:#f3f3f3}"
             "img{max-width:100%}")
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Evaluation report</title>"
            f"<style>{style}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def write_report(result: EvalResult, out_dir: Path, stem: str = "report") -> tuple[Path, Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    blocks = build(result, _plots(result, out_dir, "" if stem == "report" else f"{stem}-"))
    md, page = out_dir / f"{stem}.md", out_dir / f"{stem}.html"
    md.write_text(to_markdown(blocks), encoding="utf-8")
    page.write_text(to_html(blocks), encoding="utf-8")
    return md, page
