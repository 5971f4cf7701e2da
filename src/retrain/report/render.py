"""Render a comparison, or a run that did not finish, as a PR comment in GitHub markdown.

Pure: values in, text out, so golden files pin the output. Built for a ten-second read:
the verdict in one line, then one table, then the worst slices; everything long is folded
into <details>. Every name that comes from data goes through `report.escape`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from retrain.anomalies import Finding, classify
from retrain.compare.model import Check, Comparison, MetricRow, Note, SliceKey
from retrain.report.changes import changes_line
from retrain.report.chart import history_section
from retrain.report.confidence import (
    WORDS,
    change_words,
    interval_text,
    level_text,
    small_eval_warning,
    verdict_words,
)
from retrain.report.confusion import confusion_section
from retrain.report.escape import code, fenced, hide_local_paths, redact
from retrain.report.history import HistoryPoint
from retrain.report.numbers import fmt, limit, signed
from retrain.runs import RunOutcome
from retrain.summary import DataFacts, EvaluationSummary

# GitHub refuses comments over 65,536 characters; stay well below.
MAX_BODY = 60_000
WORST_SLICES = 3
MAX_ABOUT = 200  # characters of a spec's description or owner shown under the verdict
ICON = {"pass": "✅", "fail": "❌", "no-baseline": "🆕"}


@dataclass(frozen=True)
class RunLinks:
    """Where a reader goes next: the Vertex console, or the local pipeline root."""

    run_id: str
    trigger: str
    git_sha: str = ""
    console_url: str = ""
    pipeline_root: str = ""
    summary_location: str = ""


@dataclass(frozen=True)
class Report:
    comparison: Comparison
    summary: EvaluationSummary
    links: RunLinks
    marker: str = ""
    history: Sequence[HistoryPoint] = field(default=())
    baseline_label: str = "the baseline"
    baseline_summary: EvaluationSummary | None = None  # another run's, when compared with it


def links_for(summary: EvaluationSummary, console_url: str = "", location: str = "") -> RunLinks:
    return RunLinks(
        run_id=summary.run.run_id,
        trigger=summary.run.trigger,
        git_sha=summary.run.git_sha,
        console_url=console_url,
        pipeline_root=summary.run.pipeline_root,
        summary_location=location,
    )


def render_comparison(report: Report) -> str:
    body = _comparison(report, full_slices=True)
    if len(body) > MAX_BODY:
        body = _comparison(report, full_slices=False)
    return body if len(body) <= MAX_BODY else body[:MAX_BODY] + "\n\n… (cut to fit a comment)\n"


def _comparison(report: Report, full_slices: bool) -> str:
    c = report.comparison
    summary = report.summary
    head = (
        report.marker,
        _verdict_line(c),
        changes_line(summary.changes),
        _gate_line(c, summary),
        _about(summary),
        _baseline(summary),
    )
    parts = [p for p in head if p]
    small = small_eval_warning(c)
    if small:
        parts.append(small)
    if summary.training is not None and summary.training.warning:
        parts.append(f"> [!WARNING]\n> **Training on a sample:** {summary.training.warning}.")
    if not c.agrees_with_tfx:
        parts.append(_disagreement(c))
    parts.append(_metric_table(c))
    data = _data_notes(report.summary, report.baseline_summary)
    parts.extend(s for s in (_worst_slices(c), data, _notes(c)) if s)
    details = []
    if full_slices and c.slices:
        details.append(_fold(f"All slices ({len(c.slices)} rows)", _slice_table(c.slices)))
    elif c.slices:
        details.append(f"{len(c.slices)} slice rows were left out to fit; see the summary.")
    confusion = confusion_section(summary.confusion)
    if confusion:
        title = (
            "Confusion matrix (candidate and production)"
            if c.has_baseline
            else ("Confusion matrix")
        )
        details.append(_fold(title, confusion))
    if report.summary.per_class:
        details.append(_fold("Per-class figures", _class_table(report.summary)))
    if c.validation_failures:
        failures = "\n".join(c.validation_failures)
        details.append(_fold("TFX validation failures", fenced(failures)))
    chart = history_section(_chart_metrics(c), report.history)
    if chart:
        details.append(_fold(f"Metric history (last {len(report.history)} runs)", chart))
    parts.extend(details)
    parts.append(_footer(report.links, report.summary, c.blessed))
    return "\n\n".join(parts) + "\n"


def _verdict_line(c: Comparison) -> str:
    name = code(c.spec)
    lead = next((r for r in c.overall if r.checks), c.overall[0] if c.overall else None)
    headline = ""
    if lead is not None and lead.candidate is not None:
        headline = f"; {code(lead.metric)} {fmt(lead.candidate)}"
        if lead.delta is not None:
            headline += f" ({change_words(lead, c.level)})"
    words = verdict_words(c)
    how = f", {words}" if words else ""
    if c.verdict == "fail":
        reasons = [reason for row in c.failing for reason in _failures(row)]
        if c.slices_gate:
            reasons += [
                f"slice {code(slice_name(row.slice))}: {reason}"
                for row in c.failing_slices
                for reason in _failures(row)
            ]
        shown = "; ".join(reasons[:3]) + (
            f"; and {len(reasons) - 3} more" if len(reasons) > 3 else ""
        )
        worse = ", worse than production" if c.change == "worse" else ""
        return f"### ❌ Fail{worse}: {name} candidate — {shown}"
    if c.verdict == "no-baseline":
        if not c.has_baseline:
            return (
                f"### 🆕 No baseline yet: {name} candidate meets its absolute bounds{headline}"
                f"{_slice_warning(c)}"
            )
        missing = [code(r.metric) for r in c.overall if r.verdict == "no-baseline"]
        return (
            f"### 🆕 Pass, partly unchecked: {name} candidate meets its bounds{headline}; "
            f"no baseline value for {', '.join(missing)}, so its regression check did not run"
            f"{_slice_warning(c)}"
        )
    gated = sum(1 for r in c.overall if r.checks)
    what = "its gated metric" if gated == 1 else f"all {gated} gated metrics"
    return f"### ✅ Pass{how}: {name} candidate meets {what}{headline}{_slice_warning(c)}"


def _slice_limits(rows: Sequence[MetricRow]) -> str:
    """What the failing slices crossed: `beyond 0.02`, `below 0.75`, joined when several."""
    words = {"min": "below", "max": "above", "max_regression": "beyond"}
    seen: list[str] = []
    for row in rows:
        for check in row.failed_checks:
            text = f"{words[check.kind]} {limit(check.limit)}"
            if text not in seen:
                seen.append(text)
    return " / ".join(seen)


def _slice_warning(c: Comparison) -> str:
    """A slice that failed its threshold is news for the headline, not only for the table
    below it: in words when slices do not gate (the default, as in TFX)."""
    failing = c.failing_slices
    names = sorted({slice_name(r.slice) for r in failing})
    if not names or c.slices_gate:
        return ""
    shown = ", ".join(code(n, True) for n in names[:3])
    more = f" and {len(names) - 3} more" if len(names) > 3 else ""
    noun = "slice" if len(names) == 1 else "slices"
    regressed = all(ch.kind == "max_regression" for r in failing for ch in r.failed_checks)
    verb = "regressed" if regressed else "failed"
    return (
        f" · ⚠️ {len(names)} {noun} {verb} {_slice_limits(failing)} ({shown}{more}); "
        "slices do not gate"
    )


def _gate_line(c: Comparison, summary: EvaluationSummary) -> str:
    """How this verdict was reached, in the first lines: do slices gate, how sure is it, and
    what a change within noise means for promotion."""
    items = [
        "Slices gate **on**: a slice that fails its threshold fails the verdict"
        if c.slices_gate
        else "Slices gate **off**: slices inform, only the whole eval set decides"
    ]
    if summary.confidence is not None:
        conf = summary.confidence
        items.append(
            f"{level_text(conf.level)} intervals (TFMA's Poisson bootstrap, {conf.samples} "
            f"resamples, seed {conf.seed})"
        )
        held = "not promoted" if c.within_noise == "hold" else "promoted"
        items.append(f"within noise: **{c.within_noise}**, {held}")
    return "<sub>" + " · ".join(items) + " · set in the spec's `evaluation`</sub>"


def _about(summary: EvaluationSummary) -> str:
    """Whose model this is and what it does, from the spec; both are author-written text."""
    items = []
    if summary.description:
        text = summary.description
        cut = text if len(text) <= MAX_ABOUT else text[: MAX_ABOUT - 1] + "…"
        items.append(code(redact(cut)))
    if summary.owner:
        items.append(f"owner {code(summary.owner[:MAX_ABOUT])}")
    return f"<sub>{code(summary.spec)}: {' · '.join(items)}</sub>" if items else ""


def _failures(row: MetricRow) -> list[str]:
    name = code(row.metric)
    if row.candidate is None:
        return [f"{name} has no value"]
    return [_failure(name, row, check) for check in row.failed_checks]


def _failure(name: str, row: MetricRow, check: Check) -> str:
    if check.kind == "min":
        return f"{name} {fmt(check.observed)} is below the minimum {limit(check.limit)}"
    if check.kind == "max":
        return f"{name} {fmt(check.observed)} is above the maximum {limit(check.limit)}"
    return (
        f"{name} regressed by {fmt(check.observed, row.candidate)} (allowed {limit(check.limit)})"
    )


def _disagreement(c: Comparison) -> str:
    if c.blessed:
        text = (
            "TFX's Evaluator **blessed** this candidate, but the checks here **fail**. "
            "The two disagree: review before promoting."
        )
    else:
        text = (
            "TFX's Evaluator did **not bless** this candidate, but the checks here pass. "
            "The two disagree: TFX's reasons are under *TFX validation failures* below."
        )
    return f"> [!WARNING]\n> {text}"


def _threshold_text(row: MetricRow) -> str:
    parts = []
    for check in row.checks:
        if check.kind == "min":
            parts.append(f"≥ {limit(check.limit)}")
        elif check.kind == "max":
            parts.append(f"≤ {limit(check.limit)}")
        else:
            word = "drop" if row.higher_is_better else "rise"
            parts.append(f"{word} ≤ {limit(check.limit)}")
    return ", ".join(parts) or "—"


def _result_text(row: MetricRow) -> str:
    if not row.checks:
        return "not gated"
    if row.verdict == "fail" and row.candidate is None:
        return "❌ no value"
    if row.verdict == "fail":
        reasons = []
        for check in row.failed_checks:
            if check.kind == "min":
                reasons.append("below min")
            elif check.kind == "max":
                reasons.append("above max")
            else:
                reasons.append(f"regressed {fmt(check.observed, row.candidate)}")
        return "❌ " + ", ".join(reasons)
    if row.verdict == "no-baseline":
        return "✅ bounds met; 🆕 change unchecked"
    if row.baseline is None:
        return "✅ bounds met"
    return "✅ pass"


def _delta_text(row: MetricRow) -> str:
    if row.delta is None or row.regression is None:
        return "—"
    text = signed(row.delta, row.candidate)
    if row.change is not None:
        return f"{text} {interval_text(row.change_interval, row.candidate, sign=True)} " + (
            WORDS[row.change].removesuffix(" than production")
        )
    if abs(row.delta) < 1e-12:
        return f"{text} same"
    return f"{text} {'worse' if row.regression > 0 else 'better'}"


def _value_text(value: float | None, bounds: tuple[float, float] | None) -> str:
    shown = fmt(value)
    return f"{shown} {interval_text(bounds, value)}" if bounds and value is not None else shown


def _arrow(row: MetricRow) -> str:
    return "↑" if row.higher_is_better else "↓"


def _metric_table(c: Comparison) -> str:
    lines = [
        "| Metric | Baseline | Candidate | Delta | Threshold | Result |",
        "|---|---:|---:|---:|---|---|",
    ]
    for row in c.overall:
        lines.append(
            f"| {code(row.metric, True)} {_arrow(row)} | "
            f"{_value_text(row.baseline, row.baseline_interval)} | "
            f"{_value_text(row.candidate, row.candidate_interval)} | {_delta_text(row)} | "
            f"{_threshold_text(row)} | {_result_text(row)} |"
        )
    lines.append("")
    gate = (
        "A slice that fails its threshold fails the verdict (`slices_gate`)."
        if c.slices_gate
        else "Slices inform; only the whole eval set gates, as in TFX."
    )
    sure = (
        f" [low, high]: {level_text(c.level)} confidence interval; a change is better or worse "
        "only when its interval excludes no change, else within noise."
        if c.level
        else ""
    )
    lines.append(f"<sub>↑ higher is better, ↓ lower is better. {gate}{sure}</sub>")
    return "\n".join(lines)


def slice_name(key: SliceKey) -> str:
    return ", ".join(f"{k}={v}" for k, v in key) or "overall"


def _slice_rows(rows: Sequence[MetricRow]) -> list[str]:
    out = []
    for row in rows:
        examples = "n/a" if row.example_count is None else f"{row.example_count:,}"
        failing = row.verdict == "fail" and row.candidate is not None
        flag = " ⚠️ " + _result_text(row)[2:] if failing else ""
        out.append(
            f"| {code(slice_name(row.slice), True)} | {code(row.metric, True)} | {examples} | "
            f"{fmt(row.baseline)} | {fmt(row.candidate)} | {_delta_text(row)}{flag} |"
        )
    return out


_SLICE_HEADER = [
    "| Slice | Metric | Examples | Baseline | Candidate | Delta |",
    "|---|---|---:|---:|---:|---|",
]


def _slice_table(rows: Sequence[MetricRow]) -> str:
    return "\n".join([*_SLICE_HEADER, *_slice_rows(rows)])


def _worst_slices(c: Comparison) -> str:
    gated = [row.metric for row in c.overall if row.checks] or [r.metric for r in c.overall]
    worst: list[MetricRow] = []
    for metric in gated:
        worst.extend(c.worst_slices(metric, WORST_SLICES))
    if not c.slices:
        return ""
    if not worst:
        return "**Slices:** no slice got worse."
    title = "**Worst slices**" if c.has_baseline else "**Weakest slices** (no baseline yet)"
    return "\n".join([title, "", *_SLICE_HEADER, *_slice_rows(worst)])


def _class_table(summary: EvaluationSummary) -> str:
    lines = [
        "| Class | Metric | Baseline | Candidate |",
        "|---|---|---:|---:|",
    ]
    for row in summary.per_class:
        lines.append(
            f"| {code(row.class_name, True)} | {code(row.metric, True)} | "
            f"{fmt(row.baseline)} | {fmt(row.candidate)} |"
        )
    return "\n".join(lines)


def _baseline(summary: EvaluationSummary) -> str:
    """Version 3 says which model the candidate was judged against: production, or none."""
    lineage = summary.lineage
    if lineage is None:
        return ""
    if summary.baseline is not None:
        version = summary.baseline.version or lineage.baseline_version
        return f"**Baseline:** production, version {code(version)} (the spec's `promotion.version`)"
    note = hide_local_paths(lineage.baseline_note[:300]) or "no reason given"
    return f"**Baseline:** none; {code(note)}"


def _facts_line(facts: DataFacts) -> str:
    parts = []
    if facts.rows_read is not None:
        parts.append(f"{facts.rows_read:,} rows read")
    parts += [f"{n:,} dropped ({code(why)})" for why, n in facts.rows_dropped.items()]
    if facts.missing:
        missing = ", ".join(f"{code(name)} {n:,}" for name, n in facts.missing.items())
        parts.append(f"missing values filled in: {missing}")
    return " · ".join(parts)


def _anomaly_line(f: Finding) -> str:
    kinds = ", ".join(code(k) for k in f.kinds)
    return f"- {code(f.feature)}: {kinds}: **{f.level}**, {hide_local_paths(redact(f.why))}"


def _data_notes(summary: EvaluationSummary, baseline: EvaluationSummary | None = None) -> str:
    lines = []
    counts = " · ".join(f"{n:,} {code(split)}" for split, n in summary.example_counts.items())
    window = f" · window {code(summary.run.data_window)}" if summary.run.data_window else ""
    lineage = summary.lineage
    if lineage is not None and lineage.data_snapshot:
        window += f" · snapshot {code(lineage.data_snapshot)}"
    if lineage is not None and lineage.schema_blob:
        window += f" · schema {code(lineage.schema_blob[:12])}"
    facts = _facts_line(summary.data) if summary.data is not None else ""
    facts = f" · {facts}" if facts else ""
    if counts or window or facts:
        lines.append(f"**Data:** {counts or 'row counts not reported'}{window}{facts}")
    base = _facts_line(baseline.data) if baseline is not None and baseline.data else ""
    if base:
        lines.append("")
        lines.append(f"**Baseline run's data:** {base}")
    findings = classify(summary)
    if findings:
        n, errors = len(findings), sum(f.level == "error" for f in findings)
        counts = f"{errors} {'error' if errors == 1 else 'errors'}, {n - errors} " + (
            "warning" if n - errors == 1 else "warnings"
        )
        noun = "feature" if n == 1 else "features"
        lines.append(
            f"**⚠️ Data anomalies in {n} {noun}** ({counts}), against the checked-in schema:"
        )
        lines.append("")
        lines.extend(_anomaly_line(f) for f in findings[:5])
        if n > 5:
            lines.append(f"- and {n - 5} more (details below)")
        if any(f.schema_change for f in findings):
            lines.append("")
            lines.append(
                "A new column or category is a legitimate change the schema can accept: "
                "the service proposes it in a schema PR."
            )
        described = "\n\n".join(
            f"{f.feature}: {', '.join(f.kinds)}\n{f.description}" for f in findings if f.description
        )
        if described:
            lines.append("")
            lines.append(_fold("Anomaly details", fenced(described)))
    return "\n".join(lines)


def _note_text(note: Note) -> str:
    name = code(note.metric)
    where = code(slice_name(note.slice))
    texts = {
        "candidate_missing": f"The candidate reported no {name}.",
        "candidate_nan": f"The candidate's {name} is NaN (no usable value).",
        "baseline_missing": f"The baseline reported no {name}: its regression was not checked.",
        "baseline_nan": f"The baseline's {name} is NaN: its regression was not checked.",
        "slice_only_candidate": f"Slice {where} has {name} for the candidate only.",
        "slice_only_baseline": f"Slice {where} has {name} for the baseline only.",
        "direction_mismatch": (
            f"The summary's direction for {name} contradicts retrain's metric table; "
            "retrain's is used."
        ),
        "unknown_metric": f"{name} is not a metric retrain knows; its direction is assumed.",
        "blessing_other_baseline": (
            "The baseline here is another run's summary; TFX blessed against its own baseline."
        ),
    }
    return "- " + texts[note.kind]


def _notes(c: Comparison) -> str:
    if not c.notes:
        return ""
    lines = [_note_text(n) for n in c.notes]
    if len(lines) <= 4:
        return "**Notes**\n\n" + "\n".join(lines)
    return _fold(f"Notes ({len(lines)})", "\n".join(lines))


def _chart_metrics(c: Comparison) -> list[tuple[str, float | None]]:
    out: list[tuple[str, float | None]] = []
    for row in c.overall:
        bound = next((ch.limit for ch in row.checks if ch.kind in ("min", "max")), None)
        out.append((row.metric, bound))
    return out


def _fold(summary: str, content: str) -> str:
    """<details> with a blank line after <summary>, without which GitHub skips the markdown."""
    return f"<details><summary>{summary}</summary>\n\n{content}\n\n</details>"


def _link(url: str, text: str) -> str:
    if not url.startswith("https://"):
        return code(url)
    safe = "".join(ch if ch not in "()<> \"'`" else f"%{ord(ch):02X}" for ch in url)
    return f"[{text}]({safe})"


def _footer(links: RunLinks, summary: EvaluationSummary | None, blessed: bool | None) -> str:
    items = [f"Run {code(links.run_id)} ({code(links.trigger)})"]
    if links.console_url:
        items.append(_link(links.console_url, "Vertex AI console"))
    elif links.pipeline_root:
        items.append(f"pipeline root {code(hide_local_paths(links.pipeline_root))}")
    if links.summary_location:
        items.append(f"summary {code(hide_local_paths(links.summary_location))}")
    if summary is not None:
        items.append(f"spec {code(summary.spec)} version {code(summary.spec_version)}")
    if links.git_sha:
        items.append(f"commit {code(links.git_sha[:12])}")
    if blessed is not None:
        items.append("TFX: blessed" if blessed else "TFX: not blessed")
    return "<sub>" + " · ".join(items) + "</sub>"


def render_unfinished(outcome: RunOutcome, marker: str = "") -> str:
    """A failed or cancelled run: which component, what error, where to look."""
    name = code(outcome.spec)
    if outcome.state == "cancelled":
        head = f"### ⏹️ Cancelled: {name} candidate run was cancelled; nothing to compare"
        body = "Start the run again to get a comparison."
    else:
        where = f" in {code(outcome.failed_task)}" if outcome.failed_task else ""
        head = f"### 💥 Run failed{where}: {name} candidate was not evaluated"
        body = "The pipeline stopped before its evaluation summary was written."
    parts = [p for p in (marker, head, body) if p]
    if outcome.error:
        parts.append(_fold("Error", fenced(outcome.error)))
    links = RunLinks(
        run_id=outcome.job_id,
        trigger=outcome.trigger,
        git_sha=outcome.git_sha,
        console_url=outcome.console_url,
        pipeline_root=outcome.pipeline_root,
    )
    parts.append(_footer(links, None, None))
    return "\n\n".join(parts) + "\n"


def render_unreadable(outcome: RunOutcome, problem: str, marker: str = "") -> str:
    """The run succeeded but its summary cannot be read: say so rather than stay silent."""
    parts = [
        marker,
        f"### ⚠️ No comparison: {code(outcome.spec)} run finished but its evaluation summary "
        "could not be read",
        _fold("Problem", fenced(problem)),
        _footer(
            RunLinks(
                outcome.job_id,
                outcome.trigger,
                outcome.git_sha,
                outcome.console_url,
                outcome.pipeline_root,
            ),
            None,
            None,
        ),
    ]
    return "\n\n".join(p for p in parts if p) + "\n"
