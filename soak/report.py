"""The soak report: report.json (every figure and record) and report.md with PNG figures."""
from __future__ import annotations

import json
from pathlib import Path


def _fig_latency(conc: dict, out: Path) -> str | None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    recs = [r for r in conc["records"] if "latency" in r]
    if not recs:
        return None
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [3, 1.3]})
    colors = {"before": "#2563eb", "during": "#dc2626", "after": "#16a34a"}
    for phase, c in colors.items():
        xs = [r for r in recs if r.get("phase") == phase]
        a.scatter([r["start"] for r in xs], [r["latency"] for r in xs], s=10, c=c, label=phase, alpha=.7)
    bad = [r for r in recs if r["status"] != "ok" or not r.get("matched")]
    if bad:
        a.scatter([r["start"] for r in bad], [r["latency"] for r in bad], s=40, facecolors="none",
                  edgecolors="k", label="error / mismatch")
    w = conc.get("upload_window", {})
    if "start" in w:
        a.axvspan(w["start"], w.get("end", a.get_xlim()[1]), color="#fca5a5", alpha=.25, label="upload ingesting")
    a.set_xlabel("question sent at (s)")
    a.set_ylabel("latency (s)")
    a.set_title("Question latency, all sessions")
    a.legend(fontsize=8)
    data = [[r["latency"] for r in recs if r.get("phase") == p and r["status"] == "ok"] for p in colors]
    labels = [p for p, d in zip(colors, data) if d]
    b.boxplot([d for d in data if d], tick_labels=labels, whis=(5, 95))
    b.set_title("p5–p95 by phase")
    fig.tight_layout()
    path = out / "latency.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path.name


def _fig_bars(title: str, counts: dict[str, int], out: Path, name: str, good: set[str]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3))
    keys = list(counts)
    ax.barh(keys, [counts[k] for k in keys], color=["#16a34a" if k in good else "#dc2626" for k in keys])
    for i, k in enumerate(keys):
        ax.text(counts[k], i, f" {counts[k]}", va="center")
    ax.set_title(title)
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(out / name, dpi=110)
    plt.close(fig)
    return name


def _fig_kill(kill: dict, out: Path) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rounds = kill["rounds"]
    fig, ax = plt.subplots(figsize=(7, 3))
    xs = [f"{r['round']}\n{r['delay_s']}s" for r in rounds]
    ax.bar(xs, [len(r["partial"]) for r in rounds], color="#dc2626", label="partial documents")
    ax.bar(xs, [r["check_rc"] for r in rounds], bottom=[len(r["partial"]) for r in rounds], color="#f59e0b",
           label="check exit code")
    ax.set_ylim(0, max(2, max((len(r["partial"]) + r["check_rc"] for r in rounds), default=0) + 1))
    ax.set_title(f"kill -9 of {rounds[0]['target'] if rounds else '?'} during ingestion (0 = clean)")
    ax.set_xlabel("round, kill after")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "kill9.png", dpi=110)
    plt.close(fig)
    return "kill9.png"


