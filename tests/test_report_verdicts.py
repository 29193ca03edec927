"""The per-table verdicts of the report: each rule on tiny hand-made tables where the answer is
known — the paper's own numbers (the claim must hold on them), a copy with the decisive numbers
swapped (it must not), a NaN (not comparable) and a wrong layout (one-line error)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from crossmodal.report import verdicts as v
from crossmodal.tables.paper_b import METRIC_LABELS
from crossmodal.tables.paper_b_interventions import MEASURE_LABELS, METHOD_LABELS, TABLE12_LABELS

NAN = math.nan


def status(name: str, frame: pd.DataFrame) -> str:
    return v.verdict_for(name, frame).status


def swapped(frame: pd.DataFrame, key: str, a: str, b: str, column: str) -> pd.DataFrame:
    """``frame`` with the ``column`` values of rows ``key == a`` and ``key == b`` exchanged."""
    out = frame.copy()
    ia, ib = out.index[out[key] == a][0], out.index[out[key] == b][0]
    out.loc[[ia, ib], column] = out.loc[[ib, ia], column].to_numpy()
    return out


# --- paper A ------------------------------------------------------------------------------------

def table_a1(image_imgd=5.87) -> pd.DataFrame:
    return pd.DataFrame({"classifier": ["probe", "probe"], "input": ["image", "text"],
                         "w/o ImgD": [image_imgd, 0.01], "w/o TextD": [0.72, 9.87],
                         "w/o Random": [2.28, 1.41]})


def test_paper_a_table1():
    assert status("paperA_table1.csv", table_a1()) == v.HOLDS
    verdict = v.verdict_for("paperA_table1.csv", table_a1(image_imgd=0.5))
    assert verdict.status == v.FAILS and "image input: w/o ImgD 0.5 ≤ TextD 0.72" in str(verdict)
    zeros = table_a1().assign(**{"w/o ImgD": 0.0, "w/o TextD": 0.0, "w/o Random": 0.0})
    assert status("paperA_table1.csv", zeros) == v.FAILS  # a tie is no ordering


def table_a2(female_image=17.65) -> pd.DataFrame:
    return pd.DataFrame({"classifier": ["probe", "probe"], "class": ["day", "night"],
                         "w/o ImgD (image input)": [female_image, 5.64],
                         "w/o TextD (text input)": [7.27, 28.67],
                         "paper class": ["female", "male"]})


def test_paper_a_table2():
    assert status("paperA_table2.csv", table_a2()) == v.HOLDS
    assert status("paperA_table2.csv", table_a2(female_image=1.0)) == v.FAILS
    unmapped = table_a2().assign(**{"paper class": ["", ""]})
    verdict = v.verdict_for("paperA_table2.csv", unmapped)
    assert verdict.status == v.NOT_COMPARABLE and "paper_classes" in verdict.reason


def table_a3() -> pd.DataFrame:
    paper = {"benign": 0.1, "none": 0.7326, "random": 0.5428, "ImgD": 0.6271, "TextD": 0.2489,
             "CrossD": 0.3544}
    return pd.DataFrame({"defence": list(paper), "success_mean": list(paper.values()),
                         "paper_success_rate": list(paper.values())})


def test_paper_a_table3_best_defence_comes_from_the_paper_column():
    assert status("paperA_table3.csv", table_a3()) == v.HOLDS
    ours_imgd_best = swapped(table_a3(), "defence", "ImgD", "TextD", "success_mean")
    verdict = v.verdict_for("paperA_table3.csv", ours_imgd_best)
    assert verdict.status == v.FAILS and "TextD best" in verdict.reason
    no_defence_helps = table_a3().assign(success_mean=0.5)
    assert status("paperA_table3.csv", no_defence_helps) == v.FAILS


def table_a4() -> pd.DataFrame:  # paper A table 4
    return pd.DataFrame({"model": ["CLIP", "DeCLIP", "CLIP+NCL", "CLIP+SAE"],
                         "embsim_image": [0.11, 0.06, 0.14, 0.17],
                         "embsim_text": [0.45, -0.07, 0.45, 0.74],
                         "winrate_image": [0.65, 0.61, 0.71, 0.60],
                         "winrate_text": [0.59, 0.46, 0.60, 0.61]})


def test_paper_a_table4():
    assert status("paperA_table4.csv", table_a4()) == v.HOLDS
    assert status("paperA_table4.csv",
                  swapped(table_a4(), "model", "CLIP", "CLIP+SAE", "embsim_text")) == v.FAILS
    no_sae = table_a4()[table_a4()["model"] != "CLIP+SAE"]
    assert status("paperA_table4.csv", no_sae) == v.NOT_COMPARABLE


def table_a5() -> pd.DataFrame:  # paper A table 5
    return pd.DataFrame({"model": ["CLIP", "DeCLIP", "CLIP+NCL", "CLIP+SAE"],
                         "visual_embsim": [-0.007, 0.009, 0.043, 0.005],
                         "textual_embsim": [-0.017, -0.001, 0.210, 0.146],
                         "visual_winrate": [-0.007, 0.005, 0.002, 0.030],
                         "textual_winrate": [-0.069, -0.059, 0.018, 0.016]})


def test_paper_a_table5():
    assert status("paperA_table5.csv", table_a5()) == v.HOLDS
    clip_positive = table_a5().copy()
    clip_positive.loc[0, ["visual_embsim", "visual_winrate"]] = 0.5
    assert status("paperA_table5.csv", clip_positive) == v.FAILS
    no_latents = table_a5().copy()
    no_latents.loc[3, "visual_embsim"] = NAN  # no scored ImgD latents
    verdict = v.verdict_for("paperA_table5.csv", no_latents)
    assert verdict.status == v.NOT_COMPARABLE and "CLIP+SAE" in verdict.reason


def test_paper_a_table6():
    two = pd.DataFrame({"bucket": [0, 1], "mean_share": [0.1, 0.3],
                        "top_words": ["party, hip, game", "football, team, game"]})
    assert status("paperA_table6.csv", two) == v.HOLDS
    same = two.assign(top_words=["a, b", "b, a"])
    assert status("paperA_table6.csv", same) == v.FAILS
    assert status("paperA_table6.csv", two.iloc[:1]) == v.NOT_COMPARABLE


def table_iclr() -> pd.DataFrame:  # paper A ICLR table 1 (accuracies)
    rows = [("Image CLS", "None", 0, 0.776), ("Image CLS", "Random", 426, 0.757),
            ("Image CLS", "ImgD", 426, 0.750), ("Image CLS", "Random", 554, 0.756),
            ("Image CLS", "TextD", 554, 0.760), ("Text CLS", "None", 0, 0.713),
            ("Text CLS", "Random", 426, 0.694), ("Text CLS", "ImgD", 426, 0.702),
            ("Text CLS", "Random", 554, 0.693), ("Text CLS", "TextD", 554, 0.683)]
    return pd.DataFrame(rows, columns=["task", "deletion", "n_latents", "accuracy"])


def test_paper_a_iclr_table1_compares_with_the_random_draw_of_equal_size():
    assert status("paperA_iclr_table1.csv", table_iclr()) == v.HOLDS
    frame = table_iclr()
    frame.loc[2, "accuracy"] = 0.7565  # ImgD (426): below its Random(426) 0.757, above Random(554)
    assert status("paperA_iclr_table1.csv", frame) == v.HOLDS
    frame.loc[2, "accuracy"] = 0.758  # now above its own Random draw
    verdict = v.verdict_for("paperA_iclr_table1.csv", frame)
    assert verdict.status == v.FAILS and "Random 0.757" in verdict.reason


# --- paper B ------------------------------------------------------------------------------------

def table_b1(rho_a=4.232, r2_a=0.837) -> pd.DataFrame:
    values = {"mse": (0.141, 0.163), "r2": (0.859, r2_a), "p_acc": (0.847, 0.915),
              "rho": (0.327, rho_a), "fda": (2.630, 4.559), "delta_r1": (0.224, 0.125)}
    return pd.DataFrame({"metric": [METRIC_LABELS[m] for m in values],
                         "toy SAE": [s for s, _ in values.values()],
                         "toy SAE-A": [a for _, a in values.values()],
                         "CLIP SAE (paper)": [s for s, _ in values.values()],
                         "CLIP SAE-A (paper)": [a for _, a in values.values()]})


def test_paper_b_table1():
    assert status("paperB_table1.csv", table_b1()) == v.HOLDS
    verdict = v.verdict_for("paperB_table1.csv", table_b1(rho_a=0.1))
    assert verdict.status == v.FAILS and verdict.reason.count("toy: ρ SAE-A 0.1 ≤ SAE 0.327") == 1
    assert status("paperB_table1.csv", table_b1(r2_a=0.7)) == v.FAILS  # reconstruction differs
    with pytest.raises(v.VerdictError, match="paperB_table1.csv: no column with our numbers"):
        v.verdict_for("paperB_table1.csv", table_b1().drop(columns=["toy SAE", "toy SAE-A"]))


def test_paper_b_tables2_and_7_lower_ood_for_concept_queries():
    table2 = pd.DataFrame({"model": ["toy", "CLIP (paper)"], "Q": [0.97, 0.97],
                           "Q_SAE": [0.77, 0.77]})
    assert status("paperB_table2.csv", table2) == v.HOLDS
    assert status("paperB_table2.csv", table2.assign(Q_SAE=[0.97, 0.77])) == v.FAILS
    table7 = pd.DataFrame({"query": ["source", "sum", "sae"], "label": ["a", "b", "c"],
                           "toy": [0.5, 0.97, 0.63], "CLIP (paper)": [NAN, 0.97, 0.63]})
    assert status("paperB_table7.csv", table7) == v.HOLDS
    assert status("paperB_table7.csv", table7.assign(toy=[0.5, 0.6, 0.63])) == v.FAILS


def test_paper_b_table8_uses_batched_retrieval_not_the_gallery_column():
    frame = pd.DataFrame({"query": ["sum", "sae"], "label": ["Q", "Q_SAE"], "toy": [0.681, 0.683],
                          "toy (gallery)": [0.9, 0.1], "CLIP (paper)": [0.681, 0.683]})
    assert status("paperB_table8.csv", frame) == v.HOLDS
    assert status("paperB_table8.csv", frame.assign(toy=[0.7, 0.6])) == v.FAILS


def table_b3(sae_mse=0.14, rho_a=4.23) -> pd.DataFrame:
    metrics = list(METRIC_LABELS)
    frame = pd.DataFrame({"metric": [METRIC_LABELS[m] for m in metrics]})
    for column, mse, rho in (("ReLU", 0.31, 0.46), ("TopK", 0.22, 1.98), ("SAE", sae_mse, 0.33),
                             ("SAE-A", 0.16, rho_a)):
        frame[column] = [mse if m == "mse" else rho if m == "rho" else 1.0 for m in metrics]
        frame[f"{column} (paper)"] = frame[column]
    return frame


def test_paper_b_tables3_and_4():
    for name in ("paperB_table3.csv", "paperB_table4.csv"):
        assert status(name, table_b3()) == v.HOLDS
        assert status(name, table_b3(sae_mse=0.25)) == v.FAILS  # TopK reconstructs better
        assert status(name, table_b3(rho_a=0.2)) == v.FAILS
    only_mp = table_b3()[["metric", "SAE", "SAE (paper)", "SAE-A", "SAE-A (paper)"]]
    assert status("paperB_table3.csv", only_mp) == v.NOT_COMPARABLE


def test_paper_b_table5_checks_the_iso_energy_experiment():
    frame = pd.DataFrame({"experiment": ["experiment1"] * 2 + ["experiment2"] * 2,
                          "model": ["SAE", "SAE-A"] * 2, "W": [0.197, 0.185, 0.396, 0.184],
                          "mma": [0.83, 0.81, 0.29, 0.52]})
    assert status("paperB_table5.csv", frame) == v.HOLDS  # experiment 1's mma falls: no claim
    assert status("paperB_table5.csv", swapped(frame.iloc[2:], "model", "SAE", "SAE-A", "W")) \
        == v.FAILS
    assert status("paperB_table5.csv", frame.iloc[:2]) == v.NOT_COMPARABLE


def test_paper_b_table6_is_the_reference_row_of_encoders_csv():
    frame = pd.DataFrame({"encoder": ["toy", "flat", "paper B table 6: CLIP"],
                          "backend": ["ToyEncoder", "ToyEncoder", "reference"],
                          "gap_dim": [0.9, 0.9, 0.82]})
    assert status("encoders.csv", frame) == v.HOLDS
    verdict = v.verdict_for("encoders.csv", frame.assign(gap_dim=[0.9, 0.1, 0.82]))
    assert verdict.status == v.FAILS and "flat: DiM 0.1 ≤ 0.5 × paper 0.41" in verdict.reason
    assert status("encoders.csv", frame.iloc[:2]) == v.NOT_COMPARABLE


def gap_frame(name: str) -> pd.DataFrame:
    """Paper B table 9/10/11 in the builder's layout, our column = the paper's CLIP column."""
    clip = {"table9": {"dim": (0.723, 0.009, 0.040, 0.017, 0.011),
                       "w": (0.679, 0.686, 0.355, 0.220, 0.447),
                       "recall@1": (0.882, 0.898, 0.760, 0.745, 0.704)},
            "table11": {"dim": (0.859, 0.339, 0.112, 0.288, 0.340),
                        "w": (0.684, 0.686, 0.362, 0.197, 0.397),
                        "zero_shot": (0.350, 0.367, 0.340, 0.310, 0.311)}}[name]
    rows = [{"measure": MEASURE_LABELS[m], "method": METHOD_LABELS[k], "toy": x, "CLIP (paper)": x}
            for m, values in clip.items() for k, x in zip(METHOD_LABELS, values, strict=True)]
    return pd.DataFrame(rows)


def test_paper_b_gap_tables():
    table9 = gap_frame("table9")
    assert status("paperB_table9.csv", table9) == v.HOLDS
    assert status("paperB_table10.csv", table9) == v.HOLDS
    w_closed_by_centre = swapped(table9.assign(key=table9["measure"] + table9["method"]), "key",
                                 "W" + METHOD_LABELS["centre"], "W" + METHOD_LABELS["bimodal"],
                                 "toy").drop(columns="key")
    assert status("paperB_table9.csv", w_closed_by_centre) == v.FAILS
    recall = table9["measure"] == "recall@1"
    shift_not_worst = table9.copy()
    shift_not_worst.loc[recall & (table9["method"] == METHOD_LABELS["shift"]), "toy"] = 0.99
    assert status("paperB_table9.csv", shift_not_worst) == v.FAILS
    # table 11 makes no recall / zero-shot claim: its paper numbers (random < shift) hold
    assert status("paperB_table11.csv", gap_frame("table11")) == v.HOLDS


def test_paper_b_table12():
    paper = ((0.72, 1.00, 0.52, 1.00), (0.00, 0.50, 0.45, 0.99), (0.00, 0.50, 0.45, 0.98),
             (0.00, 0.50, 0.45, 0.89), (0.22, 1.00, 0.46, 0.98), (0.01, 0.50, 0.41, 0.63))
    frame = pd.DataFrame([{"method": label, **{f"toy {m}": x for m, x in
                                               zip(("DiM", "sep", "RMG", "OOD"), row, strict=True)}}
                          for label, row in zip(TABLE12_LABELS.values(), paper, strict=True)])
    assert status("paperB_table12.csv", frame) == v.HOLDS
    worse = swapped(frame, "method", TABLE12_LABELS["bimodal"], TABLE12_LABELS["centre"],
                    "toy RMG")
    assert status("paperB_table12.csv", worse) == v.FAILS


# --- registry and errors ------------------------------------------------------------------------

def test_every_reproduced_paper_table_has_a_verdict():
    expected = ({f"paper A table {i}" for i in range(1, 7)} | {"paper A (ICLR) table 1"}
                | {f"paper B table {i}" for i in range(1, 13)})
    assert {entry.paper_table for entry in v.VERDICTS.values()} == expected
    for entry in v.VERDICTS.values():
        assert entry.check.__doc__, entry.paper_table  # the claim is stated


def test_tables_without_a_paper_counterpart_say_why():
    verdict = v.verdict_for("groundtruth_recovery.csv", pd.DataFrame({"a": [1]}))
    assert verdict.status == v.NOT_COMPARABLE and "ground truth" in verdict.reason
    assert str(v.verdict_for("anything.csv", pd.DataFrame())).startswith("not comparable: no table")


def test_a_wrong_layout_is_one_line_naming_the_table():
    with pytest.raises(v.VerdictError) as error:
        v.verdict_for("paperA_table1.csv", pd.DataFrame({"classifier": ["probe"]}))
    message = str(error.value)
    assert message.startswith("paperA_table1.csv: missing column(s)") and "\n" not in message


def test_close_numbers_get_enough_digits_to_differ():
    assert v.less("W", 0.46066, "SAE", 0.46078).text == "W 0.4607 < SAE 0.4608"
