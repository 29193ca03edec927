"""Train a dictionary on paired image/text embeddings.

Every step takes b pairs; the image and the text of a pair are in the same batch (paper B §4.1),
stacked as x = [X_I; X_T] (2b, d). The loss is

* autoencoders: ‖x − x̂‖² (summed over d, mean over rows) + the method's own term (L1, L0 …)
  + β · L_align(Z_I, Z_T) (paper B eq. 1; β = 0 is the plain SAE, β > 0 SAE-A);
* NCL: InfoNCE between g(X_I) and g(X_T) (paper A eq. 3).

Adam with gradient clipping (paper B defaults: lr 5e-4, clip 1.0, 5 epochs) and a one-cycle
learning-rate schedule over every step of every epoch. Each step logs the loss terms, MSE, R²
(paper B E.2.1), L0, the number of latents active on the batch's images and texts (paper A
figures 11–12), their means over windows of W steps (``window``, ``window_active_image``,
``window_active_text`` on each window's last step; W = ``window_steps``, default a quarter
epoch) and, for dictionaries with trained atoms, how far the atoms have moved from their initial
values D₀ (K, d): ``atom_cosine_to_init`` = mean_k cos(D_k, D₀_k) — near 1 means the
"dictionary" is still its initialisation (for a data initialisation, a store of training
examples).

With ``stop_when_active_stable`` (paper A appendix A.1) the window means feed
:class:`~crossmodal.dictionaries.stopping.ActiveLatentStopping`, and the learning rate is
warm-up → constant → a linear decay to 0 over ``decay_steps`` that starts when the rule fires
(or ``decay_steps`` before the ``epochs`` limit); training ends when the decay does. The log's
``phase`` (warmup / constant / decay, or one_cycle) and ``rule_fired`` (the window where the rule
fired) mark where.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from crossmodal.dictionaries.alignment import alignment_penalty
from crossmodal.dictionaries.base import Dictionary
from crossmodal.dictionaries.stopping import ActiveLatentStopping, PlateauSchedule, WindowMeans


class TrainingDiverged(FloatingPointError):
    """The loss became NaN/inf; ``last_good_state`` holds the weights of the last finite step."""

    def __init__(self, message: str, last_good_state: dict | None):
        super().__init__(message)
        self.last_good_state = last_good_state


@dataclass(frozen=True)
class DictionaryTraining:
    epochs: int = 5
    batch_size: int = 512
    lr: float = 5e-4
    grad_clip: float = 1.0
    beta: float = 0.0
    alignment: str = "paper"
    stop_when_active_stable: bool = False
    patience: int = 3  # windows
    tolerance: float = 0.01  # change of a window's active counts, as a share of n, still flat
    window_steps: int | None = None  # None: a quarter epoch
    warmup_steps: int | None = None  # None: one window (rule on only)
    decay_steps: int | None = None  # None: one window (rule on only)
    checkpoint_every: int = 0  # steps; 0 = no intermediate checkpoints
    seed: int = 0
    device: str = "cpu"

    def __post_init__(self):
        if self.beta < 0:
            raise ValueError(f"beta = {self.beta} must be ≥ 0 (0 = plain SAE)")
        if self.batch_size < 2:
            raise ValueError(f"batch_size = {self.batch_size} must be ≥ 2")
        if self.patience < 1 or not 0 <= self.tolerance <= 1:
            raise ValueError(f"patience = {self.patience} must be ≥ 1 and tolerance = "
                             f"{self.tolerance} in [0, 1]")
        for name in ("window_steps", "decay_steps"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ValueError(f"{name} = {getattr(self, name)} must be ≥ 1")
        if self.warmup_steps is not None and self.warmup_steps < 0:
            raise ValueError(f"warmup_steps = {self.warmup_steps} must be ≥ 0")


def per_instance_r2(x: torch.Tensor, x_hat: torch.Tensor, mean: torch.Tensor) -> torch.Tensor:
    """R² = E_i[1 − ‖x_i − x̂_i‖² / ‖x_i − x̄‖²] (paper B E.2.1, with x̄ the data mean)."""
    residual = (x - x_hat).pow(2).sum(-1)
    spread = (x - mean).pow(2).sum(-1).clamp_min(1e-12)
    return (1 - residual / spread).mean()


def _batch_loss(
    model: Dictionary,
    image: torch.Tensor,
    text: torch.Tensor,
    config: DictionaryTraining,
    mean: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
    """Loss, codes (2b, K) and the logged terms as 0-d tensors (read out once per step)."""
    b = len(image)
    x = torch.cat([image, text])
    if not model.has_decoder:
        codes = model.encode(x)
        loss = model.contrastive_loss(codes[:b], codes[b:])
        return loss, codes, {"contrastive": loss.detach()}
    codes, x_hat = model(x)
    mse = (x - x_hat).pow(2).sum(-1).mean()
    auxiliary = model.auxiliary_loss(x, codes)
    # the penalty is logged for every SAE, but only differentiated when it is in the loss
    with torch.set_grad_enabled(config.beta > 0 and torch.is_grad_enabled()):
        align = alignment_penalty(codes[:b], codes[b:], config.alignment)
    loss = mse + auxiliary + config.beta * align if config.beta > 0 else mse + auxiliary
    with torch.no_grad():
        r2 = per_instance_r2(x, x_hat, mean)
    terms = {"mse": mse.detach(), "auxiliary": auxiliary.detach(), "align": align.detach(),
             "r2": r2}
    return loss, codes, terms


def _activity(codes: torch.Tensor, b: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mean L0 of the 2b rows, and which latents fire on the b images / the b texts."""
    l0 = torch.count_nonzero(codes) / len(codes)
    magnitude = codes.abs()
    return l0, magnitude[:b].amax(0) > 0, magnitude[b:].amax(0) > 0


