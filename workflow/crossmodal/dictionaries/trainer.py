"""Train a dictionary on paired image/text embeddings.

Every step takes b pairs; the image and the text of a pair are in the same batch (paper B §4.1),
stacked as x = [X_I; X_T] (2b, d). The loss is

* autoencoders: ‖x − x̂‖² (summed over d, mean over rows) + the method's own term (L1, L0 …)
  + β · L_align(Z_I, Z_T) (paper B eq. 1; β = 0 is the plain SAE, β > 0 SAE-A);
* NCL: InfoNCE between g(X_I) and g(X_T) (paper A eq. 3).

Adam with a one-cycle learning-rate schedule and gradient clipping (paper B defaults: lr 5e-4,
clip 1.0, 5 epochs). Each step logs the loss terms, MSE, R² (paper B E.2.1), L0, the number of
latents active on the batch's images and texts (paper A figures 11–12) and, for dictionaries with
trained atoms, how far the atoms have moved from their initial values D₀ (K, d):
``atom_cosine_to_init`` = mean_k cos(D_k, D₀_k) — near 1 means the "dictionary" is still its
initialisation (for a data initialisation, a store of training examples). With
``stop_when_active_stable`` training ends once the per-epoch number of active latents of both
modalities has not decreased for ``patience`` epochs (paper A appendix A.1's stopping rule).
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
    patience: int = 2
    checkpoint_every: int = 0  # steps; 0 = no intermediate checkpoints
    seed: int = 0
    device: str = "cpu"

    def __post_init__(self):
        if self.beta < 0:
            raise ValueError(f"beta = {self.beta} must be ≥ 0 (0 = plain SAE)")
        if self.batch_size < 2:
            raise ValueError(f"batch_size = {self.batch_size} must be ≥ 2")


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
    mean = torch.cat([image_t, text_t]).mean(0)
    generator = torch.Generator().manual_seed(config.seed)
    model.initialise(torch.cat([image_t, text_t]), generator)
    initial_atoms = (model.dictionary.detach().clone()
                     if model.has_decoder and model.dictionary.requires_grad else None)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    scheduler = _one_cycle(optimizer, config.lr, steps_per_epoch * config.epochs)

    rows, active_history = [], []
    last_good = copy.deepcopy(model.state_dict())
    start = time.perf_counter()
    bar = tqdm(
        total=steps_per_epoch * config.epochs,
        desc=f"train {model.method}",
        file=progress_file,
        mininterval=10,
    )
    for epoch in range(config.epochs):
        order = torch.randperm(n, generator=generator).to(device)
        active_image = torch.zeros(model.n_latents, dtype=torch.bool, device=device)
        active_text = torch.zeros_like(active_image)
        for b in range(steps_per_epoch):
            index = order[b * batch : (b + 1) * batch]
            loss, codes, terms = _batch_loss(model, image_t[index], text_t[index], config, mean)
            step = len(rows)
            if not torch.isfinite(loss):
                raise TrainingDiverged(
                    f"loss is {loss.item()} at step {step} (epoch {epoch}); lower lr or beta",
                    last_good,
                )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
            scheduler.step()
            model.after_step()
            l0, on_image, on_text = _activity(codes.detach(), len(index))
            active_image |= on_image
            active_text |= on_text
            logged = {"loss": loss.detach(), **terms, "l0": l0,
                      "active_image": on_image.sum(), "active_text": on_text.sum()}
            if initial_atoms is not None:
                logged["atom_cosine_to_init"] = atom_cosine_to_init(model.dictionary.detach(),
                                                                    initial_atoms)
            values = torch.stack([v.float() for v in logged.values()]).tolist()
            rows.append(
                {
                    "step": step,
                    "epoch": epoch,
                    **dict(zip(logged, values, strict=True)),
                    "lr": scheduler.get_last_lr()[0],
                    "seconds": time.perf_counter() - start,
                }
            )
            if step % 10 == 0:
                last_good = copy.deepcopy(model.state_dict())
            if (
                config.checkpoint_every
                and on_checkpoint
                and (step + 1) % config.checkpoint_every == 0
            ):
                on_checkpoint(step + 1, copy.deepcopy(model.state_dict()))
            bar.update(1)
        active_history.append((int(active_image.sum()), int(active_text.sum())))
        if config.stop_when_active_stable and _active_stable(active_history, config.patience):
            break
    bar.close()
    model.eval()
    return pd.DataFrame(rows)


def _active_stable(history: list[tuple[int, int]], patience: int) -> bool:
    """True when neither modality's epoch-level active count has decreased in the last
    ``patience`` epochs."""
    if len(history) <= patience:
        return False
    recent = history[-(patience + 1) :]
    return all(recent[i + 1][m] >= recent[i][m] for i in range(patience) for m in (0, 1))
