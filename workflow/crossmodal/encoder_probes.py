"""Linear probes of every toyworld concept family from each modality's embeddings, and the
encoder gates.

Probe of family f from modality m ∈ {image, text}: a StandardScaler + lbfgs LogisticRegression
(``random_state=seed``) fitted on the m embeddings X (n, d) of ``probe_pairs`` pairs of the train
split, labels y (n,) the family's value (``none`` is a class of its own), scored on the evaluation
split by balanced accuracy

    BA = (1 / C) Σ_c  #{i : y_i = c and ŷ_i = c} / #{i : y_i = c}

over the C classes of the test labels. A probe that ignores its input (constant or random
prediction) has BA = 1 / C whatever the class frequencies: that is the chance level.

Every concept (a family value other than ``none``, the ``gt_<family>_<value>`` indicator) also
gets a one-vs-rest probe on the same standardised embeddings and pairs: a binary logistic
regression for value vs. every other value, whose linear score w · x + b ranked against the
indicator on the evaluation split gives the concept's **linear-detector AUC**. A single direction
of the embedding reaches it, so it is the level a dictionary latent that detects the concept can
be compared with (``groundtruth.with_linear_detector``).

What each family's ground-truth modality says a probe should reach (``expected``):

* bimodal — high from both modalities, gate BA ≥ ``min_bimodal``;
* image-only — high from images (BA ≥ ``min_unimodal[encoder]``), at most the ceiling of what
  captions reveal from texts (BA − ceiling ≤ ``max_above_chance``); text-only — the reverse;
* attribute — cue strengths per class and modality come from the dataset config: not gated.

The ceiling of a family that the other modality shows at rate p (the dataset's ``mention_rates``
for image-only families in captions, ``depiction_rates`` for text-only families in images; P(shown
| present)) is the balanced accuracy of a probe that reads every shown value and guesses one
fixed class otherwise: one class keeps recall 1, the other C − 1 reach recall p,

    ceiling = (1 + (C − 1) p) / C = 1/C + p (1 − 1/C),

which is the chance level 1/C at p = 0.

Encoder-level gates reuse the encoder table's columns: ``gap_dim`` ≥ ``min_gap``, ``recall@1`` ≥
``min_recall_at_1`` and ``zero_shot_shape`` ≥ ``min_zero_shot_shape``. A failing gate is
reported as ``fail``; it does not stop the run.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, roc_auc_score
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from crossmodal.store import Embeddings
from crossmodal.world.concepts import FAMILIES, Family

logger = logging.getLogger(__name__)

MODALITIES = ("image", "text")
PASS, FAIL, NOT_GATED = "pass", "fail", "not gated"
CONCEPT_PROBE_COLUMNS = ("encoder", "concept", "family", "family_modality", "embedding", "auc",
                         "share")
PROBE_COLUMNS = ("encoder", "family", "family_modality", "embedding", "classes", "accuracy",
                 "chance", "ceiling", "expected", "gate", "threshold", "passed")
# encoder table column → (gate setting, encoder-table column of the gate's verdict)
SCALAR_GATES = {
    "gap_dim": ("min_gap", "gate_gap_dim"),
    "recall@1": ("min_recall_at_1", "gate_recall@1"),
    "zero_shot_shape": ("min_zero_shot_shape", "gate_zero_shot_shape"),
}


def chance_level(labels: np.ndarray) -> float:
    """Balanced accuracy of an input-blind probe: 1 / C, C the distinct values of ``labels``."""
    return 1.0 / len(np.unique(np.asarray(labels)))


def shown_ceiling(chance: float, rate: float) -> float:
    """Balanced accuracy of the best probe that sees a family's value only where the other
    modality shows it, at rate ``rate``: chance + rate · (1 − chance) (module docstring)."""
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"a mention / depiction rate is a probability; got {rate}")
    return chance + rate * (1.0 - chance)


def standardise(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) scaled by the train rows' mean and standard deviation per column ((n, d),
    (m, d)). Fitted once per modality: the scaler sees no labels, so this equals a
    StandardScaler + LogisticRegression pipeline per family."""
    scaler = StandardScaler().fit(train)
    return scaler.transform(train), scaler.transform(test)


def fit_probe(train_x: np.ndarray, train_y: np.ndarray, seed: int, max_iter: int
              ) -> LogisticRegression:
    """An lbfgs logistic regression fitted on (train_x (n, d), train_y (n,)) with single-threaded
    BLAS (reproducible, no oversubscription). A fit capped at ``max_iter`` is the procedure: the
    convergence warning is logged."""
    model = LogisticRegression(solver="lbfgs", max_iter=max_iter, random_state=seed)
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(train_x, train_y)
    if np.max(model.n_iter_) >= max_iter:
        logger.info("probe stopped at max_iter=%d before converging", max_iter)
    return model


