"""Wiring of the joint test: a bounded sample of the live rows, taken as they are read,
and the reference's stored sample, handed to scoring/joint.py."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace

import pyarrow as pa

from driftcli.choices import JointMethod
from driftcli.columns.samples import Reservoir
from driftcli.errors import UsageError, option
from driftcli.inputs.piece import Piece
from driftcli.results import CheckResult, Decision, Status, Verdict
from driftcli.settings import Settings
from driftcli.store.snapshot import Snapshot

LIVE_SEED = 20261205


class LiveRows:
    """A uniform sample of at most `JOINT_SAMPLE_ROWS` live rows of the features, taken
    while the rows are counted (so stdin is read once)."""

    def __init__(self, reference: Snapshot, method: JointMethod = JointMethod.QDA) -> None:
        from driftcli.scoring.joint import JOINT_SAMPLE_ROWS

        require(method)
        self._names = [f.name for f in reference.profile.features]
        self._reservoir = Reservoir(JOINT_SAMPLE_ROWS, LIVE_SEED)

    def through(self, pieces: Iterable[Piece | None]) -> Iterator[Piece | None]:
        """Pass pieces through, sampling their rows on the way."""
        for piece in pieces:
            if piece is not None:
                self.add(piece.table)
            yield piece

    def add(self, table: pa.Table) -> None:
        present = [n for n in self._names if n in table.column_names]
        self._reservoir.add(table.select(present))

    def table(self) -> pa.Table:
        return self._reservoir.table()


def require(method: JointMethod) -> None:
    """`UsageError` before a row is read when the method's extra is not installed."""
    if method is JointMethod.BOOSTING:
        from driftcli.scoring.joint_models import require_sklearn

        require_sklearn()


def refuse_distributed(engine_name: str) -> None:
    """The joint test needs the live rows in this process: not on a cluster (yet)."""
    raise UsageError(
        f"{option('joint')} does not run on the {engine_name} engine: its row sample is "
        "taken in this process",
        hint=f"drop {option('engine')} dask for a check with {option('joint')} (the local "
        "engine reads the same inputs)",
    )


def with_joint(result: CheckResult, reference: Snapshot, live: pa.Table) -> CheckResult:
    """The check with the joint test of the reference's stored sample against `live`;
    a joint drift fails the check like a feature's."""
    from driftcli.scoring.joint import joint_test

    settings: Settings = result.settings
    level = settings.alpha if settings.alpha is not None else settings.evidence
    # Features that are missing from live or changed type are findings of their own.
    judged = (Status.OK, Status.DRIFT, Status.UNCERTAIN)
    scored = {f.name for f in result.features if f.status in judged}
    features = [f for f in reference.profile.features if f.name in scored]
    joint = joint_test(
        reference.sample, live, features, evidence=level, method=settings.joint_method
    )
    decision = result.decision
    if joint.drift and not decision.drift:
        decision = Decision(
            Verdict.DRIFT, f"the features' joint distribution drifted ({option('joint')})"
        )
    return replace(result, joint=joint, decision=decision)
