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


def with_intervals(frame: pd.DataFrame, columns, half_width: float) -> pd.DataFrame:
    """``frame`` with a ``<column> ±`` half-width column for each of ``columns``."""
    return frame.assign(**{f"{c} ±": half_width for c in columns})


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
    assert status("paperA_table1.csv", zeros) == v.INCONCLUSIVE  # a tie is no ordering
    drops = ["w/o ImgD", "w/o TextD", "w/o Random"]
    assert status("paperA_table1.csv", with_intervals(table_a1(), drops, 0.5)) == v.HOLDS
    verdict = v.verdict_for("paperA_table1.csv", with_intervals(table_a1(), drops, 2.0))
    assert verdict.status == v.INCONCLUSIVE and "intervals overlap" in verdict.reason


def table_a2(female_image=17.65) -> pd.DataFrame:
    return pd.DataFrame({"classifier": ["probe", "probe"], "class": ["day", "night"],
                         "w/o ImgD (image input)": [female_image, 5.64],
                         "w/o TextD (text input)": [7.27, 28.67],
                         "paper class": ["female", "male"]})


def test_paper_a_table2():
    assert status("paperA_table2.csv", table_a2()) == v.HOLDS
    assert status("paperA_table2.csv", table_a2(female_image=1.0)) == v.FAILS
    gain = v.verdict_for("paperA_table2.csv", table_a2(female_image=-20.0))
    assert gain.status == v.FAILS and "≤ no drop 0" in gain.reason  # a gain is not a drop
    drops = ["w/o ImgD (image input)", "w/o TextD (text input)"]
    assert status("paperA_table2.csv", with_intervals(table_a2(), drops, 6.0)) == v.INCONCLUSIVE
    unmapped = table_a2().assign(**{"paper class": ["", ""]})
    verdict = v.verdict_for("paperA_table2.csv", unmapped)
    assert verdict.status == v.NOT_COMPARABLE and "paper_classes" in verdict.reason


def table_a3() -> pd.DataFrame:
    paper = {"benign": 0.1, "none": 0.7326, "random": 0.5428, "ImgD": 0.6271, "TextD": 0.2489,
             "CrossD": 0.3544}
    return pd.DataFrame({"defence": list(paper), "success_mean": list(paper.values()),
                         "paper_success_rate": list(paper.values())})


def test_paper_a_table3_checks_the_papers_ordering():
    assert status("paperA_table3.csv", table_a3()) == v.HOLDS
    ours_imgd_best = swapped(table_a3(), "defence", "ImgD", "TextD", "success_mean")
    verdict = v.verdict_for("paperA_table3.csv", ours_imgd_best)
    assert verdict.status == v.FAILS and "success with TextD 0.627 ≥ CrossD 0.354" in verdict.reason
    crossd_above_imgd = swapped(table_a3(), "defence", "ImgD", "CrossD", "success_mean")
    assert status("paperA_table3.csv", crossd_above_imgd) == v.FAILS
    no_defence_helps = table_a3().assign(success_mean=0.5)
    assert status("paperA_table3.csv", no_defence_helps) == v.INCONCLUSIVE  # all tied
    # the paper's stds (0.6–2.2 points on 4–5 % rates) make close groups inconclusive
    assert status("paperA_table3.csv", with_intervals(table_a3(), ["success_mean"], 0.06)) \
        == v.INCONCLUSIVE


def table_a4() -> pd.DataFrame:  # paper A table 4, Mono = (EmbSim + WinRate) / 2
    frame = pd.DataFrame({"model": ["CLIP", "DeCLIP", "CLIP+NCL", "CLIP+SAE"],
                          "embsim_image": [0.11, 0.06, 0.14, 0.17],
                          "embsim_text": [0.45, -0.07, 0.45, 0.74],
                          "winrate_image": [0.65, 0.61, 0.71, 0.60],
                          "winrate_text": [0.59, 0.46, 0.60, 0.61]})
    for modality in ("image", "text"):
        frame[f"mono_{modality}"] = (frame[f"embsim_{modality}"]
                                     + frame[f"winrate_{modality}"]) / 2
    return frame


def test_paper_a_table4():
    assert status("paperA_table4.csv", table_a4()) == v.HOLDS
    assert status("paperA_table4.csv",
                  swapped(table_a4(), "model", "CLIP", "CLIP+SAE", "mono_text")) == v.FAILS
    assert status("paperA_table4.csv", with_intervals(table_a4(), ["mono_image", "mono_text"],
                                                      0.05)) == v.INCONCLUSIVE
    no_sae = table_a4()[table_a4()["model"] != "CLIP+SAE"]
    assert status("paperA_table4.csv", no_sae) == v.NOT_COMPARABLE


