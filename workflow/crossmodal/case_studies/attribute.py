"""Case study 1 of paper A (§4.1, appendix A.4.1): which modality carries a binary attribute.

Inputs are the Multimodal SAE codes Z (N, K) of image inputs and of text inputs, the MDS group of
every latent and the attribute label of every pair. A removal zeroes a set of latents in Z (the
paper's zero-mask); the result is decoded, x̂' = decode(Z'), and the attribute is classified two
ways:

* nearest reference (paper A): each class has a reference representation — here the normalised
  mean reconstruction of the confident training samples of that class in that modality (toyworld:
  the cue is shown in that modality), more stable than the paper's single random confident
  sample; a representation gets the class of the more cosine-similar reference;
* a logistic probe fitted on unmodified training reconstructions.

Removal sets are per input (appendix A.4.1: "There are different number of ImgD and TextD for a
given representation of input sample … we remove the minimal number between ImgD and TextD, and
remove the same number of random selected features"): row i of Z removes
n_i = min(#active ImgD latents of row i, #active TextD latents of row i), active meaning z > 0 —
its n_i strongest active ImgD latents, its n_i strongest active TextD latents (the paper does not
say which; we take the largest activations), or n_i of its active latents of any group drawn at
random per seed (``removal_masks``). The accuracy change is reported as
the drop in percentage points, acc(no removal) − acc(removal), as the paper's tables 1–2 print
it, beside the mean n_i removed. Each drop carries the half-width of its 95 % interval
(``drop_half_widths``): a paired bootstrap over the evaluated items — before and after removal
are recomputed on the same resampled items — that also resamples the Random removal's seeds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from sklearn.linear_model import LogisticRegression

from crossmodal.dictionaries.base import Dictionary
from crossmodal.metrics.uncertainty import (
    LEVEL,
    RESAMPLES,
    bootstrap_half_widths,
    interval_column,
)
from crossmodal.monosemanticity.modality_check import zero_latents
from crossmodal.world.caption import ATTRIBUTE_PHRASE

GROUPS = ("ImgD", "TextD")
DROP_HW = interval_column("drop_pp")


def removal_counts(codes: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """n (N,) for codes Z (N, K) and MDS groups (K,): n_i = min(Σ_k [z_ik > 0, g_k = ImgD],
    Σ_k [z_ik > 0, g_k = TextD]) — the per-input count that every removal of row i zeroes."""
    active = codes > 0
    return np.minimum(*(np.sum(active & (groups == g), axis=1) for g in GROUPS))


def _first_per_row(keys: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """(N, K) mask of the counts[i] smallest keys of each row i of keys (N, K) (ties: lower
    column first) — a masked argsort, vectorised over rows."""
    order = np.argsort(keys, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(keys.shape[1])[None, :], axis=1)
    return ranks < counts[:, None]


def strongest_in_group(codes: np.ndarray, groups: np.ndarray, group: str, counts: np.ndarray
                       ) -> np.ndarray:
    """(N, K) mask: in each row i of Z (N, K), its counts[i] largest active (z > 0) latents of
    ``group``; counts[i] must not exceed the row's active latents of the group."""
    eligible = (codes > 0) & (groups == group)[None, :]
    return _first_per_row(np.where(eligible, -codes, np.inf), counts) & eligible


def random_active(codes: np.ndarray, counts: np.ndarray, seed: int) -> np.ndarray:
    """(N, K) mask: in each row i of Z (N, K), counts[i] of its active (z > 0) latents of any
    group drawn uniformly without replacement — random keys u ~ U(0, 1) from
    ``default_rng(seed)``, the counts[i] smallest among the active columns."""
    active = codes > 0
    keys = np.random.default_rng(seed).random(codes.shape)
    return _first_per_row(np.where(active, keys, np.inf), counts) & active


def removal_masks(codes: np.ndarray, groups: np.ndarray, seeds: Sequence[int]
                  ) -> dict[str, list[np.ndarray]]:
    """``{"ImgD": [mask], "TextD": [mask], "Random": [mask per seed]}``, each (N, K) bool with
    n_i = ``removal_counts`` latents set in row i: the n_i strongest active ImgD, the n_i strongest
    active TextD, n_i random active latents. Random draws among the row's active latents of every
    group: paper A's "random selected features" of the given representation — zeroing an inactive
    latent changes nothing, so a draw among all K latents would remove almost nothing."""
    counts = removal_counts(codes, groups)
    masks = {g: [strongest_in_group(codes, groups, g, counts)] for g in GROUPS}
    masks["Random"] = [random_active(codes, counts, seed) for seed in seeds]
    return masks


