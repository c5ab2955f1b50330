"""The joint test's finding in every format: one JSON section, one line of text (table,
Markdown), one HTML panel; each renderer adds it where the check asked for it."""

from __future__ import annotations

from typing import Any

from driftcli.errors import flag_names
from driftcli.output.texts import escaped, format_p_value, shown
from driftcli.results import JointResult


def joint_json(joint: JointResult) -> dict[str, Any]:
    """The `joint` section of the JSON report (docs/json.md)."""
    return {
        "score": joint.score,
        "score_lower": joint.score_lower,
        "score_upper": joint.score_upper,
        "threshold": joint.threshold,
        "p_value": joint.p_value,
        "drift": joint.drift,
        "status": joint.status.value,
        "small": joint.small,
        "reason": joint.reason and flag_names(joint.reason),
        "method": joint.method,
        "reference_rows": joint.reference_rows,
        "live_rows": joint.live_rows,
        "contributors": [
            {"feature": c.feature, "importance": c.importance} for c in joint.contributors
        ],
    }


def joint_line(joint: JointResult) -> str:
    """One line: status, AUC and its bounds against the threshold, p-value, why (where
    the status needs a reason), and what moved together."""
    if joint.score is None:
        return (
            f"joint: {joint.status.value}: too few rows to train and test a classifier "
            f"({joint.reference_rows} ref / {joint.live_rows} live held out)"
        )
    moved = ", ".join(shown(c.feature) for c in joint.contributors)
    bounds = (
        f"{joint.score_lower:.3f} to {joint.score_upper:.3f}, "
        if joint.score_lower is not None and joint.score_upper is not None
        else ""
    )
    return (
        f"joint: {joint.status.value}: AUC {joint.score:.3f} ({bounds}material from "
        f"{joint.threshold:g}), p {format_p_value(joint.p_value)}"
        + (f"; {flag_names(joint.reason)}" if joint.reason else "")
        + (f"; moved together: {moved}" if moved else "")
    )


def joint_html(joint: JointResult) -> str:
    """A panel under the verdict: the joint finding and its contributors."""
    items = "".join(
        f"<li>{escaped(c.feature)}: AUC lost when shuffled {c.importance:.3f}</li>"
        for c in joint.contributors
    )
    detail = f"<ul>{items}</ul>" if items else ""
    return (
        f'<section class="joint"><h2>Joint distribution: {escaped(joint.status.value)}</h2>'
        f"<p>{escaped(joint_line(joint))} ({escaped(joint.method)}; "
        f"{joint.reference_rows} reference and {joint.live_rows} live rows held out)</p>"
        f"{detail}</section>"
    )