def table_a5() -> pd.DataFrame:  # paper A table 5, Mono = (EmbSim + WinRate) / 2
    frame = pd.DataFrame({"model": ["CLIP", "DeCLIP", "CLIP+NCL", "CLIP+SAE"],
                          "visual_embsim": [-0.007, 0.009, 0.043, 0.005],
                          "textual_embsim": [-0.017, -0.001, 0.210, 0.146],
                          "visual_winrate": [-0.007, 0.005, 0.002, 0.030],
                          "textual_winrate": [-0.069, -0.059, 0.018, 0.016]})
    for kind in ("visual", "textual"):
        frame[f"{kind}_mono"] = (frame[f"{kind}_embsim"] + frame[f"{kind}_winrate"]) / 2
    return frame


def test_paper_a_table5():
    assert status("paperA_table5.csv", table_a5()) == v.HOLDS
    clip_positive = table_a5().copy()
    clip_positive.loc[0, "visual_mono"] = 0.5
    assert status("paperA_table5.csv", clip_positive) == v.FAILS
    assert status("paperA_table5.csv", with_intervals(table_a5(), ["visual_mono", "textual_mono"],
                                                      0.1)) == v.INCONCLUSIVE
    no_latents = table_a5().copy()
    no_latents.loc[3, "visual_mono"] = NAN  # no scored ImgD latents
    verdict = v.verdict_for("paperA_table5.csv", no_latents)
    assert verdict.status == v.NOT_COMPARABLE and "CLIP+SAE" in verdict.reason


def test_paper_a_table6_reads_the_text_cue_share_across_buckets():
    two = pd.DataFrame({"bucket": [0, 1], "mean_share": [0.1, 0.3],
                        "top_words": ["party, hip", "football, team"],
                        "text_cue_share": [0.2, 0.6], "text_cue_share ±": [0.05, 0.05]})
    assert status("paperA_table6.csv", two) == v.HOLDS
    assert status("paperA_table6.csv", swapped(two, "bucket", 0, 1, "text_cue_share")) == v.FAILS
    assert status("paperA_table6.csv", two.assign(**{"text_cue_share ±": 0.3})) == v.INCONCLUSIVE
    assert status("paperA_table6.csv", two.iloc[:1]) == v.NOT_COMPARABLE
    saturated = two.assign(text_cue_share=[1.0, 1.0])
    assert status("paperA_table6.csv", saturated) == v.NOT_COMPARABLE


def table_a5_counts(n_imgd=(100, 90, 60, 90), n_crossd=(120, 80, 150, 40)) -> pd.DataFrame:
    return pd.DataFrame({"model": ["CLIP", "DeCLIP", "CLIP+NCL", "CLIP+SAE"],
                         "n_ImgD": list(n_imgd), "n_TextD": [36, 86, 46, 126],
                         "n_CrossD": list(n_crossd)})


def test_paper_a_figure1_reads_the_group_shares_with_binomial_intervals():
    assert v.verdict_for  # the figure's claim is read from table 5's counts
    claim = next(c for c in v.CLAIMS if c.item == "figure 1")
    assert claim.check(table_a5_counts()).status == v.HOLDS
    sae_centred = table_a5_counts(n_crossd=(120, 80, 150, 200))
    assert claim.check(sae_centred).status == v.FAILS
    # CLIP's ImgD and TextD shares 40/256 vs 36/256: intervals of ±0.044 overlap
    balanced = table_a5_counts(n_imgd=(40, 90, 60, 90), n_crossd=(180, 80, 150, 40))
    assert claim.check(balanced).status == v.INCONCLUSIVE
    share = v.binomial_share(64, 256, "share")
    assert share.value == 0.25 and share.half_width == pytest.approx(1.959964 * (0.25 * 0.75 / 256) ** 0.5)


def control_frame(textd_shape=0.8, imgd_texture=0.7) -> pd.DataFrame:
    rows = [("TextD", 0.0, 0.0, 0.1), ("ImgD", 0.0, 0.0, 0.1),
            ("TextD", 0.7, textd_shape, 0.1), ("ImgD", 0.7, 0.2, imgd_texture)]
    return pd.DataFrame(rows, columns=["group", "w", "share_shape_match", "share_texture_match"])