@torch.no_grad()
def decode_without(model: Dictionary, codes: np.ndarray, removed: np.ndarray) -> np.ndarray:
    """decode(Z') (N, d) for codes Z (N, K), Z' = Z with ``removed`` zeroed: latent indices
    (the same columns in every row) or an (N, K) bool mask (per row)."""
    removed = np.asarray(removed)
    if removed.ndim == 2:
        masked = np.where(removed, 0, codes).astype(codes.dtype)
    else:
        masked = zero_latents(codes, removed)
    return model.decode(torch.as_tensor(masked, device=model.device)).cpu().numpy()


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def class_references(x: np.ndarray, labels: np.ndarray, confident: np.ndarray,
                     classes: Sequence[str]) -> np.ndarray:
    """(C, d) unit mean of the confident rows of each class."""
    return _unit(np.stack([_unit(x[(labels == c) & confident]).mean(0) for c in classes]))


def nearest_reference(x: np.ndarray, references: np.ndarray, classes: Sequence[str]) -> np.ndarray:
    """The class of the most cosine-similar reference for every row of x (N, d)."""
    return np.asarray(classes)[(_unit(x) @ references.T).argmax(1)]


@dataclass(frozen=True)
class ModalityData:
    """One input modality: training reconstructions with labels and a confident mask (for the
    references and the probe), and the evaluated codes with their labels."""

    train_x: np.ndarray
    train_labels: np.ndarray
    train_confident: np.ndarray
    codes: np.ndarray
    labels: np.ndarray


def _classifiers(data: ModalityData, classes: Sequence[str], seed: int):
    references = class_references(data.train_x, data.train_labels, data.train_confident, classes)
    probe = LogisticRegression(max_iter=2000, random_state=seed)
    probe.fit(_unit(data.train_x), data.train_labels)
    return {"nearest_reference": lambda x: nearest_reference(x, references, classes),
            "probe": lambda x: probe.predict(_unit(x))}


@dataclass(frozen=True)
class ModalityOutcomes:
    """Per-item results of one input modality: ``correct[(removal, classifier)]`` (S_r, N) bool,
    ``n_removed[removal]`` (S_r, N) latents zeroed, over the removal's S_r seed replicas
    (``seeds[removal]``; one for None / ImgD / TextD, one per seed for Random), and the N labels."""

    labels: np.ndarray
    seeds: dict[str, list[int]]
    correct: dict[tuple[str, str], np.ndarray]
    n_removed: dict[str, np.ndarray]


def modality_outcomes(model: Dictionary, part: ModalityData, groups: np.ndarray,
                      classes: Sequence[str], seeds: Sequence[int]) -> ModalityOutcomes:
    """Every removal mask (None, ImgD, TextD, Random × seeds) of one modality's codes, decoded
    and classified by every classifier: the per-item correctness the tables average."""
    classifiers = _classifiers(part, classes, seeds[0])
    masks = {"None": [np.zeros(part.codes.shape, dtype=bool)],
             **removal_masks(part.codes, groups, seeds)}
    correct: dict[tuple[str, str], list[np.ndarray]] = {}
    for removal, removal_list in masks.items():
        for removed in removal_list:
            decoded = decode_without(model, part.codes, removed)
            for name, classify in classifiers.items():
                correct.setdefault((removal, name), []).append(classify(decoded) == part.labels)
    return ModalityOutcomes(
        labels=np.asarray(part.labels),
        seeds={removal: list(seeds[:len(removal_list)]) for removal, removal_list in masks.items()},
        correct={key: np.stack(rows) for key, rows in correct.items()},
        n_removed={removal: np.stack([m.sum(1) for m in removal_list])
                   for removal, removal_list in masks.items()})


def study_outcomes(model: Dictionary, data: Mapping[str, ModalityData], groups: np.ndarray,
                   classes: Sequence[str], seeds: Sequence[int]) -> dict[str, ModalityOutcomes]:
    """:func:`modality_outcomes` of every input modality (``data`` keys "image", "text")."""
    return {modality: modality_outcomes(model, part, groups, classes, seeds)
            for modality, part in data.items()}


