"""Paper B's tables are laid out with the paper's numbers beside ours."""

import math

from crossmodal.tables.paper_b import (
    METRIC_LABELS,
    PAPER_TABLES,
    TABLE1_METRICS,
    architecture_table,
    table1,
)


def test_table1_has_our_columns_then_the_papers():
    ours = {"toyclip": {"SAE": {"mse": 0.5, "rho": 2.0}, "SAE-A": {"mse": 0.6}}}
    table = table1(ours).set_index("metric")
    assert list(table.columns) == ["toyclip SAE", "toyclip SAE-A", "CLIP SAE (paper)",
                                   "CLIP SAE-A (paper)"]
    assert list(table.index) == [METRIC_LABELS[m] for m in TABLE1_METRICS]
    assert table.loc["MSE (↓)", "toyclip SAE-A"] == 0.6
    assert table.loc["ρ (↑)", "toyclip SAE"] == 2.0
    assert math.isnan(table.loc["ρ (↑)", "toyclip SAE-A"])        # missing metric → NaN
    assert table.loc["ρ (↑)", "CLIP SAE-A (paper)"] == 4.232
    assert table.loc["FDA (↑)", "CLIP SAE (paper)"] == 2.630


def test_architecture_table_pairs_each_column_with_the_paper():
    table = architecture_table({"TopK": {"r2": 0.9}, "mine": {"r2": 0.8}}, "table3")
    table = table.set_index("metric")
    assert list(table.columns) == ["TopK", "TopK (paper)", "mine"]   # no paper column for "mine"
    assert table.loc["R² (↑)", "TopK"] == 0.9
    assert table.loc["R² (↑)", "TopK (paper)"] == 0.78
    assert table.loc["Coherence (↓)", "TopK (paper)"] == 0.51


def test_paper_numbers_spot_checks():
    assert PAPER_TABLES["table3"]["SAE-A"]["rho"] == 4.23
    assert PAPER_TABLES["table3"]["ReLU"]["stability"] == 0.067
    assert PAPER_TABLES["table4"]["BatchTopK"]["fda"] == 17.3
    assert PAPER_TABLES["table4"]["ReLU"]["delta_r1"] == -0.024
    assert math.isnan(PAPER_TABLES["table3"]["TopK"]["l0"])
