"""Chunked checks (api/timeline.py): a log with a known story, chunk by chunk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from driftcli.api import check_against, check_timeline, load_reference
from driftcli.errors import InputError, UsageError, flag_names, plain_names
from driftcli.results import Status, Timeline, Verdict
from driftcli.settings import ByRows, ByTime, Settings, parse_every
from tests.conftest import (
    STORY_DAYS,
    STORY_ROWS_PER_DAY,
    story_expected,
    story_log,
    story_reference,
    told,
    with_iso_times,
    write_table,
)

DAILY = ByTime("ts", parse_every("1d"))


def timeline(live: str | Path, ref: str | Path, chunking=DAILY, **options: object) -> Timeline:
    return check_timeline(str(live), str(ref), chunking, store=Path("unused"), **options)  # type: ignore[arg-type]


def drifted(t: Timeline) -> dict[str, list[bool]]:
    return {name: [f.drift for c in t.chunks for f in c.check.features if f.name == name]
            for name in t.feature_names}  # fmt: skip


@pytest.mark.parametrize("form", ["parquet", "csv", "jsonl"])
def test_the_story_drifts_in_exactly_the_planted_days(story: dict[str, Path], form: str) -> None:
    t = timeline(story[form], story["ref"])
    assert [c.start for c in t.chunks] == [f"2024-03-{d:02d}T00:00:00+00:00" for d in range(1, 11)]
    assert [c.end for c in t.chunks][-1] == "2024-03-11T00:00:00+00:00"
    assert [c.check.live.rows for c in t.chunks] == [STORY_ROWS_PER_DAY] * STORY_DAYS
    assert drifted(t) == story_expected()
    assert t.verdict is Verdict.DRIFT and t.deciding == STORY_DAYS - 1
    assert t.first_drift("amount").start == "2024-03-07T00:00:00+00:00"  # type: ignore[union-attr]
    assert t.first_drift("plan").start == "2024-03-09T00:00:00+00:00"  # type: ignore[union-attr]
    assert t.first_drift("score") is None
    assert t.feature_names == ["amount", "plan", "score"]  # ts is never scored
    assert all(c.check.new_columns == [] for c in t.chunks)


def test_chunk_rows_tell_the_same_story(story: dict[str, Path]) -> None:
    t = timeline(story["parquet"], story["ref"], ByRows(STORY_ROWS_PER_DAY))
    assert [(c.start, c.end) for c in t.chunks][:2] == [(0, 600), (600, 1200)]
    assert drifted(t) == story_expected()
    assert t.chunks[-1].name == "rows 5,400-5,999"
    # Without --by the time column is just a column the reference does not have.
    assert t.chunks[0].check.new_columns == ["ts"]


def test_each_chunk_is_checked_as_a_whole_check_of_its_rows(
    story: dict[str, Path], tmp_path: Path
) -> None:
    t = timeline(story["parquet"], story["ref"])
    reference = load_reference(str(story["ref"]))
    log = story_log()
    for day in (0, 6, 9):
        rows = log.slice(day * STORY_ROWS_PER_DAY, STORY_ROWS_PER_DAY).drop_columns(["ts"])
        whole = check_against(str(write_table(rows, tmp_path / f"day{day}.parquet")), reference)
        chunk = t.chunks[day].check
        # The chunks are scored together, a whole check alone: the same figures, but for
        # the rounding of sums over arrays of other shapes.
        assert [(f.status, f.fails) for f in chunk.features] == [
            (f.status, f.fails) for f in whole.features
        ]
        for lazy, full in zip(chunk.features, whole.features, strict=True):
            assert (lazy.score, lazy.change) == pytest.approx((full.score, full.change), rel=1e-12)
        # A chunk's p-value is drawn only as far as the status needs it (or not at all
        # where the change cannot be material): it says what the whole check's says of
        # the level.
        for lazy, full in zip(chunk.features, whole.features, strict=True):
            assert full.p_value is not None
            if lazy.p_value is not None:
                level = full.evidence_level
                assert (lazy.p_value < level) == (full.p_value < level), full.name
        assert chunk.decision == whole.decision
        assert [f.live.tolist() for f in chunk.features] == [
            f.live.tolist() for f in whole.features
        ]


def test_sample_metrics_keep_a_sample_per_chunk(story: dict[str, Path], tmp_path: Path) -> None:
    settings = Settings(metric="ks")
    ref = tmp_path / "ref.snapshot.parquet"
    from driftcli.api import build_reference
    from driftcli.store.snapshot import write_snapshot

    write_snapshot(build_reference(str(story["ref"]), settings, sample_rows=4000), ref)
    t = timeline(story["parquet"], ref, settings=settings)
    amount = [c.check.features[0] for c in t.chunks]
    assert [f.metric for f in amount] == ["ks"] * STORY_DAYS
    assert [f.drift for f in amount] == story_expected()["amount"]


def test_a_row_out_of_time_order_lands_in_its_own_day(
    story: dict[str, Path], tmp_path: Path
) -> None:
    log = story_log()
    late = log.slice(STORY_ROWS_PER_DAY, 1)  # a row of day 2, arriving after day 10
    shuffled = pa.concat_tables(
        [log.slice(0, STORY_ROWS_PER_DAY), log.slice(STORY_ROWS_PER_DAY + 1), late]
    )
    t = timeline(write_table(shuffled, tmp_path / "late.parquet"), story["ref"])
    assert [c.check.live.rows for c in t.chunks] == [STORY_ROWS_PER_DAY] * STORY_DAYS
    in_order = timeline(story["parquet"], story["ref"])
    assert [f.live.tolist() for f in t.chunks[1].check.features] == [
        f.live.tolist() for f in in_order.chunks[1].check.features
    ]


def test_rows_in_random_order_give_the_same_chunks(story: dict[str, Path], tmp_path: Path) -> None:
    log = story_log()
    order = np.random.default_rng(3).permutation(log.num_rows)
    shuffled = write_table(log.take(pa.array(order)), tmp_path / "shuffled.csv")
    t, in_order = timeline(shuffled, story["ref"]), timeline(story["csv"], story["ref"])
    for a, b in zip(t.chunks, in_order.chunks, strict=True):
        assert (a.start, a.check.live.rows) == (b.start, b.check.live.rows)
        assert [f.live.tolist() for f in a.check.features] == [
            f.live.tolist() for f in b.check.features
        ]


def test_missing_and_unreadable_times_are_counted_and_located(
    tmp_path: Path, story: dict[str, Path]
) -> None:
    log = with_iso_times(story_log())
    times = log.column("ts").to_pylist()
    times[5], times[7], times[700] = None, "", "yesterday"
    log = log.set_column(0, "ts", pa.array(times, pa.string()))
    t = timeline(write_table(log, tmp_path / "log.csv"), story["ref"])
    assert (t.untimed.missing, t.untimed.unreadable) == (2, 1)
    assert [str(at) for at in t.untimed.first] == [
        f"{tmp_path / 'log.csv'}:{n}" for n in (7, 9, 702)
    ]
    assert sum(c.check.live.rows for c in t.chunks) == log.num_rows - 3
    assert t.live.rows == log.num_rows
    assert drifted(t) == story_expected()


def test_epoch_seconds_and_dates_are_times(story: dict[str, Path], tmp_path: Path) -> None:
    log = story_log()
    seconds = pc.divide(log.column("ts").cast(pa.int64()), 1_000_000)
    epoch = write_table(log.set_column(0, "ts", seconds), tmp_path / "epoch.parquet")
    days = write_table(
        log.set_column(0, "ts", log.column("ts").cast(pa.date32())), tmp_path / "d.parquet"
    )
    for path in (epoch, days):
        assert drifted(timeline(path, story["ref"])) == story_expected()


def test_a_time_column_in_the_reference_is_not_scored(
    story: dict[str, Path], tmp_path: Path
) -> None:
    ref = story_reference()
    ref = ref.append_column("ts", pa.array(np.arange(ref.num_rows) + 1_600_000_000))
    t = timeline(story["parquet"], write_table(ref, tmp_path / "ref.parquet"))
    assert t.feature_names == ["amount", "plan", "score"]


def test_weekly_chunks_start_on_mondays(story: dict[str, Path]) -> None:
    t = timeline(story["parquet"], story["ref"], ByTime("ts", parse_every("1w")))
    # 2024-03-01 was a Friday.
    assert [(c.start, c.check.live.rows) for c in t.chunks] == [
        ("2024-02-26T00:00:00+00:00", 3 * STORY_ROWS_PER_DAY),
        ("2024-03-04T00:00:00+00:00", 7 * STORY_ROWS_PER_DAY),
    ]


def test_a_time_zone_moves_the_days_to_its_midnight(story: dict[str, Path]) -> None:
    t = timeline(story["parquet"], story["ref"], ByTime("ts", parse_every("1d"), "Europe/Berlin"))
    # Berlin is an hour ahead in March: its days start at 23:00 UTC the day before.
    assert t.chunks[0].start == "2024-03-01T00:00:00+01:00"
    assert t.chunks[-1].start == "2024-03-11T00:00:00+01:00"
    rows = [c.check.live.rows for c in t.chunks]
    hour = STORY_ROWS_PER_DAY // 24
    assert rows[0] == STORY_ROWS_PER_DAY - hour and rows[-1] == hour
    assert sum(rows) == STORY_DAYS * STORY_ROWS_PER_DAY


def test_the_latest_chunk_with_a_verdict_decides(story: dict[str, Path], tmp_path: Path) -> None:
    log = story_log()
    calm = log.slice(0, 5 * STORY_ROWS_PER_DAY)  # days 1-5: no drift
    tiny = log.slice(9 * STORY_ROWS_PER_DAY, 10)  # ten rows of day 10: too few for a verdict
    path = write_table(pa.concat_tables([calm, tiny]), tmp_path / "a.parquet")
    t = timeline(path, story["ref"], settings=Settings(min_rows=100))
    assert t.chunks[-1].verdict is Verdict.NO_VERDICT
    assert t.deciding == 4 and t.verdict is Verdict.NO_DRIFT
    assert t.decision.rule == (
        "the latest chunk with a verdict, 2024-03-05T00:00:00+00:00, did not drift; "
        "4 later chunks have no rows; 1 later chunk has too few rows for a verdict"
    )
    alone = write_table(log.slice(6 * STORY_ROWS_PER_DAY, 10), tmp_path / "b.parquet")
    none = timeline(alone, story["ref"], settings=Settings(min_rows=100))
    assert none.verdict is Verdict.NO_VERDICT and none.deciding is None
    assert none.decision.rule == "no chunk could be judged: the only chunk has too few live rows"


def test_any_chunk_fails_with_fail_on_any_chunk(story: dict[str, Path], tmp_path: Path) -> None:
    log = story_log().slice(0, 8 * STORY_ROWS_PER_DAY)
    amount = log.column("amount").to_numpy().copy()
    amount[7 * STORY_ROWS_PER_DAY :] -= 1.0  # day 8 is back to normal: only day 7 drifted
    healed = log.set_column(1, "amount", pa.array(amount))
    path = write_table(healed, tmp_path / "healed.parquet")
    assert timeline(path, story["ref"]).verdict is Verdict.NO_DRIFT
    strict = timeline(path, story["ref"], any_chunk=True)
    assert strict.verdict is Verdict.DRIFT
    assert flag_names(strict.decision.rule) == (
        "1 of 8 chunks drifted, the first 2024-03-07T00:00:00+00:00 (--fail-on-any-chunk)"
    )
    assert plain_names(strict.decision.rule).endswith("(fail_on_any_chunk)")


def test_inputs_without_times_are_input_errors(story: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no column 'when' to cut by time"):
        timeline(story["parquet"], story["ref"], ByTime("when", parse_every("1d")))
    log = story_log().set_column(0, "ts", pa.array(["soon"] * 6000))
    with pytest.raises(
        InputError, match=r"no row has a readable time in column 'ts': 0 missing, 6,000"
    ):
        timeline(write_table(log, tmp_path / "x.parquet"), story["ref"])


def test_too_many_chunks_is_an_error_that_names_the_way_out(
    story: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("driftcli.counting.chunking.MAX_CHUNKS", 5)
    with pytest.raises(InputError, match="more than 5 chunks") as caught:
        timeline(story["parquet"], story["ref"])
    assert "--every" in told(caught.value, hint=True)


def test_chunks_of_rows_are_refused_on_a_distributed_engine(story: dict[str, Path]) -> None:
    class Distributed:
        distributed = True

    with pytest.raises(UsageError, match="Dask's workers, reading its files apart"):
        timeline(story["parquet"], story["ref"], ByRows(600), engine=Distributed())


def test_a_day_without_a_features_values_counts_them_as_missing(
    story: dict[str, Path], tmp_path: Path
) -> None:
    log = story_log()
    first = log.slice(0, STORY_ROWS_PER_DAY)
    second = log.slice(STORY_ROWS_PER_DAY, STORY_ROWS_PER_DAY).drop_columns(["score"])
    path = tmp_path / "log.jsonl"
    write_table(with_iso_times(pa.concat_tables([first, second], promote_options="default")), path)
    t = timeline(path, story["ref"])
    assert [f.status for f in t.chunks[0].check.features][2] is Status.OK
    assert t.chunks[1].check.features[2].live_missing == STORY_ROWS_PER_DAY


def test_a_partial_last_chunk_does_not_hide_the_drift_before_it(
    story: dict[str, Path], tmp_path: Path
) -> None:
    log = story_log()
    drifted_days = log.slice(0, 7 * STORY_ROWS_PER_DAY)  # day 7 drifted
    one_row = log.slice(7 * STORY_ROWS_PER_DAY, 1)  # the day that just began
    path = write_table(pa.concat_tables([drifted_days, one_row]), tmp_path / "a.parquet")
    t = timeline(path, story["ref"])
    assert t.chunks[-1].verdict is not Verdict.NO_VERDICT and t.chunks[-1].partial
    assert not any(c.partial for c in t.chunks[:-1])
    assert t.deciding == 6 and t.verdict is Verdict.DRIFT
    assert t.decision.rule == (
        "the latest full chunk, 2024-03-07T00:00:00+00:00, drifted; 1 later chunk is partial "
        "and did not drift (2024-03-08T00:00:00+00:00, 1 row against a usual 600)"
    )
    rows = timeline(path, story["ref"], ByRows(STORY_ROWS_PER_DAY))
    assert rows.chunks[-1].partial and rows.chunks[-1].check.live.rows == 1
    assert rows.deciding == 6 and rows.verdict is Verdict.DRIFT
    assert rows.decision.rule.endswith("(rows 4,200-4,200, 1 row against a usual 600)")


def test_a_partial_last_chunk_that_drifted_decides(story: dict[str, Path], tmp_path: Path) -> None:
    log = story_log()
    calm = log.slice(0, 5 * STORY_ROWS_PER_DAY)
    few = log.slice(9 * STORY_ROWS_PER_DAY, 200)  # a third of day 10: drifted, and evident
    t = timeline(write_table(pa.concat_tables([calm, few]), tmp_path / "a.parquet"), story["ref"])
    assert t.chunks[-1].partial and t.chunks[-1].drift
    assert t.deciding == len(t.chunks) - 1 and t.verdict is Verdict.DRIFT
    assert t.decision.rule.startswith("the latest chunk, 2024-03-10T00:00:00+00:00, drifted")


def test_partial_chunks_fall_far_short_of_their_peers() -> None:
    from driftcli.scoring.chunks import partial_chunks

    assert partial_chunks([7, 7, 1], 7) == [None, None, 7]
    assert partial_chunks([600, 500, 620, 299]) == [None, None, None, 600]
    assert partial_chunks([600, 300]) == [None, None]  # half is not "far fewer"
    assert partial_chunks([5]) == [None]
    assert partial_chunks([600, 0, 600, 10]) == [None, None, None, 600]


def test_small_chunks_draw_p_values_only_where_they_can_change_a_status(
    story: dict[str, Path], tmp_path: Path
) -> None:
    t = timeline(story["parquet"], story["ref"], ByTime("ts", parse_every("1h")))
    lazy = [f for c in t.chunks for f in c.check.features if f.p_value is None]
    assert lazy and all(not f.may_be_material and f.status is Status.OK for f in lazy)
    assert all(f.p_value is not None for f in t.latest.check.features)
    # The statuses are those of a whole check of each chunk's rows, every p-value drawn.
    reference = load_reference(str(story["ref"]))
    log = story_log().drop_columns(["ts"])
    for chunk in t.chunks[:: len(t.chunks) // 7]:
        rows = write_table(log.slice(chunk.index * 25, 25), tmp_path / f"{chunk.index}.parquet")
        whole = check_against(str(rows), reference)
        assert [f.status for f in whole.features] == [f.status for f in chunk.check.features]
        assert all(f.p_value is not None for f in whole.features)
        drawn = [f.name for f in chunk.check.features if f.p_value is not None]
        assert drawn == [f.name for f in whole.features if f.may_be_material]


def test_a_day_without_rows_is_an_empty_chunk_not_left_out(
    story: dict[str, Path], tmp_path: Path
) -> None:
    log = story_log()
    day = STORY_ROWS_PER_DAY
    gap = pa.concat_tables([log.slice(0, 4 * day), log.slice(5 * day, 5 * day)])  # no 03-05
    t = timeline(write_table(gap, tmp_path / "gap.parquet"), story["ref"])
    assert len(t.chunks) == STORY_DAYS
    empty = t.chunks[4]
    assert empty.empty and empty.start == "2024-03-05T00:00:00+00:00"
    assert empty.end == "2024-03-06T00:00:00+00:00"
    assert empty.verdict is Verdict.NO_VERDICT and empty.check.live.rows == 0
    assert all(f.status is Status.INSUFFICIENT and f.score is None for f in empty.check.features)
    assert [c.index for c in t.chunks] == list(range(STORY_DAYS))
    assert t.verdict is Verdict.DRIFT and t.deciding == STORY_DAYS - 1


def test_empty_chunks_count_against_the_limit(
    story: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = story_log()
    ends = pa.concat_tables([log.slice(0, 10), log.slice(9 * STORY_ROWS_PER_DAY, 10)])
    path = write_table(ends, tmp_path / "ends.parquet")
    monkeypatch.setattr("driftcli.counting.chunking.MAX_CHUNKS", 5)
    with pytest.raises(InputError, match="more than 5 chunks"):
        timeline(path, story["ref"])


def test_empty_days_follow_the_calendar_of_the_time_zone(
    story: dict[str, Path], tmp_path: Path
) -> None:
    # 2024-03-31 has 23 hours in Berlin; no row falls in it, nor in 03-30.
    seconds = [1_711_670_400 + 3600, 1_711_929_600 + 7200]  # 03-29 01:00Z, 04-01 02:00Z
    table = (
        story_log()
        .slice(0, 2)
        .set_column(0, "ts", pa.array([s * 1_000_000 for s in seconds], pa.timestamp("us", "UTC")))
    )
    path = write_table(table, tmp_path / "berlin.parquet")
    t = timeline(path, story["ref"], ByTime("ts", parse_every("1d"), "Europe/Berlin"))
    assert [(c.start, c.empty) for c in t.chunks] == [
        ("2024-03-29T00:00:00+01:00", False),
        ("2024-03-30T00:00:00+01:00", True),
        ("2024-03-31T00:00:00+01:00", True),
        ("2024-04-01T00:00:00+02:00", False),
    ]


def test_numbers_that_are_no_times_are_warned_of(story: dict[str, Path]) -> None:
    t = timeline(story["parquet"], story["ref"], ByTime("amount", parse_every("1d")))
    assert len(t.warnings) == 1
    # The library's warning names the setting; the CLI shows it as the flag.
    assert "by 'amount': its numbers were read as epoch seconds" in plain_names(t.warnings[0])
    assert "--by 'amount': its numbers" in flag_names(t.warnings[0])
    assert "every time falls before 1980" in t.warnings[0]
    assert timeline(story["parquet"], story["ref"]).warnings == ()


def test_a_chance_drift_before_the_shift_does_not_move_drifting_since(
    story: dict[str, Path],
) -> None:
    from dataclasses import replace

    t = timeline(story["parquet"], story["ref"])
    assert t.drifting_since("amount").start == "2024-03-07T00:00:00+00:00"  # type: ignore[union-attr]
    assert t.drifting_since("score") is None
    # A chance drift of amount on day 2: the first drift moves, the current run does not.
    day2 = t.chunks[1]
    chance = [replace(f, status=Status.DRIFT) if f.name == "amount" else f
              for f in day2.check.features]  # fmt: skip
    chunks = list(t.chunks)
    chunks[1] = replace(day2, check=replace(day2.check, features=chance))
    # A day without a verdict on amount inside the run does not break it.
    day8 = chunks[7]
    unjudged = [replace(f, status=Status.INSUFFICIENT) if f.name == "amount" else f
                for f in day8.check.features]  # fmt: skip
    chunks[7] = replace(day8, check=replace(day8.check, features=unjudged))
    told = replace(t, chunks=chunks)
    assert told.first_drift("amount").start == "2024-03-02T00:00:00+00:00"  # type: ignore[union-attr]
    assert told.drifting_since("amount").start == "2024-03-07T00:00:00+00:00"  # type: ignore[union-attr]
