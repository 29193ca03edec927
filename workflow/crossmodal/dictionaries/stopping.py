"""Paper A's stopping rule (appendix A.1, figures 11–12) and the learning-rate plan that goes
with it.

The rule watches, per modality, the number of latents active on a batch's b images and on its
b texts, averaged over a window of W steps:

    a_I(w) = (1/W) Σ_{t in window w} #{j : max_{i ≤ b} |z_I[i, j]| > 0}   (a_T(w) alike).

It keeps an anchor window w₀ and counts the windows since it; a window whose counts are both
within ``tolerance`` · n of the anchor's, |a_m(w) − a_m(w₀)| ≤ tolerance · n for m ∈ {I, T}
(n latents), is flat; any other window becomes the new anchor. Training stops once ``patience``
windows in a row are flat: the inactive share 1 − a_m / n (paper A's "sparsity") of neither
modality moved by more than ``tolerance`` over ``patience`` windows. Measured against n rather
than a_m so that a dictionary whose counts settle low is not held to a finer absolute bar.
A rise resets the anchor too: early in training the counts can climb before they fall (as on
toyclip), and a climbing count is no plateau.

With the rule on, the learning rate is

    lr(t) = lr · min(1, (t + 1) / warmup, max(0, (s + D − t) / D)),

linear warm-up, then constant, then a linear decay to 0 over D = ``decay_steps`` steps from the
step s after the rule fired; s is at most T − D (T = epochs · steps per epoch), so a run that
reaches its epoch limit has annealed as well. Training ends at step s + D.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ActiveLatentStopping:
    """The plateau rule on per-window active counts of a dictionary of ``n_latents`` latents;
    ``update`` returns True when to stop."""

    n_latents: int
    patience: int
    tolerance: float
    anchor: tuple[float, float] | None = field(default=None, init=False)
    flat_windows: int = field(default=0, init=False)

    def __post_init__(self):
        if self.patience < 1:
            raise ValueError(f"patience = {self.patience} must be ≥ 1")
        if self.tolerance < 0:
            raise ValueError(f"tolerance = {self.tolerance} must be ≥ 0")

    def is_flat(self, counts: tuple[float, float]) -> bool:
        """Both counts within ``tolerance`` · n of the anchor's."""
        return self.anchor is not None and all(
            abs(count - reference) <= self.tolerance * self.n_latents
            for count, reference in zip(counts, self.anchor, strict=True)
        )

    def update(self, image_count: float, text_count: float) -> bool:
        """Take one window's mean active counts; True once ``patience`` flat windows in a row."""
        counts = (float(image_count), float(text_count))
        if self.is_flat(counts):
            self.flat_windows += 1
        else:
            self.anchor, self.flat_windows = counts, 0
        return self.flat_windows >= self.patience


def plateau_lr(step: int, peak: float, warmup_steps: int, decay_start: int,
               decay_steps: int) -> float:
    """lr(t) = peak · min(1, (t + 1) / warmup, max(0, (decay_start + decay_steps − t) /
    decay_steps)): the learning rate of step t (0-based)."""
    warm = (step + 1) / warmup_steps if warmup_steps > 0 else 1.0
    decay = max(0.0, (decay_start + decay_steps - step) / decay_steps)
    return peak * min(1.0, warm, decay)


@dataclass
class PlateauSchedule:
    """Warm-up → constant → linear decay to 0 over ``decay_steps``; the decay starts
    ``decay_steps`` before ``max_steps`` unless :meth:`begin_decay` moves it earlier."""

    peak: float
    warmup_steps: int
    decay_steps: int
    max_steps: int
    decay_start: int = field(init=False)

    def __post_init__(self):
        if not 1 <= self.decay_steps <= self.max_steps:
            raise ValueError(f"decay_steps = {self.decay_steps} must be in 1..{self.max_steps} "
                             "(the steps of the whole run)")
        self.decay_start = self.max_steps - self.decay_steps

    def lr(self, step: int) -> float:
        """The learning rate of step ``step``."""
        return plateau_lr(step, self.peak, self.warmup_steps, self.decay_start, self.decay_steps)

    def begin_decay(self, step: int) -> None:
        """Start the decay at ``step`` (the step after the rule fired), if that is earlier."""
        self.decay_start = min(self.decay_start, step)

    @property
    def end(self) -> int:
        """Steps the run takes: decay start + decay_steps."""
        return self.decay_start + self.decay_steps

    def phase(self, step: int) -> str:
        """warmup, constant or decay: which part of the plan step ``step`` is in."""
        if step >= self.decay_start:
            return "decay"
        return "warmup" if step < self.warmup_steps else "constant"


@dataclass
class WindowMeans:
    """Per-step (image, text) active counts → their means over consecutive windows of
    ``steps`` steps: ``add`` returns (mean a_I, mean a_T) when a window is complete, else None."""

    steps: int
    image: list[float] = field(default_factory=list, init=False)
    text: list[float] = field(default_factory=list, init=False)

    def add(self, image_count: float, text_count: float) -> tuple[float, float] | None:
        self.image.append(float(image_count))
        self.text.append(float(text_count))
        return self.flush() if len(self.image) == self.steps else None

    def flush(self) -> tuple[float, float] | None:
        """The means of the window so far (None when it is empty); starts a new window."""
        if not self.image:
            return None
        means = (sum(self.image) / len(self.image), sum(self.text) / len(self.text))
        self.image, self.text = [], []
        return means
