"""`retrain inventory --out DIR`: a static site, one row per model and one page per model.

Plain HTML and CSS with the charts inline as SVG: no script, no font or stylesheet from
elsewhere, so it can be opened from disk or published to a bucket as it is. Every value on it
is one of the gathered facts, escaped; every chart has a table of the same numbers beside it.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from html import escape
from pathlib import Path

from retrain.compare import compare
from retrain.inventory import lineage as lineage_mod
from retrain.inventory.charts import Series, series, svg
from retrain.inventory.gather import Inventory, ModelFacts, open_promotion, promotion_pull
from retrain.inventory.model import Pull, Run
from retrain.inventory.status import pending_line
from retrain.report.confidence import WORDS
from retrain.report.escape import one_line
from retrain.report.numbers import fmt

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1b1b1b; max-width: 76rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.9rem; }
th, td { border: 1px solid #c8c8c8; padding: 0.3rem 0.6rem; text-align: left; }
th { background: #f0f0f0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.chart { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; }
.chart img { max-width: 100%; height: auto; }
figure { margin: 0; } figcaption { font-size: 0.8rem; color: #555; }
.missing { color: #8a4b00; }
.blessed { color: #1b5e20; font-weight: 600; } .not-blessed { color: #b00020; font-weight: 600; }
pre { background: #f6f6f6; padding: 0.8rem; overflow-x: auto; }
footer { margin-top: 2rem; font-size: 0.8rem; color: #555; }
"""


_UNSAFE_IN_FILE = re.compile(r"[^A-Za-z0-9_-]")
_START_ADVICE = re.compile(r" ?\(start one: [^)]*\)")
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_]{1,60}")


def _page(title: str, body: str, css: str) -> str:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{escape(title)}</title><link rel="stylesheet" href="{css}">'
        '<link rel="icon" href="data:,"></head>'  # no favicon request leaving for a 404
        f"<body>{body}</body></html>\n"
    )


def _days(since: str, now: datetime) -> str:
    if not since:
        return "unknown"
    try:
        then = datetime.fromisoformat(since.replace("Z", "+00:00"))
    except ValueError:
        return f"unreadable date {since!r}"
    if then.tzinfo is None or now.tzinfo is None:
        return "unknown (no time zone)"
    return f"{(now - then).total_seconds() / 86400:.1f} days"


def _verdict(text: str) -> str:
    if not text:
        return '<span class="missing">none</span>'
    css = "blessed" if text.startswith("blessed") else "not-blessed"
    return f'<span class="{css}">{escape(text)}</span>'


def _run_verdict(run: Run | None) -> str:
    """TFX's verdict and, with intervals, how the change against production reads."""
    if run is None or run.summary is None:
        return ""
    change = compare(run.summary).change
    return run.verdict + (f", {WORDS[change]}" if change else "")


def latest_candidate(facts: ModelFacts) -> Run | None:
    """The newest run that is not production's."""
    return next((r for r in facts.runs if r.job_id != facts.production.version), None)


def model_row(facts: ModelFacts, now: datetime) -> dict[str, str]:
    """The index row, as text (the page escapes it): also what the browser test reads.
    Production's version and verdict apart from the latest candidate's."""
    prod = facts.production
    production = prod.version or "none recorded"
    proposal = open_promotion(facts) if not prod.version else None
    if proposal is not None:
        production += f"; PR #{proposal[0].number} proposes {proposal[1]}"
    serving = facts.run(prod.version) if prod.version else None
    latest = latest_candidate(facts)
    finished = next((r for r in facts.runs if r.summary is not None), None)
    if prod.version and serving is None:
        production_verdict = "its run is not found"
    else:
        production_verdict = _run_verdict(serving)
    return {
        "model": facts.spec.name,
        "owner": facts.spec.owner,
        "task": facts.spec.task,
        "production": production,
        "production verdict": production_verdict,
        "age": _days(prod.commit.committed_at, now) if prod.commit else "unknown",
        "latest candidate": f"{latest.job_id} ({latest.state})" if latest else "none",
        "candidate verdict": _run_verdict(latest),
        "notices": f"{len(facts.notices)} open" if facts.notices else "none",
        "staleness": _days(finished.finished_at, now) if finished else "no finished run",
    }


