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
    assert list(table.columns) == ["conventions", "toyclip SAE", "toyclip SAE ±",
                                   "toyclip SAE-A", "toyclip SAE-A ±", "CLIP SAE (paper)",
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
    assert list(table.columns) == ["conventions", "TopK", "TopK ±", "TopK (paper)", "mine",
                                   "mine ±"]  # no paper column for "mine"
    assert table.loc["R² (↑)", "TopK"] == 0.9
    assert table.loc["R² (↑)", "TopK (paper)"] == 0.78
    assert table.loc["Coherence (↓)", "TopK (paper)"] == 0.51


def test_paper_numbers_spot_checks():
    assert PAPER_TABLES["table3"]["SAE-A"]["rho"] == 4.23
    assert PAPER_TABLES["table3"]["ReLU"]["stability"] == 0.067
    assert PAPER_TABLES["table4"]["BatchTopK"]["fda"] == 17.3
    assert PAPER_TABLES["table4"]["ReLU"]["delta_r1"] == -0.024
    assert math.isnan(PAPER_TABLES["table3"]["TopK"]["l0"])


def test_rows_of_the_other_convention_follow_and_only_authors_rows_face_the_paper():
    row = {"conventions": "authors", "rho": 2.0, "rho_paper": 1.5, "fda": 3.0, "fda_paper": 2.5,
           "p_acc": 0.9, "p_acc_paper": 0.8, "mse": 0.1}
    table = table1({"toyclip": {"SAE": row, "SAE-A": row}}).set_index("metric")
    assert table.loc["ρ (↑)", "conventions"] == "authors"
    assert table.loc["MSE (↓)", "conventions"] == "both"
    assert table.loc["ρ (↑) [paper]", "conventions"] == "paper"
    assert table.loc["ρ (↑) [paper]", "toyclip SAE"] == 1.5
    assert table.loc["ρ (↑)", "CLIP SAE (paper)"] == 0.327
    assert math.isnan(table.loc["ρ (↑) [paper]", "CLIP SAE (paper)"])
    # computed under `paper`: the paper's ρ is not printed beside it, but beside [authors]
    swapped = {"conventions": "paper", "rho": 1.5, "rho_authors": 2.0}
    table = architecture_table({"SAE": swapped}, "table3").set_index("metric")
    assert table.loc["ρ (↑)", "conventions"] == "paper"
    assert math.isnan(table.loc["ρ (↑)", "SAE (paper)"])
    assert table.loc["ρ (↑) [authors]", "SAE"] == 2.0
    assert table.loc["ρ (↑) [authors]", "SAE (paper)"] == 0.33
    assert math.isnan(table.loc["Dead latents (share)", "SAE (paper)"])
