"""The analysis reads its tables as numpy `Columns` instead of DataFrames: each numpy stand-in for a pandas
operation gives pandas' own answer, to the last bit (a grouped sum, a mean and a quantile with missing
values, a ranking of chains, a cross-count of transfers, a filtered table)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.analysis import grouping, metrics
from sim.analysis.columns import Columns, any_of
from sim.analysis.grouping import Groups
from sim.analysis.metrics import counted, offered_calls
from sim.analysis.tables import _kahan_sums, calls_columns, calls_table, transfer_columns, transfer_table
from sim.engine.day import simulate
from sim.model.loading import load_scenario
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def jackson():
    """A run with transfers between departments, so chains of several agents and a transfer matrix."""
    return simulate(load_scenario(ROOT / "scenarios" / "jackson.yaml", []))


def test_compensated_grouped_sums_are_pandas_groupby_sums() -> None:
    rng = np.random.default_rng(11)
    group = rng.integers(0, 40, size=4000)
    values = rng.exponential(30.0, size=4000) * rng.choice([1.0, 1e-4, 1e5], size=4000)
    expected = pd.Series(values).groupby(group).sum().reindex(range(45), fill_value=0.0).to_numpy()
    assert np.array_equal(_kahan_sums(values, group, 45), expected)
    assert not np.array_equal(np.bincount(group, weights=values, minlength=45), expected)  # order matters


def test_mean_and_quantile_with_missing_values_are_pandas() -> None:
    rng = np.random.default_rng(5)
    values = rng.lognormal(3.0, 1.2, size=1001)
    values[rng.random(1001) < 0.2] = np.nan
    series = pd.Series(values)
    assert metrics._mean(values) == float(series.mean())
    for q in (0.1, 0.5, 0.9):
        assert metrics._quantile(values, q) == float(series.quantile(q))


def test_a_whole_table_quantile_is_numpys_with_ties_zeros_of_both_signs_and_negatives() -> None:
    """The one-group quantile sorts plainly when no value has its sign bit set, else as the grouped pass
    does: either way numpy's quantile, bit for bit, and the sign of a zero quantile as numpy gives it."""
    rng = np.random.default_rng(7)
    waits = np.round(rng.exponential(20.0, size=3001), 1)
    waits[rng.random(3001) < 0.6] = 0.0  # many ties, as waits of calls answered at once
    signed = waits.copy()
    signed[:40] = -0.0
    signed[40:45] = -3.5
    whole = Groups(np.zeros(3001, dtype=np.int64), 1, whole=True)
    keep = np.ones(3001, dtype=bool)
    for values in (waits, signed):
        for q in (0.1, 0.5, 0.9, 0.99):
            found = grouping.quantile_where(values, keep, whole, q)[0]
            expected = np.quantile(values, q)
            assert found == expected and np.signbit(found) == np.signbit(expected)


def test_whole_number_sums_take_the_exact_path_and_give_the_float_sums() -> None:
    rng = np.random.default_rng(2)
    counts = rng.integers(0, 6, size=3000)
    key = rng.integers(0, 25, size=3000)
    mask = rng.random(3000) < 0.7
    exact = grouping.sum_where(counts, mask, Groups(key, 25))
    pairwise = grouping.sum_where(counts.astype(float), mask, Groups(key, 25))
    assert exact.dtype == float and np.array_equal(exact, pairwise)


def test_several_columns_summed_at_once_are_each_columns_sums() -> None:
    rng = np.random.default_rng(4)
    values = rng.exponential(100.0, size=(2, 2000))
    key = rng.integers(-1, 30, size=2000)  # -1: in no group
    mask = rng.random(2000) < 0.8
    together = grouping.sum_where(values, mask, Groups(key, 30))
    for row in range(2):
        assert np.array_equal(together[row], grouping.sum_where(values[row], mask, Groups(key, 30)))


def test_common_chains_rank_as_pandas_value_counts(jackson) -> None:
    calls = calls_table(jackson)
    answered = calls.loc[calls["answered_at"].notna(), "chain"]
    expected = {str(chain): int(n) for chain, n in answered.value_counts().head(10).items()}
    found = metrics.common_chains(calls_columns(jackson))
    assert any(" > " in chain for chain in found)  # several agents met: the ranking has ties to break
    assert list(found.items()) == list(expected.items())


def test_transfer_matrix_from_columns_is_the_grouped_count(jackson) -> None:
    from_columns = metrics.transfer_matrix(transfer_columns(jackson))
    assert len(from_columns) > 1
    assert from_columns == metrics.transfer_matrix(transfer_table(jackson))


def test_a_filtered_table_is_the_dataframe_filtered(jackson) -> None:
    columns = calls_columns(jackson)
    frame = calls_table(jackson)
    late = columns["arrived_at"] >= 3600.0
    chosen = offered_calls(counted(jackson, columns.where(late)))
    expected = frame[late & (frame["outcome"] != "self_service").to_numpy()].reset_index(drop=True)
    assert 0 < len(chosen) < len(columns)
    pd.testing.assert_frame_equal(chosen.frame(), expected)
    assert columns.where(np.ones(len(columns), dtype=bool)) is columns


def test_any_of_is_isin() -> None:
    codes = np.random.default_rng(9).integers(-1, 30, size=500).astype(np.int8)
    assert np.array_equal(any_of(codes, (3, 7, 29)), np.isin(codes, (3, 7, 29)))
    assert not any_of(codes, ()).any()


def test_a_category_a_table_does_not_have_matches_no_row() -> None:
    table = Columns({"outcome": np.array([0, 1, -1])}, {"outcome": ["answered", "abandoned"]})
    assert table.equals("outcome", "answered").tolist() == [True, False, False]
    assert not table.equals("outcome", "blocked").any()
