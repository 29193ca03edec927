"""Train the toy CLIP on toyworld pairs with ``open_clip.ClipLoss``.

Objective: the symmetric InfoNCE of CLIP with a learned temperature, initialised high
(``init_logit_scale``) and clamped to ≤ ``max_logit_scale`` (open_clip uses 100). A high scale
preserves the cone effect of random initialisation (Liang et al. 2022), which is what gives the
toy encoder a real modality gap. With ``self_supervision > 0`` (the DeCLIP analogue) the loss adds
``self_supervision · (ClipLoss(img, img′) + ClipLoss(txt, txt′)) / 2`` over augmented views.

Batches are shuffled pairs, or (``group_size`` g > 1) minimal-pair batches: runs of g pairs that
agree on every shared concept family but one, the free family drawn per pair and epoch
(``batch_order``). A web-scale CLIP sees so many negatives that every shared concept is needed to
tell a caption's image from the rest; a toy batch of 128 is told apart by the two or three
easiest families, and the others (toyworld's shape, typographic word, attribute cue) are never
learned. Minimal pairs in the batch give each family that pressure (hard negatives, as in
NegCLIP, Yuksekgonul et al. 2023).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import open_clip
import pandas as pd
import torch
from tqdm import tqdm

from crossmodal.encoders.augment import image_view, text_view
from crossmodal.encoders.tokenizer import WordTokenizer


@dataclass(frozen=True)
class TrainingConfig:
    """The ``training`` block of a toy encoder's config."""

    epochs: int = 8
    batch_size: int = 256
    lr: float = 2e-3
    weight_decay: float = 0.1
    warmup_steps: int = 50
    grad_clip: float = 1.0
    self_supervision: float = 0.0
    max_logit_scale: float = 100.0
    group_size: int = 1
    seed: int = 0

    @classmethod
    def from_mapping(cls, values: Mapping) -> TrainingConfig:
        return cls(**{k: values[k] for k in cls.__dataclass_fields__ if k in values})


def pixel_statistics(images: np.ndarray) -> tuple[list[float], list[float]]:
    """Per-channel mean and std of uint8 images ``(N, H, W, 3)``, on the 0–1 scale."""
    flat = images.reshape(-1, 3).astype(np.float64) / 255.0
    return flat.mean(0).tolist(), flat.std(0).tolist()


def to_pixels(images: np.ndarray, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """uint8 ``(b, H, W, 3)`` → normalised float ``(b, 3, H, W)`` (channels-last memory)."""
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float().div_(255.0)
    x = (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)
    return x.contiguous(memory_format=torch.channels_last)


def batch_order(n: int, families: np.ndarray | None, group_size: int, rng: np.random.Generator
                ) -> np.ndarray:
    """A permutation of the n pairs for one epoch: uniform when ``group_size`` ≤ 1; otherwise
    minimal-pair runs. ``families`` (n, F) holds integer codes of F concept families per pair.
    Every pair draws one family f uniformly; pairs that drew the same f and agree on all the
    other F − 1 families form a key; each key's pairs, in random order, are cut into runs of
    ``group_size`` (a key's last run may be shorter); the runs are shuffled and concatenated.
    Consecutive batches thus hold runs of pairs that differ (at most) in one family."""
    if group_size <= 1:
        return rng.permutation(n)
    codes = np.asarray(families, dtype=np.int64)
    free = rng.integers(0, codes.shape[1], size=n)
    masked = codes.copy()
    masked[np.arange(n), free] = -1
    _, keys = np.unique(np.column_stack([free, masked]), axis=0, return_inverse=True)
    shuffled = rng.permutation(n)
    by_key = shuffled[np.argsort(keys[shuffled], kind="stable")]
    sorted_keys = keys[by_key]
    new_key = np.r_[True, sorted_keys[1:] != sorted_keys[:-1]]
    starts = np.flatnonzero(new_key)
    rank = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
    run_id = np.cumsum(new_key | (rank % group_size == 0)) - 1
    position = np.empty(run_id[-1] + 1, dtype=np.int64)
    position[rng.permutation(len(position))] = np.arange(len(position))
    return by_key[np.argsort(position[run_id], kind="stable")]


def cosine_schedule(step: int, total: int, warmup: int) -> float:
    """Learning-rate multiplier: linear warm-up, then cosine decay to 0."""
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def train_toy_clip(
    model: torch.nn.Module,
    tokenizer: WordTokenizer,
    images: np.ndarray,
    captions: Sequence[str],
    config: TrainingConfig,
    mean: Sequence[float],
    std: Sequence[float],
    progress_file=None,
    families: np.ndarray | None = None,
) -> pd.DataFrame:
    """Train ``model`` in place on ``images`` (uint8 ``(N, H, W, 3)``) and ``captions``;
    ``families`` (N, F) integer concept codes for minimal-pair batches (``config.group_size`` > 1).

    Returns the per-step log: step, epoch, loss, clip_loss, self_loss, logit_scale, lr, seconds.
    """
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    order_rng = np.random.default_rng(config.seed)
    tokens = tokenizer(list(captions))
    n = len(captions)
    if config.group_size > 1 and (families is None or len(families) != n):
        raise ValueError(f"group_size {config.group_size} needs the concept codes of every "
                         "training pair")
    steps_per_epoch = n // config.batch_size
    if steps_per_epoch == 0:
        raise ValueError(f"{n} training pairs is fewer than one batch of {config.batch_size}")
    total = steps_per_epoch * config.epochs

    model.visual.to(memory_format=torch.channels_last)
    model.train()
    loss_fn = open_clip.ClipLoss()
    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]
    optimizer = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": config.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=config.lr,
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: cosine_schedule(s, total, config.warmup_steps)
    )

    rows = []
    start = time.perf_counter()
    bar = tqdm(total=total, desc="train toy clip", file=progress_file, mininterval=10)
    for epoch in range(config.epochs):
        order = batch_order(n, families, config.group_size, order_rng)
        for b in range(steps_per_epoch):
            index = np.sort(order[b * config.batch_size : (b + 1) * config.batch_size])
            pixels = to_pixels(images[index], mean, std)
            text = tokens[index]
            out = model(pixels, text)
            clip_loss = loss_fn(out["image_features"], out["text_features"], out["logit_scale"])
            self_loss = torch.zeros(())
            if config.self_supervision > 0:
                scale = out["logit_scale"]
                image_pair = model.encode_image(image_view(pixels, generator), normalize=True)
                text_pair = model.encode_text(text_view(text, generator), normalize=True)
                self_loss = (
                    loss_fn(out["image_features"], image_pair, scale)
                    + loss_fn(out["text_features"], text_pair, scale)
                ) / 2
            loss = clip_loss + config.self_supervision * self_loss
            if not torch.isfinite(loss):
                raise FloatingPointError(f"non-finite loss at step {len(rows)}, epoch {epoch}")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
            scheduler.step()
            with torch.no_grad():
                model.logit_scale.clamp_(0, math.log(config.max_logit_scale))
            rows.append(
                {
                    "step": len(rows),
                    "epoch": epoch,
                    "loss": loss.item(),
                    "clip_loss": clip_loss.item(),
                    "self_loss": self_loss.item(),
                    "logit_scale": model.logit_scale.exp().item(),
                    "lr": scheduler.get_last_lr()[0],
                    "seconds": time.perf_counter() - start,
                }
            )
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
    bar.close()
    model.eval()
    return pd.DataFrame(rows)