INDEX_HEADS = (
    "model",
    "owner",
    "task",
    "production",
    "production verdict",
    "age",
    "latest candidate",
    "candidate verdict",
    "notices",
    "staleness",
)
VERDICT_HEADS = ("production verdict", "candidate verdict")


def static_text(problem: str) -> str:
    """A fact that could not be read, for a page read later and elsewhere: no advice to start
    a local stack, which the reader of a static page has no use for."""
    return _START_ADVICE.sub("", problem)


def index_html(inventory: Inventory, now: datetime) -> str:
    heads = INDEX_HEADS
    rows = []
    for facts in inventory.models:
        row = model_row(facts, now)
        link = f'<a href="models/{facts.spec.name}.html">{escape(row["model"])}</a>'
        cells = [f'<th scope="row">{link}</th>']
        cells += [
            f"<td>{_verdict(row[h]) if h in VERDICT_HEADS else escape(row[h])}</td>"
            for h in heads[1:]
        ]
        rows.append(f'<tr data-model="{escape(facts.spec.name)}">{"".join(cells)}</tr>')
    notes = "".join(
        f"<li>{escape(static_text(n))}</li>" for n in inventory.notes + inventory.problems
    )
    body = (
        "<h1>Model inventory</h1>"
        f"<p>{len(inventory.models)} model(s); facts from {escape(inventory.place)}. Age: since "
        "the commit that promoted the production version; staleness: since the newest finished "
        "run.</p>"
        + (f'<ul class="missing">{notes}</ul>' if notes else "")
        + '<table id="models"><caption>Models</caption><thead><tr>'
        + "".join(f'<th scope="col">{h}</th>' for h in heads)
        + f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        + _footer(now)
    )
    return _page("Model inventory", body, "style.css")


def _footer(now: datetime) -> str:
    when = escape(now.isoformat())
    return f"<footer>Generated by <code>retrain inventory</code> at {when}.</footer>"


