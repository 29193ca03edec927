"""Verdicts: does a reproduced table or figure support the claim the paper makes with it?

Every claim the workflow reproduces has a function here that states the claim in its docstring
and checks it on *our* columns of a result CSV — never on hard-coded results. Toyworld is a
synthetic world and the toy encoders are tiny, so absolute numbers are not comparable with the
papers'; the checks test the qualitative claim (an ordering, a sign, a near-equality).

Every number a check reads carries the half-width of its 95 % interval (the table's ``<C> ±``
column, see :mod:`crossmodal.metrics.uncertainty`; a table without one is read as exact). A check
compares intervals, not means:

* **holds** — the paper's direction, the two intervals apart (low end of the larger above the
  high end of the smaller);
* **does not hold** — the opposite direction, the intervals apart;
* **inconclusive** — the intervals overlap (a tie included);
* **not comparable** — a value is missing, a group is empty, or both values sit at the same
  bound of a bounded score (a share or an accuracy at 1, a share at 0: nothing left to order).

A claim holds when every check holds; it does not hold when any check fails; otherwise it is
inconclusive when any check is, and not comparable when the rest hold. ``CLAIMS`` lists every
claim in paper order; ``VERDICTS`` maps a table file to its own claim; ``NO_COUNTERPART`` says why
a table without a paper counterpart is not compared. A table whose layout does not match its
builder raises :class:`VerdictError` with one line.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

import pandas as pd

from crossmodal.errors import CrossmodalError
from crossmodal.metrics.uncertainty import interval_column
from crossmodal.tables.paper_b import METRIC_LABELS
from crossmodal.tables.paper_b_interventions import (
    MEASURE_LABELS,
    METHOD_LABELS,
    TABLE12_LABELS,
)

HOLDS = "holds"
FAILS = "does not hold"
INCONCLUSIVE = "inconclusive"
NOT_COMPARABLE = "not comparable"
OUTCOMES = (HOLDS, FAILS, INCONCLUSIVE, NOT_COMPARABLE)
PAPER = "(paper)"
R2_TOLERANCE = 0.05  # paper B table 1: "reconstruction is nearly identical" (CLIP: ΔR² = 0.022)
GAP_FRACTION = 0.5  # paper B table 6: a gap "of the paper's size" is at least half its DiM
CEILING_MARGIN = 0.005  # a bounded score this close to its ceiling is saturated
Z95 = 1.959964  # normal quantile of a 95 % interval (binomial shares of latent counts)


class VerdictError(CrossmodalError):
    """A table's layout does not match what its verdict reads (one line naming the table)."""