def test_paper_a_case_study3_compares_the_groups_at_the_largest_weight():
    assert status("control_measures.csv", control_frame()) == v.HOLDS
    assert status("control_measures.csv", control_frame(textd_shape=0.0)) == v.FAILS
    wide = with_intervals(control_frame(), ["share_shape_match", "share_texture_match"], 0.4)
    assert status("control_measures.csv", wide) == v.INCONCLUSIVE
    nothing_moves = control_frame(textd_shape=0.0, imgd_texture=0.0).assign(
        share_shape_match=0.0, share_texture_match=0.0)
    verdict = v.verdict_for("control_measures.csv", nothing_moves)
    assert verdict.status == v.NOT_COMPARABLE and "both at the floor 0" in verdict.reason
    broken = v.verdict_for("control_measures.csv", control_frame().assign(decoder_gate="fail"))
    assert broken.status == v.NOT_COMPARABLE and "decoder failed its gate" in broken.reason
    assert status("control_measures.csv", control_frame().assign(decoder_gate="pass")) == v.HOLDS
    no_imgd = control_frame()[control_frame()["group"] == "TextD"]
    assert status("control_measures.csv", no_imgd) == v.NOT_COMPARABLE


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
    # seed stds of the random draws (about 0.01) make the paper's own numbers inconclusive
    assert status("paperA_iclr_table1.csv", with_intervals(table_iclr(), ["accuracy"], 0.01)) \
        == v.INCONCLUSIVE
    saturated = table_iclr().assign(accuracy=0.999)
    verdict = v.verdict_for("paperA_iclr_table1.csv", saturated)
    assert verdict.status == v.NOT_COMPARABLE and "ceiling" in verdict.reason


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
    # ΔR² 0.022 with half-widths 0.02 each: 0.022 ± 0.04 straddles the tolerance 0.05
    assert status("paperB_table1.csv", with_intervals(table_b1(), ["toy SAE", "toy SAE-A"],
                                                      0.02)) == v.INCONCLUSIVE
    with pytest.raises(v.VerdictError, match="paperB_table1.csv: no column with our numbers"):
        v.verdict_for("paperB_table1.csv", table_b1().drop(columns=["toy SAE", "toy SAE-A"]))


def test_paper_b_tables2_and_7_lower_ood_for_concept_queries():
    table2 = pd.DataFrame({"model": ["toy", "CLIP (paper)"], "Q": [0.97, 0.97],
                           "Q_SAE": [0.77, 0.77]})
    assert status("paperB_table2.csv", table2) == v.HOLDS
    assert status("paperB_table2.csv", table2.assign(Q_SAE=[0.99, 0.77])) == v.FAILS
    assert status("paperB_table2.csv", table2.assign(Q=[1.0, 0.97], Q_SAE=[1.0, 0.77])) \
        == v.NOT_COMPARABLE  # both at the ceiling
    assert status("paperB_table2.csv", with_intervals(table2, ["Q", "Q_SAE"], 0.15)) \
        == v.INCONCLUSIVE
    table7 = pd.DataFrame({"query": ["source", "sum", "sae"], "label": ["a", "b", "c"],
                           "toy": [0.5, 0.97, 0.63], "CLIP (paper)": [NAN, 0.97, 0.63]})
    assert status("paperB_table7.csv", table7) == v.HOLDS
    assert status("paperB_table7.csv", table7.assign(toy=[0.5, 0.6, 0.63])) == v.FAILS
    assert status("paperB_table7.csv", with_intervals(table7, ["toy"], 0.2)) == v.INCONCLUSIVE


def test_paper_b_table8_uses_batched_retrieval_not_the_gallery_column():
    frame = pd.DataFrame({"query": ["sum", "sae"], "label": ["Q", "Q_SAE"], "toy": [0.681, 0.683],
                          "toy (gallery)": [0.9, 0.1], "CLIP (paper)": [0.681, 0.683]})
    assert status("paperB_table8.csv", frame) == v.HOLDS
    assert status("paperB_table8.csv", frame.assign(toy=[0.7, 0.6])) == v.FAILS
    assert status("paperB_table8.csv", with_intervals(frame, ["toy"], 0.01)) == v.INCONCLUSIVE


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
        columns = ["ReLU", "TopK", "SAE", "SAE-A"]
        assert status(name, with_intervals(table_b3(), columns, 0.05)) == v.INCONCLUSIVE
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
    assert status("paperB_table5.csv", with_intervals(frame, ["W", "mma"], 0.2)) \
        == v.INCONCLUSIVE


