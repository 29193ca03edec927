"""Paper A's monosemanticity tables (appendix A.3): table 4 (EmbSim and WinRate per model and
activating modality) and table 5 (Visual Mono = Mono(ImgD) − Mono(TextD) on images, Textual Mono
= Mono(TextD) − Mono(ImgD) on texts), with the paper's CLIP ViT-B/32 numbers beside ours. Model
labels follow the paper: CLIP, DeCLIP, CLIP+NCL, CLIP+SAE (the config maps them to toy models).

Both tables average over every live latent of a model or MDS group (active on at least one row
of either modality, ``evaluate.live_latents``), as the paper averages over all dimensions: a
live latent silent, or active on fewer than m rows, in a modality is still scored there (its
top-m set is filled by a seeded random tie-break, so it scores near chance). Dropping such
latents would drop exactly the ImgD latents silent on captions and the TextD latents silent on
images that Visual / Textual Mono reward.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from crossmodal.metrics.uncertainty import interval_column
from crossmodal.modality.groundtruth import modality_auc_summary
from crossmodal.monosemanticity.evaluate import average_scores, live_latents
from crossmodal.monosemanticity.intervals import (
    groundtruth_half_widths,
    mean_half_widths,
    modality_mono_half_widths,
    mono_half_widths,
    tied_with,
    with_intervals,
)
from crossmodal.monosemanticity.scores import modality_mono

_NA = float("nan")
# table 4: (EmbSim image, EmbSim text, WinRate image, WinRate text)
TABLE4_PAPER: dict[str, tuple[float, float, float, float]] = {
    "CLIP": (0.11, 0.45, 0.65, 0.59), "DeCLIP": (0.06, -0.07, 0.61, 0.46),
    "CLIP+NCL": (0.14, 0.45, 0.71, 0.60), "CLIP+SAE": (0.17, 0.74, 0.60, 0.61),
}
# table 5: (Visual, Textual) with Mono = EmbSim, then (Visual, Textual) with Mono = WinRate
TABLE5_PAPER: dict[str, tuple[float, float, float, float]] = {
    "CLIP": (-0.007, -0.017, -0.007, -0.069), "DeCLIP": (0.009, -0.001, 0.005, -0.059),
    "CLIP+NCL": (0.043, 0.210, 0.002, 0.018), "CLIP+SAE": (0.005, 0.146, 0.030, 0.016),
}
TABLE4_COLUMNS = ("embsim_image", "embsim_text", "winrate_image", "winrate_text")
TABLE5_COLUMNS = ("visual_embsim", "textual_embsim", "visual_winrate", "textual_winrate")


def paper_order(labels) -> list[str]:
    """The paper's model order (CLIP, DeCLIP, CLIP+NCL, CLIP+SAE) first, then any other label."""
    known = [label for label in TABLE4_PAPER if label in labels]
    return known + [label for label in labels if label not in TABLE4_PAPER]


def table4(scores: Mapping[str, pd.DataFrame], m: int,
           uncertainty: Mapping[str, float] | None = None, seed: int = 0) -> pd.DataFrame:
    """One row per model: mean EmbSim / WinRate / Mono over its live latents, per modality, the
    number of live latents scored and of those below m active rows (``average_scores``).
    Each mean ``{embsim,winrate,mono}_{image,text}`` has its half-width ``"<column> ±"`` right
    after it: a bootstrap over the live latents (``intervals.mean_half_widths``, one resample
    for all six, ``uncertainty`` = {resamples, level}, seeded by ``seed``)."""
    rows = []
    for label in paper_order(scores):
        frame = scores[label]
        live = frame[live_latents(frame)]
        columns = [f"{metric}_{modality}" for modality in ("image", "text")
                   for metric in ("embsim", "winrate", "mono")]
        row = with_intervals({"model": label, **average_scores(frame, m)},
                             mean_half_widths(live[columns], uncertainty, seed))
        paper = TABLE4_PAPER.get(label, (_NA,) * 4)
        row.update({f"{c} (paper)": v for c, v in zip(TABLE4_COLUMNS, paper, strict=True)})
        rows.append(row)
    return pd.DataFrame(rows)


def mds_flag(frame: pd.DataFrame) -> str:
    """The model's MDS grouping flag (``mds_group_flag`` of its feature table; "" if absent)."""
    if "mds_group_flag" not in frame or frame.empty:
        return ""
    return str(frame["mds_group_flag"].fillna("").iloc[0])