class _NotComparable(Exception):
    """Raised inside a verdict function when a value the claim needs is missing."""


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking one claim: ``status`` (one of OUTCOMES), the ``claim`` in words
    and the ``evidence``: the numbers (with intervals) that decide it."""

    status: str
    claim: str
    evidence: str = ""

    @property
    def reason(self) -> str:
        return f"{self.claim} — {self.evidence}" if self.evidence else self.claim

    def __str__(self) -> str:
        return f"{self.status}: {self.reason}"


@dataclass(frozen=True)
class Check:
    """One comparison of a claim: its outcome (HOLDS, FAILS, INCONCLUSIVE or NOT_COMPARABLE)
    and a description with the numbers."""

    outcome: str
    text: str


@dataclass(frozen=True)
class Estimate:
    """A number and the half-width of its 95 % interval (NaN: no interval known, read as 0)."""

    value: float
    half_width: float = math.nan

    @property
    def spread(self) -> float:
        return 0.0 if math.isnan(self.half_width) else self.half_width

    @property
    def low(self) -> float:
        return self.value - self.spread

    @property
    def high(self) -> float:
        return self.value + self.spread


# --- helpers ------------------------------------------------------------------------------------

def _fmt(value: float, digits: int = 3) -> str:
    return f"{value:.{digits}g}"


def _pair(a: float, b: float) -> tuple[str, str]:
    """``a`` and ``b`` with 3 significant digits, more (up to 6) when they would read equal."""
    digits = 3
    while digits < 6 and a != b and _fmt(a, digits) == _fmt(b, digits):
        digits += 1
    return _fmt(a, digits), _fmt(b, digits)


def _number(value, what: str) -> float:
    """``value`` as a float; a NaN / missing value makes the claim not comparable."""
    try:
        number = float(value) if value is not None else math.nan
    except (TypeError, ValueError):
        raise VerdictError(f"{what}: {value!r} is not a number") from None
    if math.isnan(number):
        raise _NotComparable(f"{what} is missing (NaN)")
    return number


def _estimate(value, what: str) -> Estimate:
    """``value`` (a number or an Estimate) as an Estimate; NaN → not comparable."""
    if isinstance(value, Estimate):
        return Estimate(_number(value.value, what), value.half_width)
    return Estimate(_number(value, what))


def _show(estimate: Estimate, text: str) -> str:
    return text if estimate.spread == 0 else f"{text} ± {_fmt(estimate.spread, 2)}"


def _saturated(a: Estimate, b: Estimate, ceiling: float | None, floor: float | None) -> str:
    """The bound both values sit at ("" when none): nothing is left to order there."""
    if ceiling is not None and min(a.value, b.value) >= ceiling - CEILING_MARGIN:
        return f"both at the ceiling {_fmt(ceiling)}"
    if floor is not None and max(a.value, b.value) <= floor + CEILING_MARGIN:
        return f"both at the floor {_fmt(floor)}"
    return ""


def _order(name_a: str, a, name_b: str, b, larger: bool, ceiling: float | None,
           floor: float | None = None) -> Check:
    """The check that ``a`` is above (``larger``) or below ``b``, on their intervals."""
    a, b = _estimate(a, name_a), _estimate(b, name_b)
    text_a, text_b = (_show(e, t) for e, t in zip((a, b), _pair(a.value, b.value), strict=True))
    if larger:
        sign = ">" if a.value > b.value else "≤"
    else:
        sign = "<" if a.value < b.value else "≥"
    text = f"{name_a} {text_a} {sign} {name_b} {text_b}"
    bound = _saturated(a, b, ceiling, floor)
    if bound:
        return Check(NOT_COMPARABLE, f"{text} ({bound})")
    first, second = (a, b) if larger else (b, a)
    if first.low > second.high:
        return Check(HOLDS, text)
    if first.high < second.low:
        return Check(FAILS, text)
    return Check(INCONCLUSIVE, f"{text} (intervals overlap)")


def greater(name_a: str, a, name_b: str, b, ceiling: float | None = None,
            floor: float | None = None) -> Check:
    """The check ``a > b`` beyond both intervals; ``ceiling`` / ``floor``: the bounds of a
    bounded score (a share, an accuracy), where two values cannot be ordered: not comparable."""
    return _order(name_a, a, name_b, b, True, ceiling, floor)


def less(name_a: str, a, name_b: str, b, ceiling: float | None = None,
         floor: float | None = None) -> Check:
    """The check ``a < b`` beyond both intervals (bounds as :func:`greater`)."""
    return _order(name_a, a, name_b, b, False, ceiling, floor)


def close(name: str, a, b, tolerance: float) -> Check:
    """The check ``|a − b| ≤ tolerance``: holds when |a − b| plus both half-widths is within
    it, fails when |a − b| minus both half-widths exceeds it, inconclusive in between."""
    a, b = _estimate(a, name), _estimate(b, name)
    gap, slack = abs(a.value - b.value), a.spread + b.spread
    text = f"|Δ{name}| {_fmt(gap)}" + (f" ± {_fmt(slack, 2)}" if slack else "")
    if gap + slack <= tolerance:
        return Check(HOLDS, f"{text} ≤ {_fmt(tolerance)}")
    if gap - slack > tolerance:
        return Check(FAILS, f"{text} > {_fmt(tolerance)}")
    return Check(INCONCLUSIVE, f"{text} straddles {_fmt(tolerance)}")


def binomial_share(count: float, total: float, what: str) -> Estimate:
    """The share count / total with the half-width of its normal (Wald) 95 % interval,
    z · √(p (1 − p) / n): the share of latents in a group, resampling latents."""
    count, total = _number(count, what), _number(total, f"total of {what}")
    if total <= 0:
        raise _NotComparable(f"{what}: no latents")
    share = count / total
    return Estimate(share, Z95 * math.sqrt(share * (1 - share) / total))


MAX_LISTED = 4  # checks named in one verdict line; the rest are counted


def _listing(texts: Sequence[str]) -> str:
    shown = "; ".join(texts[:MAX_LISTED])
    return shown + (f" (+{len(texts) - MAX_LISTED} more)" if len(texts) > MAX_LISTED else "")


def decide(claim: str, checks: Sequence[Check]) -> Verdict:
    """FAILS when any check fails, else INCONCLUSIVE when any is, else NOT_COMPARABLE when any
    is (saturated), else HOLDS; the evidence names the deciding checks first."""
    if not checks:
        raise _NotComparable("nothing to compare")
    for outcome, words in ((FAILS, "fail"), (INCONCLUSIVE, "are inconclusive"),
                           (NOT_COMPARABLE, "are not comparable")):
        deciding = [c.text for c in checks if c.outcome == outcome]
        if deciding:
            return Verdict(outcome, claim, f"{len(deciding)} of {len(checks)} checks {words}: "
                                           f"{_listing(deciding)}")
    return Verdict(HOLDS, claim, _listing([c.text for c in checks]))


def _require(frame: pd.DataFrame, columns: Sequence[str], table: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise VerdictError(f"{table}: missing column(s) {missing}; it has {list(frame.columns)}")


def _half_width(row: pd.Series, column: str) -> float:
    """The ``<column> ±`` cell of ``row``, NaN when the table has none."""
    name = interval_column(column)
    if name not in row.index:
        return math.nan
    try:
        return float(row[name])
    except (TypeError, ValueError):
        return math.nan


def _value(row: pd.Series, column: str, what: str) -> Estimate:
    """``row[column]`` with its half-width; NaN value → not comparable."""
    return Estimate(_number(row[column], what), _half_width(row, column))


def _row(frame: pd.DataFrame, key: str, label: str, table: str) -> pd.Series:
    rows = frame[frame[key].astype(str) == label]
    if rows.empty:
        raise _NotComparable(f"no row {key}={label!r}")
    if len(rows) > 1:
        raise VerdictError(f"{table}: {len(rows)} rows with {key}={label!r}, expected one")
    return rows.iloc[0]


def _cell(frame: pd.DataFrame, key: str, label: str, column: str, table: str) -> Estimate:
    """The ``column`` value (with its interval) of the single row whose ``key`` equals ``label``."""
    return _value(_row(frame, key, label, table), column, f"{column} of {label}")


def _ours(columns: Sequence[str], exclude: Sequence[str] = ()) -> list[str]:
    """The columns holding our numbers: not the paper's, not intervals, not ``exclude``."""
    return [c for c in columns if not str(c).endswith(PAPER) and c not in exclude
            and not str(c).endswith(" ±")]