def balanced_accuracy(model: LogisticRegression, test_x: np.ndarray, test_y: np.ndarray
                      ) -> float:
    """Balanced accuracy of the fitted probe's predictions on (test_x (m, d), test_y (m,))."""
    with threadpool_limits(limits=1):
        predicted = model.predict(test_x)
    with warnings.catch_warnings():  # a predicted class absent from test_y scores nothing
        warnings.simplefilter("ignore", UserWarning)
        return float(balanced_accuracy_score(test_y, predicted))


def probe_accuracy(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray,
                   test_y: np.ndarray, seed: int, max_iter: int) -> float:
    """Balanced accuracy on (test_x (m, d), test_y (m,)) of a probe fitted on (train_x (n, d),
    train_y (n,)) (``fit_probe``)."""
    return balanced_accuracy(fit_probe(train_x, train_y, seed, max_iter), test_x, test_y)


def linear_detector_auc(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray,
                        test_y: np.ndarray, value: str, seed: int, max_iter: int) -> float:
    """AUC on the test rows (test_x (m, d)) of a one-vs-rest probe for ``value`` fitted on
    (train_x (n, d), train_y == value); NaN when either split holds only positives or only
    negatives (``detector_auc``)."""
    present = train_y == value
    if present.all() or not present.any():
        return float("nan")
    model = fit_probe(train_x, present, seed, max_iter)
    with threadpool_limits(limits=1):
        scores = model.decision_function(test_x)
    return detector_auc(scores, test_y == value)


def detector_auc(scores: np.ndarray, present: np.ndarray) -> float:
    """AUC of ``scores`` (m,) as a detector of ``present`` (m,) bool; NaN when the rows hold
    only positives or only negatives."""
    if present.all() or not present.any():
        return float("nan")
    return float(roc_auc_score(present, scores))


def family_probes(train: Embeddings, test: Embeddings, seed: int, max_iter: int,
                  families: Sequence[Family] = FAMILIES) -> pd.DataFrame:
    """One row per family × embedding modality: family, family_modality, embedding, classes
    (C of the test labels), accuracy (balanced, test split) and chance (1 / C)."""
    return probe_tables(train, test, seed, max_iter, families)[0]