def chart_file(spec: str, metric: str) -> str:
    """The chart's file under models/: metric names come from summaries (any text: `auc/x`,
    `../x`), so the name keeps only safe characters, and a digest of the whole name keeps two
    metrics that differ only in the others apart (a plain name is kept as it is)."""
    if _PLAIN_NAME.fullmatch(metric):
        return f"charts/{spec}-{metric}.svg"
    safe = _UNSAFE_IN_FILE.sub("_", metric)[:60]
    digest = hashlib.sha256(metric.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"charts/{spec}-{safe}-{digest}.svg"


def chart_section(s: Series, spec: str, charts: dict[str, str]) -> str:
    """The chart as its own SVG file (added to `charts`: matplotlib's ids are per figure, so
    two charts inline on one page would repeat them), and the table of its numbers."""
    title = f"{s.metric}: last {len(s.runs)} runs of {spec}"
    name = chart_file(spec, s.metric)
    charts[name] = svg(s, one_line(title, 120))  # SVG is XML: no control characters
    names = s.names
    head = "".join(f'<th scope="col">{escape(n)}</th>' for n in names)
    rows = "".join(
        f'<tr><th scope="row">{escape(run)}</th>'
        + "".join(f'<td class="num">{fmt(s.lines[n][i])}</td>' for n in names)
        + "</tr>"
        for i, run in enumerate(s.runs)
    )
    bounds = []
    if s.threshold is not None:
        t = s.threshold
        named = (("min", t.min), ("max", t.max), ("max regression", t.max_regression))
        bounds = [f"{k} {v:g}" for k, v in named if v is not None]
    caption = f"{s.metric} per run" + (f" (thresholds: {', '.join(bounds)})" if bounds else "")
    return (
        f'<section class="metric"><h3>{escape(s.metric)}</h3><div class="chart">'
        f'<figure><img src="{escape(name)}" alt="{escape(title)}, as in the table beside it">'
        f"<figcaption>{escape(title)}</figcaption></figure>"
        f'<table><caption>{escape(caption)}</caption><thead><tr><th scope="col">run</th>'
        f"{head}</tr></thead><tbody>{rows}</tbody></table></div></section>"
    )


def model_html(
    inventory: Inventory, facts: ModelFacts, now: datetime, files: dict[str, str]
) -> str:
    name = facts.spec.name
    charts = "".join(chart_section(s, name, files) for s in series(facts.runs, facts.history))
    run_rows = "".join(
        f"<tr><td>{escape(r.job_id)}</td><td>{escape(r.trigger)}</td><td>{escape(r.state)}</td>"
        f"<td>{escape(r.finished_at)}</td><td>{_verdict(r.verdict)}</td>"
        f"<td>{escape(r.event_id)}</td><td>{escape(r.git_sha[:12])}</td>"
        f"<td>{escape(r.summary.run.data_window if r.summary else '')}</td></tr>"
        for r in facts.runs
    )
    chain = lineage_mod.lineage(inventory, name)
    pull = promotion_pull(facts)
    missing = "".join(f"<li>{escape(static_text(p))}</li>" for p in facts.problems)
    body = (
        '<p><a href="../index.html">All models</a></p>'
        f"<h1>{escape(name)}</h1>"
        f"<p>{escape(facts.spec.task)}, owner {escape(facts.spec.owner)}. Production: "
        f"{escape(facts.production.version or 'none recorded')}"
        + (f" (promoted by PR #{pull.number})" if pull else "")
        + f". Pending rows: {escape(pending_line(facts).removeprefix('pending').strip())}.</p>"
        + (f'<ul class="missing">{missing}</ul>' if missing else "")
        + _notices_section(facts)
        + "<h2>Metric history</h2>"
        + (charts or '<p class="missing">No run with an evaluation summary yet.</p>')
        + '<h2>Runs</h2><table id="runs"><caption>Runs, newest first</caption><thead><tr>'
        + "".join(
            f'<th scope="col">{h}</th>'
            for h in (
                "job",
                "trigger",
                "state",
                "finished",
                "verdict",
                "event",
                "commit",
                "data window",
            )
        )
        + f"</tr></thead><tbody>{run_rows}</tbody></table>"
        + _pulls_section(facts)
        + "<h2>Lineage of the production version</h2>"
        + f"<pre>{escape(lineage_mod.render(chain))}</pre>"
        + _footer(now)
    )
    return _page(f"{name}: model inventory", body, "../style.css")


def _link(url: str, text: str) -> str:
    """A link only to the code host's https pages; anything else stays text."""
    if url.startswith("https://"):
        return f'<a href="{escape(url)}" rel="noreferrer">{escape(text)}</a>'
    return escape(text)


def pull_verdict(facts: ModelFacts, pull: Pull) -> str:
    """The run a promotion PR proposes (its title's last word, as `open_promotion` reads it),
    else the newest run of the PR's own candidates."""
    version = pull.title.rsplit(" ", 1)[-1] if pull.kind == "promotion" else ""
    proposed = facts.run(version) if version else None
    run = proposed or next((r for r in facts.runs if r.pr_number == pull.number), None)
    if run is None:
        return "no run"
    return _run_verdict(run) or f"run {run.state}"


def _pulls_section(facts: ModelFacts) -> str:
    items = "".join(
        f'<li data-pull="{p.number}">{_link(p.url, f"#{p.number}")} ({escape(p.kind)}, '
        f"{escape(p.state)}) {escape(p.title)}: {_verdict(pull_verdict(facts, p))}</li>"
        for p in facts.pulls
    )
    return f'<h2>Pull requests</h2><ul id="pulls">{items or "<li>none</li>"}</ul>'


def _notices_section(facts: ModelFacts) -> str:
    """Open failure notices, as `retrain status` lists them."""
    items = "".join(
        f"<li>{_link(n.url, f'#{n.number}')} {escape(n.title)}</li>" for n in facts.notices
    )
    return f'<h2>Open notices</h2><ul id="notices">{items or "<li>none open</li>"}</ul>'


def write_site(inventory: Inventory, out: Path, now: datetime) -> list[Path]:
    """Write the site under `out`; return the files written."""
    (out / "models" / "charts").mkdir(parents=True, exist_ok=True)
    written = {out / "style.css": STYLE.lstrip(), out / "index.html": index_html(inventory, now)}
    for facts in inventory.models:
        charts: dict[str, str] = {}
        page = model_html(inventory, facts, now, charts)
        written[out / "models" / f"{facts.spec.name}.html"] = page
        written.update({out / "models" / name: text for name, text in charts.items()})
    for path, text in written.items():
        path.write_text(text, encoding="utf-8")
    return sorted(written)