def _per_encoder(encoders: Sequence[str], table: str,
                 checks: Callable[[str], list[Check]]) -> list[Check]:
    """``checks(encoder)`` for every encoder, each text prefixed with the encoder."""
    if not encoders:
        raise VerdictError(f"{table}: no column with our numbers (only the paper's)")
    return [Check(c.outcome, f"{encoder}: {c.text}") for encoder in encoders
            for c in checks(encoder)]


# --- paper A ------------------------------------------------------------------------------------

MDS_MODELS = ("CLIP", "DeCLIP", "CLIP+NCL", "CLIP+SAE")


def paper_a_figure1(frame: pd.DataFrame) -> Verdict:
    """Paper A figure 1 (§2.2): CLIP's MDS distribution skews towards the image modality (more
    ImgD than TextD latents), DeCLIP's is more balanced and less centred (a smaller CrossD share
    than CLIP's), and the SAE's is the most balanced (the smallest CrossD share of all models).
    Read from the group counts of ``paperA_table5.csv``; each share carries the binomial 95 %
    interval over the model's latents. NCL's "less skewness" is not tested: the paper gives no
    measure of it."""
    table = "paperA_table5.csv"
    _require(frame, ["model", "n_ImgD", "n_TextD", "n_CrossD"], table)

    def share(model: str, group: str) -> Estimate:
        row = _row(frame, "model", model, table)
        total = sum(_number(row[f"n_{g}"], f"n_{g} of {model}") for g in ("ImgD", "TextD", "CrossD"))
        return binomial_share(row[f"n_{group}"], total, f"{group} share of {model}")

    checks = [greater("CLIP ImgD share", share("CLIP", "ImgD"), "TextD share",
                      share("CLIP", "TextD")),
              less("DeCLIP CrossD share", share("DeCLIP", "CrossD"), "CLIP",
                   share("CLIP", "CrossD"))]
    checks += [less("CLIP+SAE CrossD share", share("CLIP+SAE", "CrossD"), other,
                    share(other, "CrossD")) for other in MDS_MODELS if other != "CLIP+SAE"]
    return decide("CLIP skews to images, DeCLIP more balanced, SAE most balanced", checks)


def paper_a_table1(frame: pd.DataFrame) -> Verdict:
    """Paper A table 1 (§4.1): removing ImgD drops the attribute accuracy more than removing
    TextD or random latents when the input is an image, and removing TextD drops it more when
    the input is text. Checked per classifier on our drops (pp) and their intervals."""
    table = "paperA_table1.csv"
    _require(frame, ["classifier", "input", "w/o ImgD", "w/o TextD", "w/o Random"], table)
    own = {"image": ("ImgD", "TextD"), "text": ("TextD", "ImgD")}
    checks = []
    for _, row in frame.iterrows():
        if row["input"] not in own:
            raise VerdictError(f"{table}: input {row['input']!r} is neither 'image' nor 'text'")
        mine, other = own[row["input"]]
        where = f"{row['classifier']}, {row['input']} input: w/o"
        drop = {g: _value(row, f"w/o {g}", f"{where} {g}") for g in (mine, other, "Random")}
        checks += [greater(f"{where} {mine}", drop[mine], other, drop[other]),
                   greater(f"{where} {mine}", drop[mine], "Random", drop["Random"])]
    return decide("removing the input modality's own group drops accuracy most", checks)


def paper_a_table2(frame: pd.DataFrame) -> Verdict:
    """Paper A table 2 (§4.1): the female concept is carried by images — removing ImgD from
    images drops its accuracy (a drop: > 0) and more than removing TextD from texts — and the
    male concept by texts (the reverse). Checked on our classes mapped to female / male
    (``paper class``)."""
    table = "paperA_table2.csv"
    image, text = "w/o ImgD (image input)", "w/o TextD (text input)"
    _require(frame, ["classifier", "class", image, text, "paper class"], table)
    checks = []
    for _, row in frame.iterrows():
        where = f"{row['classifier']}, {row['class']} (≙ {row['paper class']}):"
        drops = {"ImgD-from-images": _value(row, image, f"{where} {image}"),
                 "TextD-from-texts": _value(row, text, f"{where} {text}")}
        if row["paper class"] == "female":
            carrier, other = "ImgD-from-images", "TextD-from-texts"
        elif row["paper class"] == "male":
            carrier, other = "TextD-from-texts", "ImgD-from-images"
        else:
            continue
        checks += [greater(f"{where} {carrier}", drops[carrier], "no drop", 0.0),
                   greater(f"{where} {carrier}", drops[carrier], other, drops[other])]
    if not checks:
        raise _NotComparable("no class maps to the paper's female / male "
                             "(case_studies.attribute.paper_classes)")
    return decide("female ≙ image-carried, male ≙ text-carried (drops, not gains)", checks)


DEFENDED = ("random", "ImgD", "TextD", "CrossD")


