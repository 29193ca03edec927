"""Paper A (ICLR version) §2.2: the modality-classification check of the MDS groups.

Setting: a model's latent features for N paired samples, image features Z_I (N, K) and text
features Z_T (N, K) (an encoder's raw dimensions, or a dictionary's codes), the MDS group of every
latent ((K,) strings "ImgD", "TextD", "CrossD", "dead") and a class label per pair (N,).

Removing a group sets its latent columns to zero. Each modality is classified separately with a
StandardScaler + logistic-regression pipeline on an 80/20 stratified split (seeded, the same split
for every deletion, so the comparisons are paired). Each group's deletion is compared with a
random deletion of as many live latents (groups != "dead"), one draw per seed. Reading of the
paper: removing ImgD hurts image classification more than removing TextD does, and vice versa.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

logger = logging.getLogger(__name__)

MAX_ITER = 200
MIN_SEEDS = 5
TASKS = ("Image CLS", "Text CLS")
GROUPS_TO_REMOVE = ("ImgD", "TextD", "CrossD")
TABLE_COLUMNS = ("task", "deletion", "n_latents", "accuracy", "std", "delta_accuracy",
                 "random_seeds")

_NA = float("nan")
# Paper A (ICLR version) table 1, CLIP ViT-H/14 (LAION-2B) on 10 000 COCO pairs:
# (task, deletion, # neurons, accuracy, printed Δ accuracy as a fraction).
# In the extracted text the "Text CLS" label sits on the fifth row (TextD, 554) of the image block;
# the rows themselves are all legible: seven per task, each block opening with "None", so the
# first seven belong to Image CLS and the last seven to Text CLS. "/" (None rows) is stored as 0.
# The paper reports neither a std nor the number of random draws: both are NaN here.
# Three printed image deltas disagree with accuracy − 0.776: Random 426 prints −2.1% (−1.9%),
# TextD 554 prints −1.0% (−1.6%), CrossD 44 prints −0.5% (−0.7%); the printed values are kept.
_ICLR_TABLE1_ROWS = (
    ("Image CLS", "None", 0, 0.776, 0.0),
    ("Image CLS", "Random", 426, 0.757, -0.021),
    ("Image CLS", "ImgD", 426, 0.750, -0.026),
    ("Image CLS", "Random", 554, 0.756, -0.020),
    ("Image CLS", "TextD", 554, 0.760, -0.010),
    ("Image CLS", "Random", 44, 0.773, -0.003),
    ("Image CLS", "CrossD", 44, 0.769, -0.005),
    ("Text CLS", "None", 0, 0.713, 0.0),
    ("Text CLS", "Random", 426, 0.694, -0.019),
    ("Text CLS", "ImgD", 426, 0.702, -0.011),
    ("Text CLS", "Random", 554, 0.693, -0.020),
    ("Text CLS", "TextD", 554, 0.683, -0.030),
    ("Text CLS", "Random", 44, 0.710, -0.003),
    ("Text CLS", "CrossD", 44, 0.712, -0.001),
)
ICLR_TABLE1 = pd.DataFrame(
    [{"task": task, "deletion": deletion, "n_latents": n_latents, "accuracy": accuracy,
      "std": _NA, "delta_accuracy": delta, "random_seeds": _NA}
     for task, deletion, n_latents, accuracy, delta in _ICLR_TABLE1_ROWS],
    columns=list(TABLE_COLUMNS))


def zero_latents(features: np.ndarray, latents: np.ndarray) -> np.ndarray:
    """Copy of ``features`` (N, K) with the columns ``latents`` (indices or a (K,) mask) zeroed."""
    modified = np.array(features, copy=True)
    modified[:, np.asarray(latents)] = 0
    return modified


def stratifiable_rows(labels: np.ndarray) -> np.ndarray:
    """(N,) mask of the rows whose class (``labels`` (N,)) has at least 2 members.

    A stratified split needs two members per class; the dropped classes are counted in a logged
    warning. Raises ValueError when fewer than two classes are left.
    """
    classes, counts = np.unique(labels, return_counts=True)
    rare = classes[counts < 2]
    if rare.size:
        logger.warning("dropping %d class(es) with fewer than 2 members (%d sample(s)) before the "
                       "stratified split", rare.size, int(counts[counts < 2].sum()))
    if classes.size - rare.size < 2:
        raise ValueError("classification needs at least two classes with 2 or more members")
    return ~np.isin(labels, rare)


def _fit_pipeline(train_features: np.ndarray, train_labels: np.ndarray, max_iter: int):
    """StandardScaler + lbfgs LogisticRegression fitted on the train rows (N_train, K).

    BLAS/OpenMP run single-threaded: on a busy 2-core machine a threaded fit of (8000, 1024)
    took 12 s against 0.5 s single-threaded (oversubscription), and a fixed thread count keeps
    the result reproducible.
    Convergence warnings are logged at INFO instead of raised: a capped fit is the procedure.
    """
    model = make_pipeline(StandardScaler(), LogisticRegression(solver="lbfgs", max_iter=max_iter))
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(train_features, train_labels)
    if np.max(model[-1].n_iter_) >= max_iter:
        logger.info("logistic regression stopped at max_iter=%d before converging", max_iter)
    return model


def classification_accuracy(features: np.ndarray, labels: np.ndarray, seed: int,
                            test_size: float = 0.2, max_iter: int = MAX_ITER) -> float:
    """Test accuracy of a StandardScaler + LogisticRegression pipeline on ``features`` (N, K).

    Procedure: drop classes with fewer than 2 members (logged warning), stratified train/test
    split of the rows (``test_size``, ``random_state=seed``; the split depends on the labels and
    seed only, so every deletion sees the same split), fit on the train rows, return the share of
    test rows whose label (N,) is predicted correctly.
    """
    labels = np.asarray(labels)
    keep = stratifiable_rows(labels)
    features, labels = np.asarray(features)[keep], labels[keep]
    train_x, test_x, train_y, test_y = train_test_split(
        features, labels, test_size=test_size, random_state=seed, stratify=labels)
    model = _fit_pipeline(train_x, train_y, max_iter)
    return float(np.mean(model.predict(test_x) == test_y))


def random_latents(groups: np.ndarray, count: int, seed: int) -> np.ndarray:
    """(count,) sorted latent indices drawn uniformly without replacement from the live latents
    (``groups`` (K,) != "dead"), with the generator ``default_rng([seed, count])`` — the draw
    depends on the seed and the count only, so both tasks remove the same random latents."""
    live = np.flatnonzero(np.asarray(groups) != "dead")
    if count > live.size:
        raise ValueError(f"cannot draw {count} random latents from {live.size} live latents")
    rng = np.random.default_rng([seed, count])
    return np.sort(rng.choice(live, size=count, replace=False))


def _row(task: str, deletion: str, n_latents: int, accuracies: Sequence[float],
         random_seeds: int = 0) -> dict:
    """One table row; ``std`` is the sample std over the seeds of a Random row, else NaN."""
    std = float(np.std(accuracies, ddof=1)) if random_seeds > 1 else _NA
    return {"task": task, "deletion": deletion, "n_latents": int(n_latents),
            "accuracy": float(np.mean(accuracies)), "std": std, "random_seeds": random_seeds}


def _task_rows(task: str, features: np.ndarray, groups: np.ndarray, labels: np.ndarray,
               seeds: Sequence[int], groups_to_remove: Sequence[str], max_iter: int
               ) -> list[dict]:
    """Rows of one task: None, then per group its Random baseline (one draw per seed) and the
    group itself; the classifier split always uses ``seeds[0]``."""
    cache = {(): classification_accuracy(features, labels, seeds[0], max_iter=max_iter)}

    def accuracy(latents: np.ndarray) -> float:
        key = tuple(latents.tolist())
        if key not in cache:  # equal counts give equal random draws: fit each set once
            cache[key] = classification_accuracy(zero_latents(features, latents), labels,
                                                 seeds[0], max_iter=max_iter)
        return cache[key]

    baseline = cache[()]

    rows = [_row(task, "None", 0, [baseline])]
    for group in groups_to_remove:
        members = np.flatnonzero(groups == group)
        randoms = [accuracy(random_latents(groups, members.size, seed)) for seed in seeds]
        rows.append(_row(task, "Random", members.size, randoms, random_seeds=len(seeds)))
        rows.append(_row(task, group, members.size, [accuracy(members)]))
    return rows


def modality_classification_check(image_features: np.ndarray, text_features: np.ndarray,
                                  groups: np.ndarray, labels: np.ndarray,
                                  seeds: Sequence[int] = (0, 1, 2, 3, 4),
                                  groups_to_remove: Sequence[str] = GROUPS_TO_REMOVE,
                                  max_iter: int = MAX_ITER,
                                  min_seeds: int = MIN_SEEDS) -> pd.DataFrame:
    """Paper A's table 1 for one model: accuracy after removing each MDS group vs random.

    Inputs: ``image_features`` and ``text_features`` (N, K), ``groups`` (K,) MDS group names,
    ``labels`` (N,). For task "Image CLS" (image features) then "Text CLS" (text features): the
    "None" row (no deletion), then for each group of ``groups_to_remove`` the "Random" row (as
    many latents drawn uniformly from the live latents without replacement, one draw per seed;
    accuracy = mean over seeds, ``std`` = their sample std, ``random_seeds`` = number of seeds)
    and the group's own row (its latents zeroed). The classifier's split uses ``seeds[0]`` for
    every fit, so deletions are paired. A group with no latents gives rows with n_latents 0 and
    the None accuracy (nothing is removed). ``delta_accuracy`` = accuracy − None accuracy of the
    task, as a fraction. ``std`` is NaN and ``random_seeds`` 0 on deterministic rows. Pairs whose
    class has fewer than 2 members are dropped once, with a logged warning.
    Raises ValueError when fewer than ``min_seeds`` seeds are given.
    """
    seeds = list(seeds)
    if len(seeds) < min_seeds:
        raise ValueError(f"need at least {min_seeds} seeds for the random baseline, "
                         f"got {len(seeds)}")
    groups, labels = np.asarray(groups).astype(str), np.asarray(labels)
    keep = stratifiable_rows(labels)  # warn once, not on each of the 38 fits
    rows = []
    for task, features in zip(TASKS, (image_features, text_features)):
        rows += _task_rows(task, np.asarray(features)[keep], groups, labels[keep], seeds,
                           groups_to_remove, max_iter)
    table = pd.DataFrame(rows)
    none_accuracy = table["accuracy"].where(table["deletion"] == "None").groupby(
        table["task"]).transform("first")
    table["delta_accuracy"] = table["accuracy"] - none_accuracy
    return table[list(TABLE_COLUMNS)]


def _accuracy_of(table: pd.DataFrame, task: str, deletion: str, n_latents: int | None = None
                 ) -> float:
    """Accuracy of the first row of ``table`` with this task and deletion (and count)."""
    rows = table[(table["task"] == task) & (table["deletion"] == deletion)]
    if n_latents is not None:
        rows = rows[rows["n_latents"] == n_latents]
    if rows.empty:
        raise KeyError(f"no row {task!r} / {deletion!r} / n_latents={n_latents}")
    return float(rows["accuracy"].iloc[0])


def _beats_random(table: pd.DataFrame, task: str, group: str) -> bool:
    """True when removing ``group`` lowers the task's accuracy more than its Random baseline
    (the Random row of the same task with the same number of latents)."""
    n_latents = int(table[(table["task"] == task) & (table["deletion"] == group)]
                    ["n_latents"].iloc[0])
    return _accuracy_of(table, task, group) < _accuracy_of(table, task, "Random", n_latents)


def modality_consistency(table: pd.DataFrame) -> dict[str, bool]:
    """The paper's reading of a :func:`modality_classification_check` table, as booleans.

    ``imgd_hurts_images``: image accuracy without ImgD < without TextD; ``textd_hurts_texts``:
    text accuracy without TextD < without ImgD; ``imgd_beats_random_on_images`` /
    ``textd_beats_random_on_texts``: the group's own-modality accuracy < its Random baseline's.
    All comparisons are strict.
    """
    image, text = TASKS
    return {
        "imgd_hurts_images": _accuracy_of(table, image, "ImgD") < _accuracy_of(table, image,
                                                                               "TextD"),
        "textd_hurts_texts": _accuracy_of(table, text, "TextD") < _accuracy_of(table, text,
                                                                               "ImgD"),
        "imgd_beats_random_on_images": _beats_random(table, image, "ImgD"),
        "textd_beats_random_on_texts": _beats_random(table, text, "TextD"),
    }
