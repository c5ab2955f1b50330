"""The page every HTML report is: self-contained, and the words and tones of verdicts.

The page loads nothing: its style is inline, its charts are inline SVG
(charts.py), it has no script, and its Content-Security-Policy forbids any
fetch, so it opens from disk, from a CI artifact or a mail attachment alike.
"""

from __future__ import annotations

from driftcli import __version__
from driftcli.output.texts import escaped
from driftcli.results import Status, Verdict

VERDICT_WORD = {
    Verdict.DRIFT: "DRIFT",
    Verdict.NO_DRIFT: "no drift",
    Verdict.NO_VERDICT: "no verdict",
}
STATUS_TONE = {
    Status.OK: "ok",
    Status.DRIFT: "bad",
    Status.MISSING: "bad",
    Status.TYPE_CHANGED: "bad",
    Status.UNCERTAIN: "warn",
    Status.INSUFFICIENT: "warn",
}
VERDICT_TONE = {Verdict.DRIFT: "bad", Verdict.NO_DRIFT: "ok", Verdict.NO_VERDICT: "warn"}

_STYLE = """
:root { --ref: #4c78a8; --live: #f58518; --ok: #2e7d32; --bad: #c62828; --warn: #a86b00;
  --ink: #1d1d1f; --dim: #5f6368; --line: #dadce0; --card: #fff; --page: #f6f7f9; }
@media (prefers-color-scheme: dark) {
  :root { --ink: #e8eaed; --dim: #9aa0a6; --line: #3c4043; --card: #202124; --page: #171717;
    --ok: #81c995; --bad: #f28b82; --warn: #fdd663; } }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px; background: var(--page); color: var(--ink);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 860px; margin: 0 auto; }
h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 0; }
h3 { font-size: 15px; margin: 20px 0 8px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  padding: 16px 20px; margin: 0 0 16px; }
.verdict { border-left: 6px solid var(--tone); } .verdict h1 { color: var(--tone); }
.ok { --tone: var(--ok); } .bad { --tone: var(--bad); } .warn { --tone: var(--warn); }
.status { color: var(--tone); font-weight: 600; white-space: nowrap; }
.dim, .rule { color: var(--dim); } .name { overflow-wrap: anywhere; }
td.name { min-width: 16ch; }  /* a short name on one line; a long one breaks, not the table */
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line);
  vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
a { color: inherit; }
.facts { display: flex; flex-wrap: wrap; gap: 4px 18px; margin: 6px 0 8px; padding: 0;
  list-style: none; font-variant-numeric: tabular-nums; }
.legend { margin: 4px 0; color: var(--dim); }
.key { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 10px;
  border-radius: 2px; }
.key.ref, .bar.ref { background: var(--ref); fill: var(--ref); }
.key.live, .bar.live { background: var(--live); fill: var(--live); }
svg.chart { width: 100%; height: auto; display: block; overflow: visible; }
svg .grid { stroke: var(--line); } svg line.tick { stroke: var(--dim); }
svg .series { fill: none; stroke: var(--live); stroke-width: 2; }
svg .limit { stroke: var(--bad); stroke-dasharray: 5 4; }
svg .point { stroke: var(--card); stroke-width: 1.5; fill: var(--tone); }
svg text { font-size: 11px; fill: var(--dim); }
ul.notes { margin: 6px 0 0; padding-left: 20px; color: var(--dim); }
p.moved { margin: 4px 0; } .when { white-space: nowrap; }
.scroll { overflow-x: auto; max-width: 100%; }
table.heat { width: auto; }
table.heat td.cell { width: 14px; min-width: 14px; height: 14px; padding: 0;
  border: 1px solid var(--card); background: var(--tone); }
table.heat td.cell.none { background: var(--line); }
table.heat td.cell.ok { opacity: 0.35; }
@media (max-width: 600px) {
  body { padding: 8px; } .card { padding: 12px; }
  .plot { overflow-x: auto; } svg.chart { min-width: 540px; }
  svg text { font-size: 15px; } td.name { min-width: 10ch; } }
"""

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def page(title: str, body: list[str]) -> str:
    """The self-contained page around `body`'s sections (each already escaped)."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<title>{escaped(title)}</title>\n<link rel="icon" href="data:,">\n'
        f"<style>{_STYLE}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join([*body, f'<p class="dim">driftcli {escaped(__version__)}</p>'])
        + "\n</main>\n</body>\n</html>"
    )