def paper_a_table3(frame: pd.DataFrame) -> Verdict:
    """Paper A table 3 (§4.2): every alignment defence lowers the attack success rate below the
    undefended attack, and the groups order as the paper's do: TextD < CrossD < ImgD, with
    TextD (the group that carries the harmful text's meaning) below random latents too."""
    table = "paperA_table3.csv"
    _require(frame, ["defence", "success_mean"], table)
    ours = {d: _cell(frame, "defence", d, "success_mean", table) for d in ("none", *DEFENDED)}
    checks = [less(f"success with {d}", ours[d], "none", ours["none"]) for d in DEFENDED]
    checks += [less("success with TextD", ours["TextD"], "CrossD", ours["CrossD"]),
               less("success with CrossD", ours["CrossD"], "ImgD", ours["ImgD"]),
               less("success with TextD", ours["TextD"], "random", ours["random"])]
    return decide("alignment defends; TextD < CrossD < ImgD and TextD < random", checks)


def _mono(frame: pd.DataFrame, model: str, column: str, table: str) -> Estimate:
    return _cell(frame, "model", model, column, table)


def paper_a_table4(frame: pd.DataFrame) -> Verdict:
    """Paper A table 4 (§3.1.1): the sparse models (CLIP+NCL, CLIP+SAE) have the highest
    monosemanticity, Mono = (EmbSim + WinRate)/2, for both activated images and texts, above
    CLIP and DeCLIP; DeCLIP's textual Mono is even below CLIP's. Read from ``mono_image`` /
    ``mono_text`` and their intervals."""
    table = "paperA_table4.csv"
    _require(frame, ["model", "mono_image", "mono_text"], table)

    def mono(model: str, modality: str) -> Estimate:
        return _mono(frame, model, f"mono_{modality}", table)

    checks = [greater(f"Mono {modality} {sparse}", mono(sparse, modality), dense,
                      mono(dense, modality))
              for modality in ("image", "text") for sparse in ("CLIP+NCL", "CLIP+SAE")
              for dense in ("CLIP", "DeCLIP")]
    checks.append(less("Mono text DeCLIP", mono("DeCLIP", "text"), "CLIP", mono("CLIP", "text")))
    return decide("NCL and SAE most monosemantic; DeCLIP worse on texts", checks)


def paper_a_table5(frame: pd.DataFrame) -> Verdict:
    """Paper A table 5 (§3.1.2, figure 3), with Mono = (EmbSim + WinRate)/2: CLIP's Visual and
    Textual Mono are negative (entangled modalities), every other model improves both over
    CLIP, and CLIP+NCL is the best on both. Read from ``visual_mono`` / ``textual_mono``."""
    table = "paperA_table5.csv"
    _require(frame, ["model", "visual_mono", "textual_mono"], table)
    models = MDS_MODELS

    def mono(model: str, kind: str) -> Estimate:
        return _mono(frame, model, f"{kind}_mono", table)

    checks = []
    for kind in ("visual", "textual"):
        checks.append(less(f"{kind} Mono CLIP", mono("CLIP", kind), "zero", 0.0))
        checks += [greater(f"{kind} Mono {m}", mono(m, kind), "CLIP", mono("CLIP", kind))
                   for m in models[1:]]
        checks += [greater(f"{kind} Mono CLIP+NCL", mono("CLIP+NCL", kind), m, mono(m, kind))
                   for m in models[1:] if m != "CLIP+NCL"]
    return decide("CLIP entangled, all others better, NCL best", checks)


TEXT_CUE_SHARE = "text_cue_share"


def paper_a_table6(frame: pd.DataFrame) -> Verdict:
    """Paper A table 6 (appendix A.4.1): as the share of TextD among a caption's most active
    latents grows, its top words move to what the text modality carries (the paper: party/hip
    → football/basketball). On toyworld the text-carried words are the attribute's text cue:
    the share of captions naming it (``text_cue_share``) is higher in the highest-TextD-share
    bucket than in the lowest."""
    table = "paperA_table6.csv"
    _require(frame, ["bucket", "mean_share", TEXT_CUE_SHARE], table)
    checks = []
    for label, part in (frame.groupby("class") if "class" in frame else [("all", frame)]):
        if part["bucket"].nunique() < 2:
            continue
        ordered = part.sort_values("mean_share")
        low, high = ordered.iloc[0], ordered.iloc[-1]
        checks.append(greater(f"{label}: cue share at TextD share {_fmt(high['mean_share'])}",
                              _value(high, TEXT_CUE_SHARE, "cue share"),
                              f"at {_fmt(low['mean_share'])}",
                              _value(low, TEXT_CUE_SHARE, "cue share"), ceiling=1.0,
                              floor=0.0))
    if not checks:
        raise _NotComparable("fewer than 2 TextD-share buckets per class, a trend needs at "
                             "least 2 (case_studies.attribute.buckets)")
    return decide("captions dominated by TextD name the text-carried cue more", checks)


CONTROL_GROUPS = ("TextD", "ImgD")