def test_paper_b_table6_is_the_reference_row_of_encoders_csv():
    frame = pd.DataFrame({"encoder": ["toy", "flat", "paper B table 6: CLIP"],
                          "backend": ["ToyEncoder", "ToyEncoder", "reference"],
                          "gap_dim": [0.9, 0.9, 0.82]})
    assert status("encoders.csv", frame) == v.HOLDS
    verdict = v.verdict_for("encoders.csv", frame.assign(gap_dim=[0.9, 0.1, 0.82]))
    assert verdict.status == v.FAILS and "flat: DiM 0.1 ≤ 0.5 × paper 0.41" in verdict.reason
    assert status("encoders.csv", frame.iloc[:2]) == v.NOT_COMPARABLE
    assert status("encoders.csv", frame.assign(gap_dim=[0.45, 0.9, 0.82],
                                               **{"gap_dim ±": 0.1})) == v.INCONCLUSIVE


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
    assert status("paperB_table9.csv", with_intervals(table9, ["toy"], 0.1)) == v.INCONCLUSIVE


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
    assert status("paperB_table12.csv", with_intervals(frame, ["toy RMG", "toy OOD"], 0.05)) \
        == v.INCONCLUSIVE


# --- registry and errors ------------------------------------------------------------------------

def test_every_reproduced_paper_table_and_figure_has_a_claim_in_paper_order():
    expected = (["paper A figure 1"] + [f"paper A table {i}" for i in range(1, 7)]
                + ["paper A case study 3 (figures 10, 14)", "paper A (ICLR) table 1"]
                + [f"paper B table {i}" for i in range(1, 13)])
    assert [claim.label for claim in v.CLAIMS] == expected
    for claim in v.CLAIMS:
        assert claim.check.__doc__ and claim.statement, claim.label  # the claim is stated
    assert v.paper_table("paperA_table5.csv") == "paper A table 5"  # the table, not figure 1
    assert v.paper_table("control_measures.csv") == "paper A case study 3 (figures 10, 14)"


def test_claims_frame_has_a_row_per_claim_even_for_missing_or_broken_tables():
    frames = {"paperA_table1.csv": table_a1(), "paperA_table3.csv": pd.DataFrame({"x": [1]})}
    claims = v.claims_frame(frames)
    assert list(claims.columns) == ["paper", "item", "claim", "evidence", "outcome", "source"]
    assert len(claims) == len(v.CLAIMS)
    by_item = claims.set_index(claims["paper"] + " " + claims["item"])
    assert by_item.loc["paper A table 1", "outcome"] == v.HOLDS
    assert "layout error" in by_item.loc["paper A table 3", "evidence"]
    assert "was not produced" in by_item.loc["paper B table 4", "evidence"]


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


def test_interval_comparisons_have_three_outcomes():
    apart = v.greater("a", v.Estimate(1.0, 0.1), "b", v.Estimate(0.5, 0.1))
    assert apart.outcome == v.HOLDS and apart.text == "a 1 ± 0.1 > b 0.5 ± 0.1"
    assert v.greater("a", v.Estimate(0.5, 0.1), "b", v.Estimate(1.0, 0.1)).outcome == v.FAILS
    # 0.8 ± 0.1 and 0.65 ± 0.1 overlap on [0.7, 0.75]
    assert v.greater("a", v.Estimate(0.8, 0.1), "b", v.Estimate(0.65, 0.1)).outcome \
        == v.INCONCLUSIVE
    assert v.less("a", 1.0, "b", 0.998, ceiling=1.0).outcome == v.NOT_COMPARABLE
    assert v.close("R²", v.Estimate(0.9, 0.01), 0.93, 0.05).outcome == v.HOLDS  # 0.04 ≤ 0.05
    assert v.close("R²", v.Estimate(0.9, 0.01), 0.97, 0.05).outcome == v.FAILS  # 0.06 > 0.05
    assert v.close("R²", v.Estimate(0.9, 0.02), 0.95, 0.05).outcome == v.INCONCLUSIVE


def test_decide_ranks_fail_over_inconclusive_over_not_comparable():
    holds, fails = v.Check(v.HOLDS, "h"), v.Check(v.FAILS, "f")
    open_, tied = v.Check(v.INCONCLUSIVE, "i"), v.Check(v.NOT_COMPARABLE, "n")
    assert v.decide("c", [holds, open_, fails]).status == v.FAILS
    assert v.decide("c", [holds, tied, open_]).status == v.INCONCLUSIVE
    assert v.decide("c", [holds, tied]).status == v.NOT_COMPARABLE
    assert v.decide("c", [holds, holds]).status == v.HOLDS