def study_frame(outcomes: Mapping[str, ModalityOutcomes], classes: Sequence[str]
                ) -> pd.DataFrame:
    """The long frame of :func:`attribute_study` from per-item outcomes."""
    rows = []
    for modality, out in outcomes.items():
        classifiers = _classifier_names(out)
        for removal, seeds in out.seeds.items():
            for s, seed in enumerate(seeds):
                n_removed = out.n_removed[removal][s]
                for name in classifiers:
                    correct = out.correct[removal, name][s]
                    for label in ("all", *classes):
                        chosen = slice(None) if label == "all" else out.labels == label
                        rows.append({"modality": modality, "removal": removal, "seed": seed,
                                     "classifier": name, "class": label,
                                     "accuracy": float(np.mean(correct[chosen])),
                                     "n_removed": float(np.mean(n_removed[chosen]))})
    return pd.DataFrame(rows)


def attribute_study(model: Dictionary, data: Mapping[str, ModalityData], groups: np.ndarray,
                    classes: Sequence[str], seeds: Sequence[int]) -> pd.DataFrame:
    """Long frame (modality, removal, seed, classifier, class, accuracy, n_removed): per input
    modality (``data`` keys "image", "text"), per removal (None, ImgD, TextD, Random × seeds;
    ``removal_masks`` of that modality's codes), per classifier, the accuracy over all rows
    (class "all") and within each class, and the mean latents zeroed per row over those rows."""
    return study_frame(study_outcomes(model, data, groups, classes, seeds), classes)


def paired_drop(before: np.ndarray, after: np.ndarray, chosen: np.ndarray, counts: np.ndarray,
                seed_weights: np.ndarray) -> float:
    """The accuracy drop (pp) on a weighted item sample: with item weights c (N,) (bootstrap
    multiplicities, ones for the plain estimate), the chosen items m (N,) bool, correctness
    before removal b (N,) and after removal A (S, N) of S seed replicas weighted v (S,),
    100 · (Σ c·m·b / Σ c·m − Σ_s v_s Σ c·m·A_s / Σ c·m); NaN when no chosen item is drawn.
    Both accuracies use the same items: a paired difference."""
    weights = counts * chosen
    total = weights.sum()
    if total == 0:
        return float("nan")
    after_accuracy = seed_weights @ (np.atleast_2d(after) @ weights) / total
    return float(100 * (before @ weights / total - after_accuracy))


def drop_half_widths(outcomes: Mapping[str, ModalityOutcomes], classes: Sequence[str],
                     resamples: int = RESAMPLES, seed: int = 0, level: float = LEVEL
                     ) -> pd.DataFrame:
    """Half-widths ``drop_pp ±`` per (modality, classifier, class, removal) of the drops of
    :func:`accuracy_drops`, by a paired two-stage bootstrap: resample b draws the N evaluated
    items with replacement (:func:`bootstrap_half_widths`, shared by the accuracy before and
    after removal and by every removal, classifier and class — and by both modalities, which
    hold the same pairs) and, for Random, the S seed replicas with replacement (the b-th draw
    of ``default_rng([seed, 1])``), so the seed-mean drop's interval includes the random draw
    of latents; a class's accuracy is taken over the drawn items of that class."""
    rows = []
    for modality, out in outcomes.items():
        chosen = {"all": np.ones(len(out.labels), dtype=bool),
                  **{c: out.labels == c for c in classes}}
        statistic = _drop_statistic(out, chosen, np.random.default_rng([seed, 1]))
        widths = bootstrap_half_widths(statistic, len(out.labels), resamples, seed, level)
        rows += [{"modality": modality, "classifier": name, "class": label, "removal": removal,
                  DROP_HW: width} for (name, label, removal), width in widths.items()]
        rows += [{"modality": modality, "classifier": name, "class": label, "removal": "None",
                  DROP_HW: 0.0} for name in _classifier_names(out) for label in chosen]
    return pd.DataFrame(rows)


def _classifier_names(out: ModalityOutcomes) -> list[str]:
    return list(dict.fromkeys(name for _, name in out.correct))