def paper_a_case_study3(frame: pd.DataFrame) -> Verdict:
    """Paper A case study 3 (§4.3, figures 10 and 14): interpolating towards a reference image
    on TextD moves the generated image's high-level semantics (the main subject's shape) to the
    reference more than ImgD does, while ImgD moves low-level visual detail (the background
    texture) more than TextD does. Compared at the largest weight w, where the judged shares of
    the two groups differ only by the group interpolated (every group shares w = 0)."""
    table = "control_measures.csv"
    _require(frame, ["group", "w", "share_shape_match", "share_texture_match"], table)
    if "decoder_gate" in frame and (frame["decoder_gate"].astype(str) != "pass").any():
        raise _NotComparable("the decoder failed its gate (control_decoder_quality.csv): its "
                             "samples do not show what they are conditioned on")
    at_max = frame[frame["w"] == frame["w"].max()]
    rows = {g: _row(at_max, "group", g, table) for g in CONTROL_GROUPS}
    w = _fmt(float(frame["w"].max()))

    def share(group: str, attribute: str) -> Estimate:
        return _value(rows[group], f"share_{attribute}_match", f"{attribute} match of {group}")

    return decide("TextD moves semantics (shape), ImgD low-level detail (texture)", [
        greater(f"w {w}: shape match TextD", share("TextD", "shape"), "ImgD",
                share("ImgD", "shape"), ceiling=1.0, floor=0.0),
        greater(f"w {w}: texture match ImgD", share("ImgD", "texture"), "TextD",
                share("TextD", "texture"), ceiling=1.0, floor=0.0)])


ICLR_OWN = {"Image CLS": ("ImgD", "TextD"), "Text CLS": ("TextD", "ImgD")}


def paper_a_iclr_table1(frame: pd.DataFrame) -> Verdict:
    """Paper A (ICLR version) table 1 (§2.2): removing ImgD lowers image-classification accuracy
    more than removing TextD or as many random latents, and removing TextD lowers text-
    classification accuracy more than removing ImgD or as many random latents. Accuracies at
    the ceiling (1) cannot be lowered measurably: those comparisons are not comparable."""
    table = "paperA_iclr_table1.csv"
    _require(frame, ["task", "deletion", "n_latents", "accuracy"], table)
    checks = []
    for task, (own, other) in ICLR_OWN.items():
        rows = frame[frame["task"] == task]
        if rows.empty:
            raise _NotComparable(f"no {task} rows")
        own_row = rows[rows["deletion"] == own]
        random = rows[(rows["deletion"] == "Random")
                      & (rows["n_latents"] == own_row["n_latents"].iloc[0])] \
            if len(own_row) else own_row
        accuracy = {}
        for name, part in ((own, own_row), (other, rows[rows["deletion"] == other]),
                           ("Random", random)):
            if part.empty:
                raise _NotComparable(f"{task} accuracy without {name} is missing")
            accuracy[name] = _value(part.iloc[0], "accuracy", f"{task} accuracy without {name}")
        checks += [less(f"{task} w/o {own}", accuracy[own], other, accuracy[other], ceiling=1.0),
                   less(f"{task} w/o {own}", accuracy[own], "Random", accuracy["Random"],
                        ceiling=1.0)]
    return decide("each modality's own group matters most for its classification", checks)


# --- paper B ------------------------------------------------------------------------------------

def _metric(frame: pd.DataFrame, metric: str, column: str, table: str) -> Estimate:
    """Our ``column`` value of the row labelled METRIC_LABELS[metric], with its interval."""
    rows = frame[frame["metric"] == METRIC_LABELS[metric]]
    if rows.empty:
        raise VerdictError(f"{table}: no row {METRIC_LABELS[metric]!r}")
    if column not in frame.columns:
        raise VerdictError(f"{table}: missing column {column!r}")
    return _value(rows.iloc[0], column, f"{METRIC_LABELS[metric]} of {column}")


def paper_b_table1(frame: pd.DataFrame) -> Verdict:
    """Paper B table 1: the aligned SAE-A raises ρ and FDA over the plain SAE while the
    reconstruction stays nearly identical (|ΔR²| ≤ R2_TOLERANCE). Checked per encoder."""
    table = "paperB_table1.csv"
    _require(frame, ["metric"], table)
    encoders = [c[: -len(" SAE")] for c in _ours(frame.columns, ["metric"]) if c.endswith(" SAE")]

    def checks(e: str) -> list[Check]:
        a, s = f"{e} SAE-A", f"{e} SAE"
        return [greater("ρ SAE-A", _metric(frame, "rho", a, table), "SAE",
                        _metric(frame, "rho", s, table)),
                greater("FDA SAE-A", _metric(frame, "fda", a, table), "SAE",
                        _metric(frame, "fda", s, table)),
                close("R²", _metric(frame, "r2", a, table), _metric(frame, "r2", s, table),
                      R2_TOLERANCE)]

    return decide("SAE-A raises ρ and FDA at equal reconstruction",
                  _per_encoder(encoders, table, checks))


def paper_b_table2(frame: pd.DataFrame) -> Verdict:
    """Paper B table 2 (§5): concept-based queries Q_SAE stay in distribution — their OOD score
    (a share, at most 1) is lower than the classical query Q's. Checked for every encoder row."""
    table = "paperB_table2.csv"
    _require(frame, ["model", "Q", "Q_SAE"], table)
    encoders = [m for m in frame["model"].astype(str) if not m.endswith(PAPER)]
    return decide("OOD(Q_SAE) < OOD(Q)", _per_encoder(encoders, table, lambda e: [
        less("OOD Q_SAE", _cell(frame, "model", e, "Q_SAE", table), "Q",
             _cell(frame, "model", e, "Q", table), ceiling=1.0)]))