def table5(scores: Mapping[str, pd.DataFrame], uncertainty: Mapping[str, float] | None = None,
           seed: int = 0) -> pd.DataFrame:
    """One row per model: Visual / Textual Mono with Mono = EmbSim, = WinRate and = their mean,
    over all live latents of each MDS group (``scores`` carry an ``mds_group`` column), the
    group sizes, and ``mds_flag``, non-empty when the grouping is degenerate. Each of the six
    differences has its half-width ``"<column> ±"`` right after it: a bootstrap over the live
    latents, each keeping its group (``intervals.modality_mono_half_widths``)."""
    rows = []
    for label in paper_order(scores):
        frame = scores[label]
        live, row = frame[live_latents(frame)], {"model": label}
        for metric in ("embsim", "winrate", "mono"):
            for kind, modality in (("visual", "image"), ("textual", "text")):
                row[f"{kind}_{metric}"] = modality_mono(
                    live[f"{metric}_{modality}"].to_numpy(), live["mds_group"].to_numpy(),
                    modality)
        for group in ("ImgD", "TextD", "CrossD"):
            row[f"n_{group}"] = int(np.sum(live["mds_group"] == group))
        row = with_intervals(row, modality_mono_half_widths(live, uncertainty=uncertainty,
                                                            seed=seed))
        row["mds_flag"] = mds_flag(frame)
        paper = TABLE5_PAPER.get(label, (_NA,) * 4)
        row.update({f"{c} (paper)": v for c, v in zip(TABLE5_COLUMNS, paper, strict=True)})
        rows.append(row)
    return pd.DataFrame(rows)


def _rank(values: pd.Series) -> pd.Series:
    """Rank 1 = largest; NaN stays NaN (nullable integers)."""
    return values.rank(ascending=False, method="min").astype("Int64")


def best_latent_auc(recovery: pd.DataFrame, target: str) -> float:
    """Recoverability of a dictionary ``target`` ("encoder/method"): its ``groundtruth_recovery``
    mean recovery AUC (best latent on the rows of each modality that shows the concept, the mean
    of image and caption for bimodal concepts), weighted by the concept counts."""
    encoder, method = target.split("/")
    mine = recovery[(recovery["encoder"] == encoder) & (recovery["method"] == method)]
    return float((mine["mean_auc"] * mine["concepts"]).sum() / mine["concepts"].sum())


def mono_vs_groundtruth(table: pd.DataFrame, targets: Mapping[str, str],
                        features: Mapping[str, pd.DataFrame],
                        recovery: pd.DataFrame | None = None,
                        scores: Mapping[str, pd.DataFrame] | None = None,
                        uncertainty: Mapping[str, float] | None = None,
                        seed: int = 0) -> pd.DataFrame:
    """Does paper A's Mono ranking of models agree with toyworld's ground truth?

    One row per model of table 4: its Mono on images, on texts and their mean, and the same
    for the per-latent ground truth (``groundtruth.modality_auc_summary`` of the model's
    feature table ``features[target]``: mean over live latents of each latent's best
    concept AUC on that modality's rows), with ranks (1 = best) by Mono and by ground truth,
    overall and per modality. Both sides are averages over latents, so the ranks compare like
    with like. ``best_latent_auc`` (from ``recovery``, when given) is recoverability — the best
    latent per concept — shown for reference and not ranked. ``targets``: label → target.

    Intervals: ``groundtruth_auc{,_image,_text} ±`` by a bootstrap over the feature table's
    latents (``intervals.groundtruth_half_widths``); with ``scores`` (label → the model's
    per-latent scores) also ``mono{,_image,_text} ±`` by a bootstrap over its live latents
    (``intervals.mono_half_widths``; image, text and their mean from one resample). Each rank
    with intervals gets ``<rank>_tied_with``: the models whose interval overlaps this model's
    (``intervals.tied_with``; "" = the rank is separated from every other).
    """
    rows = []
    for _, model in table.iterrows():
        target = targets[model["model"]]
        truth = modality_auc_summary(features[target])
        widths = groundtruth_half_widths(features[target], uncertainty, seed)
        if scores is not None:
            mine = scores[model["model"]]
            widths |= mono_half_widths(mine[live_latents(mine)], uncertainty, seed)
        rows.append(with_intervals(
            {"model": model["model"], "target": target,
             "mono_image": model["mono_image"], "mono_text": model["mono_text"],
             "mono": (model["mono_image"] + model["mono_text"]) / 2, **truth,
             **({"best_latent_auc": best_latent_auc(recovery, target)}
                if recovery is not None else {})}, widths))
    frame = pd.DataFrame(rows)
    for suffix in ("", "_image", "_text"):
        for kind, column in (("mono", f"mono{suffix}"), ("groundtruth", f"groundtruth_auc{suffix}")):
            rank = f"rank_{kind}{suffix}"
            frame[rank] = _rank(frame[column])
            if interval_column(column) in frame:
                frame[f"{rank}_tied_with"] = tied_with(frame["model"].tolist(), frame[column],
                                                       frame[interval_column(column)])
    return frame