def _drop_statistic(out: ModalityOutcomes, chosen: Mapping[str, np.ndarray],
                    seed_rng: np.random.Generator):
    """statistic(index) → {(classifier, class, removal): :func:`paired_drop`} on the items
    ``index`` (their multiplicities) and, per removal, a fresh draw with replacement of its
    seed replicas from ``seed_rng`` (one replica: weight 1)."""
    def statistic(index: np.ndarray) -> dict[tuple[str, str, str], float]:
        counts = np.bincount(index, minlength=len(out.labels)).astype(float)
        values = {}
        for removal in (r for r in out.seeds if r != "None"):
            n_seeds = len(out.seeds[removal])
            seed_weights = np.bincount(seed_rng.integers(0, n_seeds, n_seeds),
                                       minlength=n_seeds) / n_seeds
            for name in _classifier_names(out):
                before = out.correct["None", name][0].astype(float)
                after = out.correct[removal, name].astype(float)
                for label, mask in chosen.items():
                    values[name, label, removal] = paired_drop(before, after, mask, counts,
                                                               seed_weights)
        return values
    return statistic


def accuracy_drops(study: pd.DataFrame, half_widths: pd.DataFrame | None = None
                   ) -> pd.DataFrame:
    """Mean accuracy and mean n removed over seeds per (modality, removal, classifier, class) and
    the accuracy drop in percentage points from no removal; with ``half_widths``
    (:func:`drop_half_widths`) also its half-width ``drop_pp ±`` (NaN otherwise)."""
    keys = ["modality", "classifier", "class", "removal"]
    mean = (study.groupby(keys, sort=False)[["accuracy", "n_removed"]].mean().reset_index())
    baseline = mean[mean["removal"] == "None"].set_index(["modality", "classifier", "class"])
    key = mean.set_index(["modality", "classifier", "class"]).index
    mean["drop_pp"] = 100 * (baseline.loc[key, "accuracy"].to_numpy() - mean["accuracy"])
    if half_widths is None:
        mean[DROP_HW] = np.nan
        return mean
    return mean.merge(half_widths[[*keys, DROP_HW]], on=keys, how="left")


# Paper A table 1 (drop in %, cc3m, CLIP+SAE): input × removal; table 2: class × removal, where
# ImgD is removed from images and TextD from texts (female ↔ the image-cued class).
TABLE1_PAPER = {"image": {"ImgD": 5.87, "TextD": 0.72, "Random": 2.28},
                "text": {"ImgD": 0.01, "TextD": 9.87, "Random": 1.41}}
TABLE2_PAPER = {"female": {"ImgD": 17.65, "TextD": 7.27}, "male": {"ImgD": 5.64, "TextD": 28.67}}


def table1(drops: pd.DataFrame) -> pd.DataFrame:
    """Paper A table 1: drop (pp) per input modality × removed group, per classifier, each with
    its half-width ``w/o <group> ±`` (``drop_pp ±`` of ``drops``: :func:`drop_half_widths`),
    and the mean n_i zeroed per input (the same n_i for ImgD, TextD and Random)."""
    rows = []
    for (classifier, modality), part in drops[drops["class"] == "all"].groupby(
            ["classifier", "modality"], sort=False):
        by_removal = part.set_index("removal")
        row = {"classifier": classifier, "input": modality}
        for g in ("ImgD", "TextD", "Random"):
            row[f"w/o {g}"] = by_removal.loc[g, "drop_pp"]
            row[interval_column(f"w/o {g}")] = by_removal.loc[g].get(DROP_HW, np.nan)
        row["mean n removed"] = part.set_index("removal").loc["ImgD", "n_removed"]
        row.update({f"w/o {g} (paper)": TABLE1_PAPER[modality][g]
                    for g in ("ImgD", "TextD", "Random")})
        rows.append(row)
    return pd.DataFrame(rows)