def _architecture_table(frame: pd.DataFrame, table: str) -> Verdict:
    """Paper B tables 3 and 4 (appendix A): the matching-pursuit SAEs (SAE, SAE-A) reconstruct
    best — lower MSE than every other architecture — and SAE-A has a higher ρ than SAE."""
    _require(frame, ["metric", "SAE", "SAE-A"], table)
    others = _ours(frame.columns, ["metric", "conventions", "SAE", "SAE-A"])
    if not others:
        raise _NotComparable("no architecture besides SAE and SAE-A (paper_b.<table>.columns)")
    checks = [less(f"MSE {mp}", _metric(frame, "mse", mp, table), other,
                   _metric(frame, "mse", other, table))
              for mp in ("SAE", "SAE-A") for other in others]
    checks.append(greater("ρ SAE-A", _metric(frame, "rho", "SAE-A", table), "SAE",
                          _metric(frame, "rho", "SAE", table)))
    return decide("MP SAEs reconstruct best; SAE-A raises ρ", checks)


def paper_b_table3(frame: pd.DataFrame) -> Verdict:
    """Paper B table 3 (expansion 8): see :func:`_architecture_table`."""
    return _architecture_table(frame, "paperB_table3.csv")


def paper_b_table4(frame: pd.DataFrame) -> Verdict:
    """Paper B table 4 (expansion 64): see :func:`_architecture_table`."""
    return _architecture_table(frame, "paperB_table4.csv")


def paper_b_table5(frame: pd.DataFrame) -> Verdict:
    """Paper B table 5 (appendix C): when the data satisfy the Iso-Energy Assumption
    (experiment 2) SAE-A recovers the true dictionary and codes better than SAE — lower
    Wasserstein distance W and higher mean matching accuracy mma (at most 1)."""
    table = "paperB_table5.csv"
    _require(frame, ["experiment", "model", "W", "mma"], table)
    iso = frame[frame["experiment"] == "experiment2"]
    if iso.empty:
        raise _NotComparable("no experiment2 rows (the Iso-Energy case)")
    w = {m: _cell(iso, "model", m, "W", table) for m in ("SAE", "SAE-A")}
    mma = {m: _cell(iso, "model", m, "mma", table) for m in ("SAE", "SAE-A")}
    return decide("under Iso-Energy SAE-A recovers the atoms better",
                  [less("W SAE-A", w["SAE-A"], "SAE", w["SAE"]),
                   greater("mma SAE-A", mma["SAE-A"], "SAE", mma["SAE"], ceiling=1.0)])


def paper_b_table6(frame: pd.DataFrame) -> Verdict:
    """Paper B table 6 (appendix D), the reference row of ``encoders.csv``: every encoder has a
    modality gap, DiM between the image and text means at least GAP_FRACTION of the paper's
    CLIP value (its six models range 0.51–1.13)."""
    table = "encoders.csv"
    _require(frame, ["encoder", "backend", "gap_dim"], table)
    reference = frame[frame["backend"] == "reference"]
    if reference.empty:
        raise _NotComparable("no paper reference row (backend 'reference')")
    paper = _number(reference["gap_dim"].iloc[0], "paper's DiM")
    encoders = frame[frame["backend"] != "reference"]["encoder"].astype(str).tolist()
    return decide(f"a modality gap of the paper's size (≥ {GAP_FRACTION:g} × {_fmt(paper)})",
                  _per_encoder(encoders, table, lambda e: [
                      greater("DiM", _cell(frame, "encoder", e, "gap_dim", table),
                              f"{GAP_FRACTION:g} × paper", GAP_FRACTION * paper)]))


def _query(frame: pd.DataFrame, encoder: str, query: str, table: str) -> Estimate:
    return _cell(frame, "query", query, encoder, table)


def paper_b_table7(frame: pd.DataFrame) -> Verdict:
    """Paper B table 7 (appendix H): Q_SAE's OOD score is lower than Q's for every encoder."""
    table = "paperB_table7.csv"
    _require(frame, ["query"], table)
    encoders = _ours(frame.columns, ["query", "label"])
    return decide("OOD(Q_SAE) < OOD(Q)", _per_encoder(encoders, table, lambda e: [
        less("OOD Q_SAE", _query(frame, e, "sae", table), "Q", _query(frame, e, "sum", table),
             ceiling=1.0)]))


def paper_b_table8(frame: pd.DataFrame) -> Verdict:
    """Paper B table 8 (appendix H): Q_SAE retrieves the targets better than Q — higher
    (R@10 + R@50)/2 within batches — for every encoder."""
    table = "paperB_table8.csv"
    _require(frame, ["query"], table)
    encoders = [c for c in _ours(frame.columns, ["query", "label"])
                if not str(c).endswith("(gallery)")]
    return decide("retrieval(Q_SAE) > retrieval(Q)", _per_encoder(encoders, table, lambda e: [
        greater("recall Q_SAE", _query(frame, e, "sae", table), "Q",
                _query(frame, e, "sum", table), ceiling=1.0)]))


def _gap_value(frame: pd.DataFrame, encoder: str, measure: str, method: str) -> Estimate:
    rows = frame[(frame["measure"] == MEASURE_LABELS[measure])
                 & (frame["method"] == METHOD_LABELS[method])]
    if rows.empty:
        raise _NotComparable(f"no row {MEASURE_LABELS[measure]} / {METHOD_LABELS[method]}")
    return _value(rows.iloc[0], encoder, f"{MEASURE_LABELS[measure]} of {METHOD_LABELS[method]}")