def atom_cosine_to_init(atoms: torch.Tensor, initial: torch.Tensor) -> torch.Tensor:
    """mean_k cos(D_k, D₀_k) of atoms (K, d) and their initial values (K, d); 0-d tensor."""
    return torch.nn.functional.cosine_similarity(atoms, initial, dim=-1).mean()


def _one_cycle(optimizer, lr: float, total_steps: int):
    return torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=lr, total_steps=max(total_steps, 2)
    )


def window_steps(config: DictionaryTraining, steps_per_epoch: int) -> int:
    """W: ``window_steps``, else a quarter epoch (at least one step)."""
    return config.window_steps or max(1, round(steps_per_epoch / 4))


class _LearningRate:
    """The learning-rate plan of a run: paper B's one-cycle over every step of every epoch, or
    (rule on) warm-up → constant → decay to 0 once the rule fires (:class:`PlateauSchedule`).
    ``after_step(t)`` sets the rate of step t + 1 and returns it (the logged ``lr``)."""

    def __init__(self, optimizer, config: DictionaryTraining, max_steps: int, window: int):
        self.optimizer = optimizer
        self.one_cycle = None if config.stop_when_active_stable else _one_cycle(
            optimizer, config.lr, max_steps)
        self.plan = None
        if config.stop_when_active_stable:
            decay = config.decay_steps or min(window, max_steps)
            warmup = window if config.warmup_steps is None else config.warmup_steps
            self.plan = PlateauSchedule(config.lr, warmup, decay, max_steps)
            self._set(self.plan.lr(0))
        self.max_steps = max_steps

    def _set(self, lr: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    @property
    def end(self) -> int:
        """The number of steps the run takes (moves earlier when the rule fires)."""
        return self.plan.end if self.plan else self.max_steps

    def phase(self, step: int) -> str:
        return self.plan.phase(step) if self.plan else "one_cycle"

    def after_step(self, step: int) -> float:
        if self.one_cycle is not None:
            self.one_cycle.step()
            return self.one_cycle.get_last_lr()[0]
        lr = self.plan.lr(step + 1)
        self._set(lr)
        return lr


def _rule_fires(rule: ActiveLatentStopping | None, means, step: int, window: int,
                schedule: _LearningRate) -> bool:
    """Feed a complete window to the rule if the whole window ran at constant lr."""
    if rule is None or means is None or schedule.phase(step) != "constant":
        return False
    if step + 1 - window < schedule.plan.warmup_steps:
        return False
    return rule.update(*means)


def train_dictionary(
    model: Dictionary,
    image: np.ndarray,
    text: np.ndarray,
    config: DictionaryTraining,
    on_checkpoint: Callable[[int, dict], None] | None = None,
    progress_file=None,
) -> pd.DataFrame:
    """Train ``model`` in place on paired (N, d) embeddings; returns the per-step log."""
    device = torch.device(config.device)
    image_t = torch.as_tensor(image, dtype=torch.float32, device=device)
    text_t = torch.as_tensor(text, dtype=torch.float32, device=device)
    if image_t.shape != text_t.shape or image_t.shape[1] != model.d:
        raise ValueError(
            f"embeddings {tuple(image_t.shape)}/{tuple(text_t.shape)} do not fit a "
            f"dictionary of dimension d = {model.d}"
        )
    model.to(device).train()
    if not any(p.requires_grad for p in model.parameters()):
        model.eval()
        return pd.DataFrame(columns=["step", "epoch", "loss"])  # nothing to learn (identity)
    n = len(image_t)
    batch = min(config.batch_size, n)
    steps_per_epoch = max(1, n // batch)
    max_steps = steps_per_epoch * config.epochs
    window = window_steps(config, steps_per_epoch)
    mean = torch.cat([image_t, text_t]).mean(0)
    generator = torch.Generator().manual_seed(config.seed)
    model.initialise(torch.cat([image_t, text_t]), generator)
    initial_atoms = (model.dictionary.detach().clone()
                     if model.has_decoder and model.dictionary.requires_grad else None)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    schedule = _LearningRate(optimizer, config, max_steps, window)
    rule = (ActiveLatentStopping(model.n_latents, config.patience, config.tolerance)
            if config.stop_when_active_stable else None)
    windows = WindowMeans(window)

    rows = []
    last_good = copy.deepcopy(model.state_dict())
    start = time.perf_counter()
    bar = tqdm(total=max_steps, desc=f"train {model.method}", file=progress_file, mininterval=10)
    step = 0
    while step < schedule.end:
        epoch, position = divmod(step, steps_per_epoch)
        if position == 0:
            order = torch.randperm(n, generator=generator).to(device)
        index = order[position * batch : (position + 1) * batch]
        loss, codes, terms = _batch_loss(model, image_t[index], text_t[index], config, mean)
        if not torch.isfinite(loss):
            raise TrainingDiverged(
                f"loss is {loss.item()} at step {step} (epoch {epoch}); lower lr or beta",
                last_good,
            )
        phase = schedule.phase(step)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        lr = schedule.after_step(step)
        model.after_step()
        row = {"step": step, "epoch": epoch,
               **_step_values(model, codes.detach(), len(index), terms, loss, initial_atoms)}
        means = windows.add(row["active_image"], row["active_text"])
        fired = _rule_fires(rule, means, step, window, schedule)
        if fired:
            schedule.plan.begin_decay(step + 1)
            lr = schedule.plan.lr(step + 1)
        if step + 1 == schedule.end and means is None:
            means = windows.flush()  # the last, partial window
        rows.append({**row, "lr": lr, "seconds": time.perf_counter() - start, "phase": phase,
                     **_window_columns(step, window, means), "rule_fired": fired})
        if step % 10 == 0:
            last_good = copy.deepcopy(model.state_dict())
        if config.checkpoint_every and on_checkpoint and (step + 1) % config.checkpoint_every == 0:
            on_checkpoint(step + 1, copy.deepcopy(model.state_dict()))
        bar.update(1)
        step += 1
    bar.close()
    model.eval()
    return pd.DataFrame(rows)


def _step_values(model: Dictionary, codes: torch.Tensor, b: int, terms: dict,
                 loss: torch.Tensor, initial_atoms: torch.Tensor | None) -> dict[str, float]:
    """The step's logged numbers: loss terms, L0, active latents on the b images / b texts and
    the atoms' cosine to their initial values; read out of the device in one transfer."""
    l0, on_image, on_text = _activity(codes, b)
    logged = {"loss": loss.detach(), **terms, "l0": l0,
              "active_image": on_image.sum(), "active_text": on_text.sum()}
    if initial_atoms is not None:
        logged["atom_cosine_to_init"] = atom_cosine_to_init(model.dictionary.detach(),
                                                            initial_atoms)
    values = torch.stack([v.float() for v in logged.values()]).tolist()
    return dict(zip(logged, values, strict=True))


def _window_columns(step: int, window: int, means: tuple[float, float] | None) -> dict:
    """``window`` = t // W and, on a window's last step, its mean active counts (else NaN)."""
    image_mean, text_mean = means if means is not None else (float("nan"), float("nan"))
    return {"window": step // window, "window_active_image": image_mean,
            "window_active_text": text_mean}