def table2(drops: pd.DataFrame, classes: Sequence[str],
           paper_classes: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Paper A table 2: per class, the drop (pp) from removing ImgD from images and TextD from
    texts, per classifier, each with its half-width (``<column> ±``, from ``drop_pp ±``), with
    the mean n_i zeroed per input of the class;
    ``paper_classes`` maps our class → the paper's (female / male)."""
    indexed = drops.set_index(["classifier", "modality", "class", "removal"])
    drop, removed = indexed["drop_pp"], indexed["n_removed"]
    width = indexed[DROP_HW] if DROP_HW in indexed else pd.Series(np.nan, index=indexed.index)
    rows = []
    for classifier in dict.fromkeys(drops["classifier"]):
        for label in classes:
            paper = TABLE2_PAPER.get((paper_classes or {}).get(label, ""), {})
            rows.append({"classifier": classifier, "class": label,
                         "w/o ImgD (image input)": drop[classifier, "image", label, "ImgD"],
                         "w/o ImgD (image input) ±": width[classifier, "image", label, "ImgD"],
                         "w/o TextD (text input)": drop[classifier, "text", label, "TextD"],
                         "w/o TextD (text input) ±": width[classifier, "text", label, "TextD"],
                         "mean n removed (image input)":
                             removed[classifier, "image", label, "ImgD"],
                         "mean n removed (text input)":
                             removed[classifier, "text", label, "TextD"],
                         "paper class": (paper_classes or {}).get(label, ""),
                         "w/o ImgD (paper)": paper.get("ImgD", np.nan),
                         "w/o TextD (paper)": paper.get("TextD", np.nan)})
    return pd.DataFrame(rows)


def expected_modality(cues: Mapping[str, Mapping[str, float]]) -> dict[str, str]:
    """The modality whose cue is the stronger for each class (toyworld's configured truth)."""
    return {label: "image" if cue["image"] > cue["text"] else "text"
            for label, cue in cues.items()}


def class_roles(classes: Sequence[str], cues: Mapping[str, Mapping[str, float]] | None = None,
                paper_classes: Mapping[str, str] | None = None) -> dict[str, str]:
    """Which class figure 7 shows ("image": its images ordered by ImgD share) and which table 6
    reads ("text": its captions bucketed by TextD share). With toyworld's configured ``cues``:
    the class whose image cue is the stronger, and the other. Otherwise by the paper's roles
    through ``paper_classes`` (female → image, male → text), else the classes in order."""
    if cues:
        image = max(classes, key=lambda c: cues[c]["image"] - cues[c]["text"])
    elif paper_classes and "female" in paper_classes.values():
        image = next(c for c in classes if paper_classes.get(c) == "female")
    else:
        image = classes[0]
    return {"image": image, "text": next(c for c in classes if c != image)}


PAPER_MODALITY = {"female": "image", "male": "text"}  # paper A table 2's finding


def asymmetry_verdict(second: pd.DataFrame, cues: Mapping[str, Mapping[str, float]] | None,
                      paper_classes: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Per classifier and class: the modality the analysis points to (ImgD-from-images drop >
    TextD-from-texts drop → image) and the one it should point to — toyworld's configured truth
    (``expected_from`` "config") when ``cues`` are given, else paper A's finding for the
    class's paper counterpart (``expected_from`` "paper A"; empty when there is none) — and
    whether they agree."""
    if cues:
        expected, source = expected_modality(cues), "config"
    else:
        expected = {c: PAPER_MODALITY.get(p, "") for c, p in (paper_classes or {}).items()}
        source = "paper A"
    found = np.where(second["w/o ImgD (image input)"] > second["w/o TextD (text input)"],
                     "image", "text")
    wanted = np.array([expected.get(c, "") for c in second["class"]], dtype=object)
    return pd.DataFrame({"classifier": second["classifier"], "class": second["class"],
                         "found": found, "expected": wanted, "expected_from": source,
                         "recovered": np.where(wanted == "", None, found == wanted)})


def top_group_share(codes: np.ndarray, groups: np.ndarray, group: str, top: int = 20
                    ) -> np.ndarray:
    """Per row of codes (N, K): the share of ``group`` latents among its ``top`` most activated
    latents that fire (> 0); NaN for a row where nothing fires."""
    order = np.argsort(-codes, axis=1, kind="stable")[:, :top]
    values = np.take_along_axis(codes, order, axis=1)
    firing = values > 0
    in_group = (groups[order] == group) & firing
    counts = firing.sum(1)
    return np.where(counts > 0, in_group.sum(1) / np.maximum(counts, 1), np.nan)


def share_buckets(shares: np.ndarray, buckets: int = 4) -> np.ndarray:
    """Equal-count buckets 0 … buckets−1 of the shares (ties stay together; NaN → −1)."""
    out = np.full(len(shares), -1)
    valid = ~np.isnan(shares)
    ranks = pd.Series(shares[valid]).rank(method="min").to_numpy() - 1
    out[valid] = np.minimum((ranks * buckets // valid.sum()).astype(int), buckets - 1)
    return out


STOP_WORDS = frozenset({"a", "an", "the", "of", "at", "in", "on", "with", "and", "by", ",", "!",
                        "#", "so", "is", "are", "one", "two", "three"})


CUE_SHARE = "text_cue_share"


def caption_words(caption: str) -> list[str]:
    """The lower-cased words of a caption (quotes dropped), as table 6 counts them."""
    return caption.lower().replace('"', " ").split()


def toyworld_cue_words(label: str) -> list[str]:
    """The words toyworld's captions use for class ``label``'s text cue (the phrase of
    ``world.caption.ATTRIBUTE_PHRASE`` without stop words: night → ["night"], day →
    ["daylight"]); empty for a class toyworld does not have."""
    return [w for w in caption_words(ATTRIBUTE_PHRASE.get(label, "")) if w not in STOP_WORDS]


def has_cue_word(captions: Sequence[str], cue_words: Sequence[str]) -> np.ndarray:
    """(N,) bool: caption i contains any of ``cue_words`` as a whole word."""
    wanted = {w.lower() for w in cue_words}
    return np.array([bool(wanted & set(caption_words(c))) for c in captions], dtype=bool)


def bucket_cue_share(has_cue: np.ndarray, resamples: int = RESAMPLES, seed: int = 0,
                     level: float = LEVEL) -> tuple[float, float]:
    """(p, half-width): p = mean of ``has_cue`` (n,) over one bucket's captions, the half-width
    by a bootstrap over those n captions (NaN for n < 2; (NaN, NaN) for n = 0)."""
    if len(has_cue) == 0:
        return float("nan"), float("nan")
    values = has_cue.astype(float)
    if len(values) < 2:
        return float(values.mean()), float("nan")
    width = bootstrap_half_widths(lambda index: {"p": values[index].mean()}, len(values),
                                  resamples, seed, level)["p"]
    return float(values.mean()), width


def bucket_words(captions: Sequence[str], buckets: np.ndarray, shares: np.ndarray,
                 removed_words: Sequence[str], top: int = 8, cue_words: Sequence[str] = (),
                 resamples: int = RESAMPLES, seed: int = 0, level: float = LEVEL
                 ) -> pd.DataFrame:
    """Paper A table 6: per bucket, its mean share, its caption count and the ``top`` most
    frequent caption words, without stop words and the attribute's own words.

    ``text_cue_share``: the share of the bucket's captions that contain one of ``cue_words``,
    the words the text modality uses for the class (toyworld: :func:`toyworld_cue_words`, e.g.
    "night" of "at night"), with ``text_cue_share ±`` from a bootstrap over the bucket's
    captions (:func:`bucket_cue_share`); NaN without cue words (real data: no configured truth).
    Paper A's reading of table 6 (the more TextD among a caption's top latents, the more its
    words are those the text modality carries) predicts ``text_cue_share`` to *rise* with the
    bucket (the TextD share); ``text_cue_words`` names the words counted."""
    removed = STOP_WORDS | {w.lower() for w in removed_words}
    cue = has_cue_word(captions, cue_words) if cue_words else None
    rows = []
    for bucket in sorted(b for b in set(buckets.tolist()) if b >= 0):
        inside = buckets == bucket
        words = Counter(word for caption, b in zip(captions, buckets) if b == bucket
                        for word in caption_words(caption) if word not in removed)
        share, width = (bucket_cue_share(cue[inside], resamples, seed, level) if cue is not None
                        else (float("nan"), float("nan")))
        rows.append({"bucket": bucket, "mean_share": float(np.nanmean(shares[inside])),
                     "captions": int(np.sum(inside)),
                     "top_words": ", ".join(word for word, _ in words.most_common(top)),
                     CUE_SHARE: share, interval_column(CUE_SHARE): width,
                     "text_cue_words": ", ".join(cue_words)})
    return pd.DataFrame(rows)