def _gap_table(frame: pd.DataFrame, table: str, recall: str | None) -> Verdict:
    """Paper B tables 9–11 (appendix I): the bimodal projection (Ĩ, T̃) closes the gap in
    distribution — W below the centring baseline's (which closes DiM but leaves W untouched)
    and below the unchanged embeddings' — and lowers DiM; on tables 9–10 the shift method has
    the lowest ``recall`` of all methods ("by far the worst")."""
    _require(frame, ["measure", "method"], table)

    def checks(e: str) -> list[Check]:
        def v(measure: str, method: str) -> Estimate:
            return _gap_value(frame, e, measure, method)

        found = [less("W ours", v("w", "bimodal"), "centre", v("w", "centre")),
                 less("W ours", v("w", "bimodal"), "unchanged", v("w", "reconstructed")),
                 less("DiM ours", v("dim", "bimodal"), "unchanged", v("dim", "reconstructed"))]
        if recall:
            found += [less(f"{recall} shift", v(recall, "shift"), m, v(recall, m))
                      for m in METHOD_LABELS if m != "shift"]
        return found

    claim = "ours closes the gap in distribution" + (", shift worst at recall" if recall else "")
    return decide(claim, _per_encoder(_ours(frame.columns, ["measure", "method"]), table, checks))


def paper_b_table9(frame: pd.DataFrame) -> Verdict:
    """Paper B table 9 (train split ≙ LAION): see :func:`_gap_table` (with recall@1)."""
    return _gap_table(frame, "paperB_table9.csv", "recall@1")


def paper_b_table10(frame: pd.DataFrame) -> Verdict:
    """Paper B table 10 (test split ≙ COCO): see :func:`_gap_table` (with recall@1)."""
    return _gap_table(frame, "paperB_table10.csv", "recall@1")


def paper_b_table11(frame: pd.DataFrame) -> Verdict:
    """Paper B table 11 (shifted split ≙ ImageNet): see :func:`_gap_table`; its zero-shot rows
    carry no ordering claim (the paper's own random baseline is below the shift method)."""
    return _gap_table(frame, "paperB_table11.csv", None)


def paper_b_table12(frame: pd.DataFrame) -> Verdict:
    """Paper B table 12 (appendix L): our bimodal projection removes the gap best of all
    methods and baselines — the lowest OOD score and the lowest RMG."""
    table = "paperB_table12.csv"
    _require(frame, ["method"], table)
    encoders = [c[: -len(" OOD")] for c in _ours(frame.columns, ["method"]) if c.endswith(" OOD")]
    ours, rest = TABLE12_LABELS["bimodal"], [v for k, v in TABLE12_LABELS.items()
                                            if k != "bimodal"]

    def checks(e: str) -> list[Check]:
        return [less(f"{measure} ours", _cell(frame, "method", ours, f"{e} {measure}", table),
                     other, _cell(frame, "method", other, f"{e} {measure}", table),
                     ceiling=1.0 if measure == "OOD" else None)
                for measure in ("OOD", "RMG") for other in rest]

    return decide("ours has the lowest OOD and RMG", _per_encoder(encoders, table, checks))


# --- registry -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Claim:
    """One claim of a paper: where it is (``paper``, ``item``), the result file it is checked
    on, the claim in a few words and the function that checks it."""

    paper: str
    item: str
    source: str
    statement: str
    check: Callable[[pd.DataFrame], Verdict]

    @property
    def label(self) -> str:
        return f"{self.paper} {self.item}"


def _b(number: int, source: str, statement: str, check) -> Claim:
    return Claim("paper B", f"table {number}", source, statement, check)


# every claim in paper order: paper A's (NeurIPS text) items, its ICLR version, paper B's tables
CLAIMS: list[Claim] = [
    Claim("paper A", "figure 1", "paperA_table5.csv",
          "CLIP skews to images; DeCLIP is more balanced; the SAE is the most balanced",
          paper_a_figure1),
    Claim("paper A", "table 1", "paperA_table1.csv",
          "removing the input modality's own group drops the attribute accuracy most",
          paper_a_table1),
    Claim("paper A", "table 2", "paperA_table2.csv",
          "female is carried by images, male by texts", paper_a_table2),
    Claim("paper A", "table 3", "paperA_table3.csv",
          "every defence lowers attack success; TextD < CrossD < ImgD, TextD < random",
          paper_a_table3),
    Claim("paper A", "table 4", "paperA_table4.csv",
          "NCL and SAE are the most monosemantic; DeCLIP is worse on texts", paper_a_table4),
    Claim("paper A", "table 5", "paperA_table5.csv",
          "CLIP's modality Mono is negative; every other model is better; NCL is best",
          paper_a_table5),
    Claim("paper A", "table 6", "paperA_table6.csv",
          "captions dominated by TextD name what the text carries", paper_a_table6),
    Claim("paper A", "case study 3 (figures 10, 14)", "control_measures.csv",
          "TextD moves the subject's shape, ImgD the low-level texture", paper_a_case_study3),
    Claim("paper A (ICLR)", "table 1", "paperA_iclr_table1.csv",
          "each modality's own group matters most for its classification", paper_a_iclr_table1),
    _b(1, "paperB_table1.csv", "SAE-A raises ρ and FDA at equal reconstruction", paper_b_table1),
    _b(2, "paperB_table2.csv", "concept queries stay in distribution (lower OOD)",
       paper_b_table2),
    _b(3, "paperB_table3.csv", "MP SAEs reconstruct best; SAE-A raises ρ (expansion 8)",
       paper_b_table3),
    _b(4, "paperB_table4.csv", "MP SAEs reconstruct best; SAE-A raises ρ (expansion 64)",
       paper_b_table4),
    _b(5, "paperB_table5.csv", "under Iso-Energy SAE-A recovers the true atoms better",
       paper_b_table5),
    _b(6, "encoders.csv", "every encoder has a modality gap of the paper's size",
       paper_b_table6),
    _b(7, "paperB_table7.csv", "concept queries have lower OOD scores", paper_b_table7),
    _b(8, "paperB_table8.csv", "concept queries retrieve the targets better", paper_b_table8),
    _b(9, "paperB_table9.csv", "the bimodal projection closes the gap in distribution (LAION)",
       paper_b_table9),
    _b(10, "paperB_table10.csv", "the bimodal projection closes the gap in distribution (COCO)",
       paper_b_table10),
    _b(11, "paperB_table11.csv",
       "the bimodal projection closes the gap in distribution (ImageNet)", paper_b_table11),
    _b(12, "paperB_table12.csv", "the bimodal projection has the lowest OOD and RMG",
       paper_b_table12),
]


