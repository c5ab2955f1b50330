"""Permutation draws: pooled ones have the exact permutation distribution of the table."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.stats import chi2, hypergeom

from driftcli.scoring.draws import pools, sampler, take
from driftcli.scoring.permutation import Scored, entropy_scorer, entropy_term, monte_carlo
from driftcli.scoring.significance import Method, evidence
from tests.test_scoring_significance import exact_g_p_value


def table_chances(pooled: np.ndarray, n: int) -> dict[tuple[int, ...], float]:
    """Every live count vector with these pooled counts, and its permutation chance."""
    total = int(pooled.sum())
    out = {}
    for cells in itertools.product(*[range(min(int(c), n) + 1) for c in pooled]):
        if sum(cells) != n:
            continue
        log_p = sum(
            math.lgamma(c + 1) - math.lgamma(x + 1) - math.lgamma(c - x + 1)
            for c, x in zip(pooled.tolist(), cells, strict=True)
        )
        log_p -= math.lgamma(total + 1) - math.lgamma(n + 1) - math.lgamma(total - n + 1)
        out[cells] = math.exp(log_p)
    return out


@pytest.mark.parametrize(
    ("live", "ref"),
    [([2, 1, 0, 1], [20, 15, 10, 5]), ([1, 0, 3], [40, 2, 9]), ([0, 2, 1, 0, 1], [9, 9, 9, 9, 0])],
)
def test_pooled_draws_have_the_exact_permutation_distribution(
    live: list[int], ref: list[int]
) -> None:
    """Every possible live table drawn as often as its hypergeometric chance says, the
    live rows' own share of a draw included (here about one draw in five holds one)."""
    live_a, pooled = np.array(live), np.array(live) + np.array(ref)
    n, m = int(live_a.sum()), int(sum(ref))
    assert pools(n, m)
    draw = sampler(live_a, pooled)
    drawn = np.concatenate([draw(start, 4096) for start in range(0, 40 * 4096, 4096)])
    chances = table_chances(pooled, n)
    found = {cells: 0 for cells in chances}
    for cells in map(tuple, drawn.tolist()):
        found[cells] += 1
    observed = np.array([found[c] for c in chances], dtype=np.float64)
    expected = np.array(list(chances.values())) * len(drawn)
    kept = expected >= 5
    statistic = float(np.sum((observed[kept] - expected[kept]) ** 2 / expected[kept]))
    assert chi2.sf(statistic, int(kept.sum()) - 1) > 1e-4
    assert observed[~kept].sum() <= max(5.0, 3 * expected[~kept].sum())


def test_taking_items_one_at_a_time_is_a_draw_without_replacement() -> None:
    rng = np.random.default_rng(4)
    colours = np.broadcast_to(np.array([7, 2, 0, 11]), (200_000, 4))
    taken = take(rng, colours, np.full(200_000, 5))
    assert (taken.sum(axis=1) == 5).all() and (taken <= colours).all()
    for colour, count in enumerate([7, 2, 0, 11]):
        chances = hypergeom(20, count, 5).pmf(np.arange(6))
        seen = np.bincount(taken[:, colour], minlength=6)[:6] / 200_000
        assert seen == pytest.approx(chances, abs=0.004)


def test_a_table_is_its_own_seed_and_tables_of_one_size_share_a_pool() -> None:
    ref = np.array([5000, 300, 2000, 40, 900])
    one, other = np.array([30, 1, 12, 0, 7]), np.array([25, 3, 15, 1, 6])
    first = sampler(one, one + ref)(0, 256)
    assert (sampler(one, one + ref)(0, 256) == first).all()
    # Both 50-row windows draw their reference rows from one pool: the draws that take
    # no live row are the same reference rows, whatever the live counts are.
    again = sampler(other, other + ref)(0, 256)
    assert np.mean((first == again).all(axis=1)) > 0.5


def test_monte_carlo_over_pooled_draws_matches_the_exact_p_value() -> None:
    live, ref = [3, 0, 0, 1], [10, 12, 9, 11]
    assert pools(4, 42)
    got = evidence(np.array(live), np.array(ref))
    assert got.method is Method.MONTE_CARLO
    exact = exact_g_p_value(live, ref)
    assert got.p_value == pytest.approx(exact, rel=0.3)


def test_pooled_monte_carlo_p_values_are_valid_under_no_change() -> None:
    """1,000 windows of 60 rows over 12 uneven buckets against 5,000 reference rows, drawn
    from the reference's shares: P(p <= a) at most a, within its error."""
    rng = np.random.default_rng(12)
    shares = np.r_[np.full(6, 0.12), np.full(6, 0.04667)]
    shares /= shares.sum()
    ref = rng.multinomial(5000, shares)
    p = []
    for _ in range(1000):
        live = rng.multinomial(60, shares)
        used = (live + ref) > 0
        pooled = (live + ref)[used]
        score = entropy_scorer(pooled, np.ones(pooled.size, dtype=bool), 60)
        [found] = monte_carlo(live[used], pooled, [Scored(score, float(score(live[used])[0]))], 999)
        p.append(found.p_value)
    values = np.array(p)
    for level in (0.01, 0.05, 0.2):
        assert np.mean(values <= level) <= level + 3 * math.sqrt(level / len(values))
    assert np.mean(values <= 0.5) >= 0.4  # not conservative to the point of uselessness


def test_the_tabled_entropy_term_is_the_entropy_term() -> None:
    rng = np.random.default_rng(3)
    pooled = np.array([900, 3, 0, 55, 12, 400])
    scored = np.array([True, True, False, True, True, True])
    draws = rng.multivariate_hypergeometric(pooled, 40, size=500)
    tabled = entropy_scorer(pooled, scored, 40)(draws)
    assert tabled == pytest.approx(entropy_term(draws, pooled, scored), rel=1e-12)
