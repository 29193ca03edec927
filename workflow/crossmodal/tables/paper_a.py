"""Paper A's monosemanticity tables (appendix A.3): table 4 (EmbSim and WinRate per model and
activating modality) and table 5 (Visual Mono = Mono(ImgD) − Mono(TextD) on images, Textual Mono
= Mono(TextD) − Mono(ImgD) on texts), with the paper's CLIP ViT-B/32 numbers beside ours. Model
labels follow the paper: CLIP, DeCLIP, CLIP+NCL, CLIP+SAE (the config maps them to toy models).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

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


def scored(scores: pd.DataFrame, modality: str, m: int) -> pd.DataFrame:
    """The latents active on at least m rows of ``modality`` (the ones eq. 5 can score)."""
    return scores[scores[f"active_{modality}"] >= m]


def table4(scores: Mapping[str, pd.DataFrame], m: int) -> pd.DataFrame:
    """One row per model: mean EmbSim / WinRate / Mono over scored latents, per modality."""
    rows = []
    for label in paper_order(scores):
        frame, row = scores[label], {"model": label}
        for modality in ("image", "text"):
            live = scored(frame, modality, m)
            row.update({f"{metric}_{modality}": float(live[f"{metric}_{modality}"].mean())
                        for metric in ("embsim", "winrate", "mono")})
            row[f"latents_{modality}"] = len(live)
        paper = TABLE4_PAPER.get(label, (_NA,) * 4)
        row.update({f"{c} (paper)": v for c, v in zip(TABLE4_COLUMNS, paper, strict=True)})
        rows.append(row)
    return pd.DataFrame(rows)


def table5(scores: Mapping[str, pd.DataFrame], m: int) -> pd.DataFrame:
    """One row per model: Visual / Textual Mono with Mono = EmbSim, = WinRate and = their mean,
    over the scored latents of each MDS group (``scores`` carry an ``mds_group`` column)."""
    rows = []
    for label in paper_order(scores):
        frame, row = scores[label], {"model": label}
        for metric in ("embsim", "winrate", "mono"):
            for kind, modality in (("visual", "image"), ("textual", "text")):
                live = scored(frame, modality, m)
                row[f"{kind}_{metric}"] = modality_mono(
                    live[f"{metric}_{modality}"].to_numpy(), live["mds_group"].to_numpy(),
                    modality)
        for group in ("ImgD", "TextD", "CrossD"):
            row[f"n_{group}"] = int(np.sum(frame["mds_group"] == group))
        paper = TABLE5_PAPER.get(label, (_NA,) * 4)
        row.update({f"{c} (paper)": v for c, v in zip(TABLE5_COLUMNS, paper, strict=True)})
        rows.append(row)
    return pd.DataFrame(rows)


def mono_vs_groundtruth(table: pd.DataFrame, targets: Mapping[str, str],
                        recovery: pd.DataFrame) -> pd.DataFrame:
    """Does the monosemanticity ranking of models agree with toyworld's ground truth?

    One row per model of table 4: its Mono (mean over images and texts), the mean best-latent
    AUC over all ground-truth concepts and the share of concepts whose best latent lands in the
    right μ-group (``groundtruth_recovery`` rows of that encoder/dictionary, weighted by their
    concept counts), and both ranks (1 = best). ``targets`` maps model label → "encoder/method".
    """
    rows = []
    for _, model in table.iterrows():
        encoder, method = targets[model["model"]].split("/")
        mine = recovery[(recovery["encoder"] == encoder) & (recovery["method"] == method)]
        weights = mine["concepts"] / mine["concepts"].sum()
        rows.append({"model": model["model"], "target": targets[model["model"]],
                     "mono": (model["mono_image"] + model["mono_text"]) / 2,
                     "groundtruth_auc": float((mine["mean_auc"] * weights).sum()),
                     "right_group": float((mine["right_group"] * weights).sum())})
    frame = pd.DataFrame(rows)
    frame["rank_mono"] = frame["mono"].rank(ascending=False).astype(int)
    frame["rank_groundtruth"] = frame["groundtruth_auc"].rank(ascending=False).astype(int)
    return frame