@dataclass(frozen=True)
class Entry:
    """The paper table a result file reproduces and the function that checks its claim."""

    paper_table: str
    check: Callable[[pd.DataFrame], Verdict]


# result file → the paper table it reproduces (a file also read by a figure's claim keeps its
# table's entry here)
def _file_entries() -> dict[str, Entry]:
    entries: dict[str, Entry] = {}
    for claim in sorted(CLAIMS, key=lambda c: not c.item.startswith("table")):
        entries.setdefault(claim.source, Entry(claim.label, claim.check))
    return {c.source: entries[c.source] for c in CLAIMS}


VERDICTS: dict[str, Entry] = _file_entries()

# glob on the file name → why the table is not compared with a paper
NO_COUNTERPART: dict[str, str] = {
    "dictionaries.csv": "a run summary of the trained dictionaries; neither paper prints one",
    "encoder_probes.csv": "probes of toyworld's concept families against their known modality; "
                          "the papers' real data have no such labels",
    "groundtruth_*.csv": "toyworld's known concepts; the papers' real data have no ground truth",
    "paperA_mono_groundtruth.csv": "Mono against toyworld's ground truth, which real data lack",
    "attribute_asymmetry.csv": "paper A table 2's reading checked against toyworld's configured "
                               "cue strengths, not against a paper number",
    "adversarial_runs.csv": "the per-run rows behind paperA_table3.csv",
    "control_decoder_quality.csv": "the gate of case study 3's decoder; the paper uses a "
                                   "pretrained generator",
}
DEFAULT_NO_COUNTERPART = "no table of either paper corresponds to this file"


def paper_table(name: str) -> str:
    """The paper table ``name`` (a result file name) reproduces, or "" when none."""
    entry = VERDICTS.get(name)
    return entry.paper_table if entry else ""


def verdict_for(name: str, frame: pd.DataFrame,
                registry: Mapping[str, Entry] | None = None) -> Verdict:
    """The verdict on the table file ``name`` with content ``frame``: its registered check, or
    NOT_COMPARABLE with the reason it has no paper counterpart. Raises VerdictError (one line)
    when the table's layout does not match its check."""
    entry = (VERDICTS if registry is None else registry).get(name)
    if entry is None:
        why = next((reason for pattern, reason in NO_COUNTERPART.items()
                    if fnmatchcase(name, pattern)), DEFAULT_NO_COUNTERPART)
        return Verdict(NOT_COMPARABLE, why)
    try:
        return entry.check(frame)
    except _NotComparable as missing:
        return Verdict(NOT_COMPARABLE, f"{entry.paper_table}'s claim needs data the table lacks: "
                                       f"{missing}")
    except KeyError as error:
        raise VerdictError(f"{name}: no {error} in the table (columns {list(frame.columns)})") \
            from None


def _checked(claim: Claim, name: str, frame: pd.DataFrame) -> Verdict:
    try:
        return claim.check(frame)
    except _NotComparable as missing:
        return Verdict(NOT_COMPARABLE, claim.statement, f"needs data {name} lacks: {missing}")


def evaluate_claims(frames: Mapping[str, pd.DataFrame | str | None],
                    claims: Sequence[Claim] | None = None) -> list[tuple[Claim, Verdict]]:
    """The verdict of every claim (paper order) on ``frames`` ({file name: table}; a missing
    file, or a message why it could not be read, makes its claims not comparable). A table whose
    layout does not match its check gives a NOT_COMPARABLE verdict naming the error, so one bad
    table never hides the others."""
    results = []
    for claim in CLAIMS if claims is None else claims:
        frame = frames.get(claim.source)
        if frame is None:
            verdict = Verdict(NOT_COMPARABLE, claim.statement, f"{claim.source} was not produced")
        elif isinstance(frame, str):
            verdict = Verdict(NOT_COMPARABLE, claim.statement, f"{claim.source}: {frame}")
        else:
            try:
                verdict = _checked(claim, claim.source, frame)
            except (VerdictError, KeyError) as error:
                verdict = Verdict(NOT_COMPARABLE, claim.statement, f"layout error: {error}")
        results.append((claim, verdict))
    return results


def claims_frame(frames: Mapping[str, pd.DataFrame | str | None]) -> pd.DataFrame:
    """One row per claim: paper, item, claim, evidence (our numbers with their intervals),
    outcome, source file."""
    return pd.DataFrame([{"paper": claim.paper, "item": claim.item, "claim": claim.statement,
                          "evidence": verdict.evidence, "outcome": verdict.status,
                          "source": claim.source}
                         for claim, verdict in evaluate_claims(frames)])