def write(results: dict, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(results, indent=2, default=str, ensure_ascii=False))
    md = [f"# Soak report ({results.get('started', '')})", "",
          f"Verdict: **{'PASS' if results.get('ok') else 'FAIL'}** — wall time {results.get('wall_s')} s.", ""]
    if results.get("merged_from"):
        md += ["Merged from: " + "; ".join(results["merged_from"]), ""]
    if results.get("kept_from_earlier_runs"):
        md += [f"(Sections kept from earlier runs: {', '.join(results['kept_from_earlier_runs'])}.)", ""]
    for problem in results.get("failures", []):
        md.append(f"- ✗ {problem}")
    md.append("")
    conc = results.get("concurrency")
    if conc:
        f = conc["figures"]
        md += ["## Concurrent sessions during a large upload", "",
               f"{f['sessions']} sessions × {f['questions_per_session']} questions; upload of "
               f"{results.get('upload_doc', '?')} took {f['upload_s']} s ({'ok' if f['upload_ok'] else 'FAILED'}).", "",
               "| phase | answers | p50 (s) | p95 (s) |", "|---|---|---|---|"]
        for p in ("before", "during", "after"):
            md.append(f"| {p} | {f[f'n_{p}']} | {f[f'p50_{p}_s']} | {f[f'p95_{p}_s']} |")
        md += ["", f"Errors: **{f['errors']}** · answers not matching their own question: **{f['mismatched']}** · "
               f"not asked before the deadline: {f['not_asked']}.", ""]
        fig = _fig_latency(conc, out)
        if fig:
            md += [f"![latency]({fig})", ""]
    kill = results.get("kill")
    if kill:
        f = kill["figures"]
        md += ["## kill -9 during ingestion", "",
               f"{f['kills']} kills ({f['killed_mid_ingest']} mid-ingestion, {f['committed_before_kill']} after the "
               f"commit); `rag index check` clean {f['checks_clean']}/{f['checks_run']}; partial documents "
               f"**{f['partial_documents']}**; orphan vectors after restart {f['orphan_vectors']} (right after the "
               f"kill, before the restart dropped them: {f.get('orphan_vectors_at_kill', 0)}).", "",
               "| round | target | kill after (s) | check exit (after restart) | partial | orphan vectors "
               "(at kill → after restart) | committed |",
               "|---|---|---|---|---|---|---|"]
        for r in kill["rounds"]:
            md.append(f"| {r['round']} | {r['target']} | {r['delay_s']} | {r['check_rc']} | {len(r['partial'])} | "
                      f"{r.get('orphans_at_kill', '–')} → {r['orphans']} | {'yes' if r['committed_new'] else 'no'} |")
        fin = kill["final"]
        md += ["", f"After the last kill: {'restart' if 'restart_s' in fin else 're-ingest'} → check exit "
                   f"{fin['check_rc']}, partial {len(fin['partial'])}, orphans {fin['orphans']}."]
        md += ["", f"![kill]({_fig_kill(kill, out)})", ""]
    host = results.get("hostile")
    if host:
        t = host["totals"]
        md += ["## Hostile and broken uploads", "",
               f"{t['kinds']} kinds: crashes **{t['crashes']}**, partial documents **{t['partial_documents']}**, "
               f"impersonations **{t['impersonations']}**, paths leaked **{t['paths_leaked']}**, names escaping the "
               f"upload folder **{t['escaped_paths']}**, server files read into the index **{t.get('server_files_read', 0)}**, "
               f"duplicates {t['duplicates']}; refused {t['refused']}, "
               f"accepted {t['accepted']}; slowest {t['slowest_s']} s.", "",
               "| kind | status | s | message |", "|---|---|---|---|"]
        for r in host["cases"]:
            flag = " ✗" if (r["crash"] or r["partial"] or r["impersonations"] or r["leaks"] or r.get("escaped")) else ""
            msg = r["message"].replace("|", "/").replace("\n", " ")[:110]
            md.append(f"| {r['kind']}{flag} | {r['status']} | {r['seconds']} | {msg} |")
        counts = {k: t[k] for k in ("refused", "accepted", "crashes", "partial_documents", "impersonations",
                                    "paths_leaked", "escaped_paths")}
        md += ["", f"![hostile]({_fig_bars('Hostile uploads', counts, out, 'hostile.png', {'refused', 'accepted'})})", ""]
    dmg = results.get("damage")
    if dmg:
        f = dmg["figures"]
        md += ["## Damage and repair", "",
               f"{f['kinds']} kinds: detected {f['detected']}, repaired {f['repaired']}, answers identical to before "
               f"the damage {f['answers_identical']} (on {f['questions']} fixed questions).", "",
               "| damage | check exit | fix | fix exit | fix (s) | check after | answers identical |",
               "|---|---|---|---|---|---|---|"]
        for r in dmg["rows"]:
            md.append(f"| {r['kind']} | {r['check_rc']} | `{r['fix']}` | {r['fix_rc']} | {r['fix_s']} | "
                      f"{r['check_after_rc']} | {'yes' if r['answers_identical'] else 'NO'} |")
        md.append("")
    (out / "report.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    return out / "report.md"
