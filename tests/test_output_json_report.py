"""The public JSON (output/json_report.py) is its own documented schema (docs/json.md),
not the store's encoding of its files: either changes alone."""

from __future__ import annotations

import json
from typing import Any

import pytest

from driftcli.output.json_report import JSON_SCHEMA_VERSION, history_json
from driftcli.records import CheckedBy, CheckHistory, CheckRecord, RecordedFeature
from driftcli.results import Status, Verdict

RECORD = CheckRecord(
    time="2026-12-01T07:45:10+00:00",
    window="live",
    rows=600,
    reference_id="fe2989aeda92d007",
    checked_by=CheckedBy.CHECK,
    verdict=Verdict.NO_DRIFT,
    features=(RecordedFeature("amount", Status.OK, 0.0126, 0.81, 0.1, "kl"),),
)


def test_the_history_is_written_as_docs_json_shows_it() -> None:
    document = json.loads(history_json(CheckHistory(".driftcli", [RECORD], 1000)))
    assert document == {
        "schema_version": JSON_SCHEMA_VERSION,
        "store": ".driftcli",
        "keep": 1000,
        "checks": [
            {
                "time": "2026-12-01T07:45:10+00:00",
                "window": "live",
                "checked_by": "check",
                "rows": 600,
                "reference_id": "fe2989aeda92d007",
                "verdict": "no drift",
                "drift": False,
                "features": [
                    {"name": "amount", "status": "ok", "drift": False, "score": 0.0126,
                     "p_value": 0.81, "threshold": 0.1, "metric": "kl"}
                ],
            }
        ],
    }  # fmt: skip


def test_the_history_json_does_not_follow_the_stores_file_format(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A field the store's file gains (or renames) is not a change of the public schema."""
    import driftcli.store.history

    def encode_more(record: CheckRecord) -> dict[str, Any]:
        return {"format_version": 99, "host": "build-7", "time": record.time}

    monkeypatch.setattr(driftcli.store.history, "encode_record", encode_more)
    (check,) = json.loads(history_json(CheckHistory(".driftcli", [RECORD], 1000)))["checks"]
    assert "host" not in check and check["window"] == "live"
