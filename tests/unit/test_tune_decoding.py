"""Choosing per-technique decodings from FLC credit tables (no network: synthetic credit)."""

from __future__ import annotations

import numpy as np
import pytest

from mindlens.validation.tune_decoding import Grid, Option, SearchTable


def _table() -> SearchTable:
    """Two techniques, three options. Technique a is best at option 1, b at option 2;
    option 0 is what the model decodes with today."""
    options = [Option(0.85), Option(0.65), Option(0.65, 2.0)]
    # credit [labels, options, docs, (precision credit, predicted spans, recall credit)]
    credit = np.zeros((2, 3, 2, 3))
    credit[0, 0] = [[1, 4, 1], [1, 4, 1]]  # a: precise but misses
    credit[0, 1] = [[3, 4, 3], [3, 4, 3]]  # a: best
    credit[0, 2] = [[2, 4, 2], [2, 4, 2]]
    credit[1, 0] = [[1, 5, 1], [1, 5, 1]]
    credit[1, 1] = [[1, 8, 1], [1, 8, 1]]
    credit[1, 2] = [[3, 4, 3], [3, 4, 3]]  # b: best, needs the switch cost
    gold = np.full((2, 2), 4.0)
    return SearchTable(["a", "b"], options, ["d1", "d2"], credit, gold)


def test_free_choice_takes_each_techniques_best_option() -> None:
    table = _table()
    docs = np.arange(2)
    choice = table.choose(docs, [0, 0], shared=False)
    assert choice == [1, 2]
    assert table.f1(choice, docs) > table.f1([0, 0], docs)
    decoding = table.decoding(choice)
    assert decoding.thresholds == {"a": 0.65, "b": 0.65}
    assert decoding.switch_costs == {"b": 2.0} and decoding.sentence_weights == {}


def test_shared_choice_uses_one_switch_cost_for_every_technique() -> None:
    table = _table()
    choice = table.choose(np.arange(2), [0, 0], shared=True)
    costs = {table.options[o].switch_cost for o in choice}
    assert len(costs) == 1
    # with a shared cost of 0 the best is [1, 0] (F1 4/13 * ... ); with cost 2 only option 2
    assert table.f1(choice, np.arange(2)) == pytest.approx(
        max(table.f1([1, 0], np.arange(2)), table.f1([1, 1], np.arange(2)), table.f1([2, 2], np.arange(2)))
    )


def test_f1_matches_the_sums_by_hand() -> None:
    table = _table()
    # option 1 for a, option 2 for b on doc 0 only: P = (3+3)/(4+4), R = (3+3)/(4+4)
    assert table.f1([1, 2], np.array([0])) == pytest.approx(0.75)


def test_grid_lists_every_combination() -> None:
    grid = Grid(
        thresholds=(0.5, 0.7),
        switch_costs=(0.0, 1.0),
        sentence_weights=(0.0,),
        join_gaps=(25,),
        min_chars=(4, 8),
    )
    options = grid.options()
    assert len(options) == 8 and len(set(options)) == 8
    assert options[:2] == [
        Option(0.5, 0.0, 0.0, 25, 4),
        Option(0.5, 0.0, 0.0, 25, 8),
    ]  # clean-up rules vary fastest