def probe_tables(train: Embeddings, test: Embeddings, seed: int, max_iter: int,
                 families: Sequence[Family] = FAMILIES) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(family rows as in :func:`family_probes`, concept rows), both from each embedding
    modality. Concept rows: concept (``gt_<family>_<value>``), family, family_modality,
    embedding, auc (``linear_detector_auc`` on the test split) and share (the value's test
    frequency)."""
    family_rows, concept_rows = [], []
    for embedding in MODALITIES:
        train_x, test_x = standardise(getattr(train, embedding), getattr(test, embedding))
        for family in families:
            train_y = train.pairs[family.name].astype(str).to_numpy()
            test_y = test.pairs[family.name].astype(str).to_numpy()
            model = fit_probe(train_x, train_y, seed, max_iter)
            where = {"family": family.name, "family_modality": family.modality,
                     "embedding": embedding}
            family_rows.append({**where, "classes": len(np.unique(test_y)),
                                "accuracy": balanced_accuracy(model, test_x, test_y),
                                "chance": chance_level(test_y)})
            concept_rows += [{"concept": f"gt_{family.name}_{value}", **where,
                              "auc": linear_detector_auc(train_x, train_y, test_x, test_y, value,
                                                         seed, max_iter),
                              "share": float(np.mean(test_y == value))}
                             for value in family.concepts]
    return pd.DataFrame(family_rows), pd.DataFrame(concept_rows)


def expected_level(family_modality: str, embedding: str) -> str:
    """``high`` where the family is visible to ``embedding`` (bimodal, or its own modality),
    ``chance`` where it is not (the other modality), ``not gated`` for the attribute."""
    if family_modality == "bimodal" or family_modality == embedding:
        return "high"
    if family_modality in MODALITIES:
        return "chance"
    return NOT_GATED


def unimodal_threshold(setting: float | Mapping[str, float], encoder: str) -> float:
    """``min_unimodal``: one number, or encoder name → number."""
    if not isinstance(setting, Mapping):
        return float(setting)
    if encoder not in setting:
        raise ValueError(f"encoder_gates.min_unimodal has no entry for encoder {encoder!r}; "
                         f"add one (it has {sorted(setting)})")
    return float(setting[encoder])


def probe_gate(row: Mapping, settings: Mapping, encoder: str,
               shown_rates: Mapping[str, float] | None = None) -> dict[str, object]:
    """ceiling, expected, gate (``≥`` / ``≤`` / ""), threshold and passed (pass / fail / not
    gated) of one probe row: high → accuracy ≥ min_bimodal or min_unimodal[encoder]; chance →
    accuracy ≤ ceiling + max_above_chance, the ceiling from the rate at which the other
    modality shows the family (``shown_rates``, family → rate; absent = 0)."""
    expected = expected_level(row["family_modality"], row["embedding"])
    ceiling = row["chance"]
    if expected == NOT_GATED:
        return {"ceiling": float("nan"), "expected": expected, "gate": "",
                "threshold": float("nan"), "passed": NOT_GATED}
    if expected == "chance":
        ceiling = shown_ceiling(row["chance"], (shown_rates or {}).get(row["family"], 0.0))
        threshold = ceiling + settings["max_above_chance"]
        ok = row["accuracy"] <= threshold
        return {"ceiling": ceiling, "expected": expected, "gate": "≤", "threshold": threshold,
                "passed": PASS if ok else FAIL}
    threshold = (settings["min_bimodal"] if row["family_modality"] == "bimodal"
                 else unimodal_threshold(settings["min_unimodal"], encoder))
    return {"ceiling": float("nan"), "expected": expected, "gate": "≥",
            "threshold": float(threshold),
            "passed": PASS if row["accuracy"] >= threshold else FAIL}


def gate_probes(probes: pd.DataFrame, settings: Mapping, encoder: str,
                shown_rates: Mapping[str, float] | None = None) -> pd.DataFrame:
    """``probes`` (rows of :func:`family_probes`) with encoder, ceiling, expected, gate,
    threshold and passed columns, in :data:`PROBE_COLUMNS` order."""
    gates = pd.DataFrame([probe_gate(row, settings, encoder, shown_rates)
                          for _, row in probes.iterrows()],
                         columns=["ceiling", "expected", "gate", "threshold", "passed"],
                         index=probes.index)
    table = pd.concat([probes.assign(encoder=encoder), gates], axis=1)
    return table.reindex(columns=list(PROBE_COLUMNS))


def gates_passed(passed: Sequence[str]) -> str:
    """``"k of n"``: gates that pass among those gated (``not gated`` rows are not counted)."""
    gated = [p for p in passed if p != NOT_GATED]
    return f"{sum(p == PASS for p in gated)} of {len(gated)}"


def scalar_gates(row: Mapping, settings: Mapping) -> dict[str, str]:
    """pass / fail of each encoder-table value against its minimum (:data:`SCALAR_GATES`), for
    the values the row has (zero-shot exists on toyworld only)."""
    out = {}
    for column, (setting, name) in SCALAR_GATES.items():
        value = row.get(column)
        if value is not None and setting in settings and not pd.isna(value):
            out[name] = PASS if value >= settings[setting] else FAIL
    return out


def encoder_probe_tables(name: str, train: Embeddings, test: Embeddings, settings: Mapping,
                         seed: int, families: Sequence[Family] = FAMILIES,
                         shown_rates: Mapping[str, float] | None = None
                         ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(gated probe table, concept table) of encoder ``name``: probes fitted on
    ``settings["probe_pairs"]`` pairs of ``train`` (seeded subsample), scored on ``test``;
    ``shown_rates`` as in :func:`probe_gate`. Concept table columns:
    :data:`CONCEPT_PROBE_COLUMNS`."""
    sample = train.subsample(settings["probe_pairs"], seed)
    probes, concepts = probe_tables(sample, test, seed, settings["max_iter"], families)
    concepts = concepts.assign(encoder=name).reindex(columns=list(CONCEPT_PROBE_COLUMNS))
    return gate_probes(probes, settings, name, shown_rates), concepts


def encoder_probe_table(name: str, train: Embeddings, test: Embeddings, settings: Mapping,
                        seed: int, families: Sequence[Family] = FAMILIES,
                        shown_rates: Mapping[str, float] | None = None) -> pd.DataFrame:
    """The gated probe table of :func:`encoder_probe_tables`."""
    return encoder_probe_tables(name, train, test, settings, seed, families, shown_rates)[0]


def empty_probe_table() -> pd.DataFrame:
    """The probe table's header with no rows (datasets without toyworld's families)."""
    return pd.DataFrame(columns=list(PROBE_COLUMNS))


def empty_concept_probe_table() -> pd.DataFrame:
    """The concept table's header with no rows."""
    return pd.DataFrame(columns=list(CONCEPT_PROBE_COLUMNS))
