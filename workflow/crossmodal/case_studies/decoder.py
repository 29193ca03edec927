"""A small embedding-conditioned diffusion decoder: the unCLIP idea on toyworld (DESIGN §3, §7.3).

The decoder p(x | e) generates a 32×32 RGB image x from an encoder embedding e (d,). The
embedding is first standardised, ẽ = (e − μ) / σ (μ the mean training embedding, σ one scalar:
contrastive embeddings sit in a narrow cone and would otherwise barely vary). It then enters a
``diffusers.UNet2DModel`` twice:

* like Stable unCLIP, through the class-embedding path: MLP(ẽ) is added to the timestep
  embedding, which scales and shifts every residual block's GroupNorm output (FiLM,
  ``resnet_time_scale_shift="scale_shift"``) — *what* to draw;
* as a coarse spatial map: MLP(ẽ) reshaped to (c, r, r), bilinearly upsampled to 32×32 and
  concatenated to the noisy image as c extra input channels — *where* to draw it. (Without it,
  ~1000 CPU steps learn colour but hardly layout or shape.) With ``coarse_weight`` λ > 0 the
  first 3 of those channels are also trained to *be* the image at r × r, as in cascaded
  diffusion (Ho et al. 2022) where a low-resolution image conditions the next stage: a plain
  regression, which learns in a few hundred steps what the diffusion loss alone needs thousands
  for, and which the UNet then only has to sharpen.

Training (DDPM, noise prediction): x0 ∈ [-1, 1]^(3×32×32), t ~ U{0 … T−1}, ε ~ N(0, I),
x_t = √ᾱ_t x0 + √(1 − ᾱ_t) ε, loss = w(t) ‖ε̂(x_t, t, e) − ε‖² + λ ‖M(ẽ)₀:₃ − ↓x0‖² with the
min-SNR weight w(t) = min(SNR(t), γ) / SNR(t) (Hang et al. 2023; γ = None gives w = 1), M the
spatial map before upsampling and ↓x0 the image area-averaged to r × r. With probability
``condition_dropout`` the embedding is replaced by a learned null embedding, so one network
gives both the conditional and the unconditional prediction. An exponential moving average (EMA)
of the weights is the model that is returned and sampled from.

Sampling (DDIM, η = 0, ``steps`` steps, "trailing" spacing) with classifier-free guidance:
ε̂ = ε̂(x_t, t, ∅) + g · (ε̂(x_t, t, e) − ε̂(x_t, t, ∅)). The initial noise of row i is drawn from a
generator seeded with ``seeds[i]``, so a row's sample does not depend on the rest of the batch
(up to floating-point rounding of batched convolutions).
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from diffusers import DDIMScheduler, DDPMScheduler, UNet2DModel
from tqdm.auto import tqdm

from crossmodal.atomic import atomic_path
from crossmodal.store import ArtifactError


@dataclass(frozen=True)
class DecoderSettings:
    """Architecture and training budget of the toy decoder. Training stops at ``max_steps`` or
    once ``time_budget_s`` seconds have passed, whichever comes first."""

    image_size: int = 32
    block_out_channels: tuple[int, ...] = (16, 32, 64)
    attention_levels: tuple[bool, ...] = (False, False, True)
    layers_per_block: int = 1
    norm_num_groups: int = 8
    attention_head_dim: int = 16
    resnet_time_scale_shift: str = "scale_shift"  # FiLM: (1 + scale)·GroupNorm(h) + shift
    spatial_channels: int = 4  # channels of the embedding's spatial map (0: none)
    spatial_resolution: int = 16
    spatial_hidden: int = 256
    coarse_weight: float = 0.0  # λ of the coarse-image regression (0: the map is free)
    batch_size: int = 64
    learning_rate: float = 2e-3
    warmup_steps: int = 100
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    max_steps: int = 20000
    time_budget_s: float = 450.0
    train_timesteps: int = 1000
    beta_schedule: str = "squaredcos_cap_v2"
    condition_dropout: float = 0.1
    snr_gamma: float | None = 5.0
    ema_decay: float = 0.995
    log_every: int = 25

    def __post_init__(self):
        if len(self.attention_levels) != len(self.block_out_channels):
            raise ValueError("DecoderSettings: attention_levels needs one entry per block "
                             f"({len(self.block_out_channels)}), got {self.attention_levels}")
        if not 0.0 <= self.condition_dropout < 1.0:
            raise ValueError("DecoderSettings: condition_dropout must lie in [0, 1)")
        if self.coarse_weight < 0 or (self.coarse_weight > 0 and self.spatial_channels < 3):
            raise ValueError("DecoderSettings: coarse_weight must be ≥ 0 and needs "
                             f"spatial_channels ≥ 3 (got {self.spatial_channels})")


def settings_from_dict(values: dict) -> DecoderSettings:
    """:class:`DecoderSettings` from a plain dict (lists become tuples, unknown keys refused)."""
    known = DecoderSettings.__dataclass_fields__
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ValueError(f"DecoderSettings: unknown keys {unknown}; known: {sorted(known)}")
    return DecoderSettings(**{k: tuple(v) if isinstance(v, list) else v
                              for k, v in values.items()})


def to_unit_range(images, size: int) -> torch.Tensor:
    """uint8 images (N, H, W, 3) (array or tensor) → float (N, 3, size, size) in [-1, 1], resized
    by area averaging (each output pixel is the mean of the input pixels it covers)."""
    pixels = torch.as_tensor(np.asarray(images)).permute(0, 3, 1, 2).float()
    if pixels.shape[-2:] != (size, size):
        pixels = F.interpolate(pixels, size=(size, size), mode="area")
    return pixels / 127.5 - 1.0


def to_uint8(pixels: torch.Tensor) -> np.ndarray:
    """float (N, 3, H, W) in [-1, 1] → uint8 (N, H, W, 3), rounded and clipped."""
    scaled = ((pixels.clamp(-1, 1) + 1.0) * 127.5).round()
    return scaled.to(torch.uint8).permute(0, 2, 3, 1).contiguous().numpy()


def build_unet(settings: DecoderSettings) -> UNet2DModel:
    """The UNet: ``block_out_channels`` levels (self-attention where ``attention_levels``),
    ``layers_per_block`` residual blocks per level, 3 + ``spatial_channels`` input channels and an
    identity class embedding of width 4·channels[0]."""
    down = tuple("AttnDownBlock2D" if a else "DownBlock2D" for a in settings.attention_levels)
    up = tuple("AttnUpBlock2D" if a else "UpBlock2D" for a in reversed(settings.attention_levels))
    return UNet2DModel(
        sample_size=settings.image_size, in_channels=3 + settings.spatial_channels,
        out_channels=3,
        block_out_channels=settings.block_out_channels, down_block_types=down,
        up_block_types=up, layers_per_block=settings.layers_per_block,
        norm_num_groups=settings.norm_num_groups, attention_head_dim=settings.attention_head_dim,
        add_attention=any(settings.attention_levels), class_embed_type="identity",
        resnet_time_scale_shift=settings.resnet_time_scale_shift)


def spatial_head(embedding_dim: int, settings: DecoderSettings) -> torch.nn.Module | None:
    """MLP d → ``spatial_hidden`` → c·r·r (c = ``spatial_channels``, r = ``spatial_resolution``);
    None when c = 0."""
    if settings.spatial_channels == 0:
        return None
    outputs = settings.spatial_channels * settings.spatial_resolution ** 2
    return torch.nn.Sequential(torch.nn.Linear(embedding_dim, settings.spatial_hidden),
                               torch.nn.SiLU(), torch.nn.Linear(settings.spatial_hidden, outputs))


class EmbeddingDecoder(torch.nn.Module):
    """ε̂(x_t, t, e) (see the module docstring): ẽ = (e − μ) / σ with μ (d,) the mean training
    embedding and σ the RMS over dims of its standard deviations (one scalar, so the map stays
    affine); ``condition`` = MLP(ẽ) joins the timestep embedding, ``spatial`` = MLP(ẽ) the input
    channels. ``null_embedding`` (d,), initialised to μ, stands for "no condition"."""

    def __init__(self, embedding_dim: int, settings: DecoderSettings):
        super().__init__()
        self.embedding_dim = int(embedding_dim)
        self.settings = settings
        self.unet = build_unet(settings)
        width = 4 * settings.block_out_channels[0]
        self.condition = torch.nn.Sequential(
            torch.nn.Linear(self.embedding_dim, width), torch.nn.SiLU(),
            torch.nn.Linear(width, width))
        self.spatial = spatial_head(self.embedding_dim, settings)
        self.register_buffer("embedding_mean", torch.zeros(self.embedding_dim))
        self.register_buffer("embedding_scale", torch.tensor(1.0 / math.sqrt(embedding_dim)))
        self.null_embedding = torch.nn.Parameter(torch.zeros(self.embedding_dim))

    @torch.no_grad()
    def fit_embedding_statistics(self, embeddings: torch.Tensor) -> None:
        """Set μ = mean of ``embeddings`` (N, d), σ = sqrt(mean_k Var_k), and the null embedding
        to μ."""
        self.embedding_mean.copy_(embeddings.mean(0))
        spread = embeddings.var(0, unbiased=False).mean().sqrt() if len(embeddings) > 1 else 0.0
        self.embedding_scale.fill_(max(float(spread), 1e-6))
        self.null_embedding.copy_(self.embedding_mean)

    def forward(self, noisy: torch.Tensor, timesteps: torch.Tensor, embeddings: torch.Tensor
                ) -> torch.Tensor:
        """Noise prediction (B, 3, S, S) for noisy images (B, 3, S, S), timesteps (B,) and
        embeddings (B, d)."""
        standardised = self.standardise(embeddings)
        inputs = noisy
        if self.spatial is not None:
            inputs = torch.cat([noisy, self.spatial_map(standardised, noisy.shape[-1])], dim=1)
        return self.unet(inputs, timesteps, class_labels=self.condition(standardised)).sample

    def standardise(self, embeddings: torch.Tensor) -> torch.Tensor:
        """ẽ = (e − μ) / σ for embeddings (B, d)."""
        return (embeddings - self.embedding_mean) / self.embedding_scale

    def coarse_map(self, standardised: torch.Tensor) -> torch.Tensor:
        """M(ẽ): the spatial MLP's output (B, c, r, r) for standardised embeddings (B, d)."""
        resolution = self.settings.spatial_resolution
        return self.spatial(standardised).view(len(standardised), -1, resolution, resolution)

    def spatial_map(self, standardised: torch.Tensor, size: int) -> torch.Tensor:
        """M(ẽ) (B, c, r, r) bilinearly upsampled to (B, c, size, size): a direct path for
        *where* things go (layout) into the input."""
        return F.interpolate(self.coarse_map(standardised), size=(size, size), mode="bilinear",
                             align_corners=False)


def noise_scheduler(settings: DecoderSettings) -> DDPMScheduler:
    """The training (forward-process) scheduler: ``train_timesteps`` steps of ``beta_schedule``,
    ε-prediction, x0 clipped to [-1, 1]."""
    return DDPMScheduler(num_train_timesteps=settings.train_timesteps,
                         beta_schedule=settings.beta_schedule, prediction_type="epsilon",
                         clip_sample=True)


def sampling_scheduler(settings: DecoderSettings) -> DDIMScheduler:
    """DDIM with the training noise schedule and trailing timestep spacing."""
    return DDIMScheduler.from_config(noise_scheduler(settings).config,
                                     timestep_spacing="trailing", set_alpha_to_one=False)


def snr_weights(scheduler: DDPMScheduler, timesteps: torch.Tensor, gamma: float | None
                ) -> torch.Tensor:
    """min(SNR(t), γ) / SNR(t) with SNR(t) = ᾱ_t / (1 − ᾱ_t); ones when γ is None."""
    if gamma is None:
        return torch.ones(len(timesteps))
    alpha_bar = scheduler.alphas_cumprod[timesteps].float()
    snr = alpha_bar / (1.0 - alpha_bar)
    return torch.clamp(snr, max=gamma) / snr


def drop_conditions(model: EmbeddingDecoder, embeddings: torch.Tensor, share: float,
                    generator: torch.Generator) -> torch.Tensor:
    """Replace each row of ``embeddings`` (B, d) by the null embedding with probability
    ``share``."""
    dropped = torch.rand(len(embeddings), generator=generator) < share
    return torch.where(dropped[:, None], model.null_embedding[None, :], embeddings)


def learning_rate_factor(step: int, warmup: int) -> float:
    """Linear warm-up to 1 over ``warmup`` steps, then constant (the run length is a budget)."""
    return min(1.0, (step + 1) / max(1, warmup))


def update_ema(ema: torch.nn.Module, model: torch.nn.Module, decay: float, step: int) -> None:
    """θ_ema ← β θ_ema + (1 − β) θ with β = min(decay, (1 + step) / (10 + step))."""
    beta = min(decay, (1.0 + step) / (10.0 + step))
    with torch.no_grad():
        for shadow, live in zip(ema.parameters(), model.parameters()):
            shadow.lerp_(live, 1.0 - beta)


def coarse_loss(model: EmbeddingDecoder, clean: torch.Tensor, embeddings: torch.Tensor
                ) -> torch.Tensor:
    """mean ‖M(ẽ)₀:₃ − ↓x0‖²: the spatial map's first 3 channels against the clean images
    (B, 3, S, S) area-averaged to r × r."""
    resolution = model.settings.spatial_resolution
    target = F.interpolate(clean, size=(resolution, resolution), mode="area")
    return (model.coarse_map(model.standardise(embeddings))[:, :3] - target).pow(2).mean()


def diffusion_loss(model: EmbeddingDecoder, scheduler: DDPMScheduler, clean: torch.Tensor,
                   embeddings: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Mean over the batch of w(t)·mean‖ε̂(x_t, t, e) − ε‖², plus λ times the
    :func:`coarse_loss` when ``coarse_weight`` λ > 0 (see the module docstring)."""
    settings = model.settings
    noise = torch.randn(clean.shape, generator=generator)
    timesteps = torch.randint(0, settings.train_timesteps, (len(clean),), generator=generator)
    noisy = scheduler.add_noise(clean, noise, timesteps)
    conditions = drop_conditions(model, embeddings, settings.condition_dropout, generator)
    per_sample = (model(noisy, timesteps, conditions) - noise).pow(2).mean(dim=(1, 2, 3))
    loss = (snr_weights(scheduler, timesteps, settings.snr_gamma) * per_sample).mean()
    if settings.coarse_weight > 0:
        loss = loss + settings.coarse_weight * coarse_loss(model, clean, embeddings)
    return loss


def as_views(embeddings) -> torch.Tensor:
    """Float tensor (V, N, d) of V alternative conditions per image: (N, d) becomes V = 1."""
    vectors = torch.as_tensor(np.asarray(embeddings, dtype=np.float32))
    return vectors[None] if vectors.ndim == 2 else vectors


def _check_training_inputs(images, views: torch.Tensor) -> None:
    if views.ndim != 3:
        raise ValueError(f"train_decoder: embeddings must be (N, d) or (V, N, d), got "
                         f"{tuple(views.shape)}")
    if len(images) != views.shape[1]:
        raise ValueError(f"train_decoder: {len(images)} images but {views.shape[1]} embeddings")
    if len(images) == 0:
        raise ValueError("train_decoder: no training images")
    if not torch.isfinite(views).all():
        raise ValueError("train_decoder: the embeddings contain NaN or inf")


def shuffled_batches(n: int, batch_size: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Endless sorted index batches from back-to-back random permutations of range(n)."""
    order = np.empty(0, dtype=int)
    while True:
        while len(order) < batch_size:
            order = np.concatenate([order, rng.permutation(n)])
        yield np.sort(order[:batch_size])
        order = order[batch_size:]


def pick_views(views: torch.Tensor, index: np.ndarray, generator: torch.Generator
               ) -> torch.Tensor:
    """(B, d): for each row of ``index`` the embedding of one uniformly drawn view."""
    chosen = torch.randint(0, views.shape[0], (len(index),), generator=generator)
    return views[chosen, torch.as_tensor(index)]


def train_step(model: EmbeddingDecoder, optimizer: torch.optim.Optimizer, loss: torch.Tensor,
               step: int) -> float:
    """One AdamW step on ``loss`` with gradient-norm clipping; refuses a non-finite loss."""
    if not torch.isfinite(loss):
        raise FloatingPointError(f"train_decoder: non-finite loss at step {step}")
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), model.settings.grad_clip)
    optimizer.step()
    return loss.item()


def train_decoder(images, embeddings, settings: DecoderSettings = DecoderSettings(),
                  seed: int = 0, progress=None) -> tuple[EmbeddingDecoder, pd.DataFrame]:
    """Train a decoder on uint8 images (N, H, W, 3) (resized to ``settings.image_size``) and their
    embeddings: (N, d), or (V, N, d) for V alternative conditions per image (e.g. the image's and
    its caption's embedding; one view is drawn uniformly per row and step). Runs until
    ``max_steps`` or ``time_budget_s``; batches come from shuffled epochs; every random choice
    comes from ``seed``. ``progress`` is a file for a tqdm bar (None: no bar). Returns the EMA
    model (eval mode) and the log (step, loss = mean weighted loss since the previous row,
    learning_rate, seconds)."""
    views = as_views(embeddings)
    _check_training_inputs(images, views)
    pixels = to_unit_range(images, settings.image_size).half()  # float16 halves the memory
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = EmbeddingDecoder(views.shape[2], settings)
    model.fit_embedding_statistics(views.reshape(-1, views.shape[2]))
    ema = copy.deepcopy(model).requires_grad_(False)
    generator = torch.Generator().manual_seed(seed)
    batches = shuffled_batches(len(pixels), settings.batch_size, np.random.default_rng(seed))
    scheduler = noise_scheduler(settings)
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.learning_rate,
                                  weight_decay=settings.weight_decay)
    rows, losses, start = [], [], time.perf_counter()
    bar = tqdm(total=settings.max_steps, desc="train decoder", file=progress,
               disable=progress is None, mininterval=10)
    model.train()
    for step, index in zip(range(settings.max_steps), batches):
        learning_rate = settings.learning_rate * learning_rate_factor(step, settings.warmup_steps)
        for group in optimizer.param_groups:
            group["lr"] = learning_rate
        loss = diffusion_loss(model, scheduler, pixels[index].float(),
                              pick_views(views, index, generator), generator)
        losses.append(train_step(model, optimizer, loss, step))
        update_ema(ema, model, settings.ema_decay, step)
        bar.update(1)
        elapsed = time.perf_counter() - start
        done = elapsed >= settings.time_budget_s or step + 1 == settings.max_steps
        if (step + 1) % settings.log_every == 0 or done:
            rows.append({"step": step + 1, "loss": float(np.mean(losses)),
                         "learning_rate": learning_rate, "seconds": elapsed})
            losses = []
        if done:
            break
    bar.close()
    return ema.eval(), pd.DataFrame(rows)


def row_seeds(seed: int | Sequence[int], n: int) -> list[int]:
    """Per-row noise seeds: ``seed + i`` for an int, else the given sequence (length n)."""
    if isinstance(seed, (int, np.integer)):
        return [int(seed) + i for i in range(n)]
    seeds = [int(s) for s in seed]
    if len(seeds) != n:
        raise ValueError(f"sample: {len(seeds)} seeds for {n} embeddings")
    return seeds


def initial_noise(seeds: Sequence[int], size: int) -> torch.Tensor:
    """(len(seeds), 3, size, size) standard normal noise, row i from a generator seeded seeds[i]."""
    rows = [torch.randn((3, size, size), generator=torch.Generator().manual_seed(s))
            for s in seeds]
    return torch.stack(rows)


@torch.no_grad()
def guided_noise(model: EmbeddingDecoder, noisy: torch.Tensor, timestep, embeddings: torch.Tensor,
                 guidance: float) -> torch.Tensor:
    """ε̂_∅ + g (ε̂_e − ε̂_∅), both predictions in one doubled batch (g = 1: conditional only)."""
    if guidance == 1.0:
        return model(noisy, timestep.expand(len(noisy)), embeddings)
    null = model.null_embedding.expand_as(embeddings)
    both = model(noisy.repeat(2, 1, 1, 1), timestep.expand(2 * len(noisy)),
                 torch.cat([embeddings, null]))
    conditional, unconditional = both.chunk(2)
    return unconditional + guidance * (conditional - unconditional)


@torch.no_grad()
def sample_batch(model: EmbeddingDecoder, embeddings: torch.Tensor, seeds: Sequence[int],
                 steps: int, guidance: float) -> torch.Tensor:
    """DDIM (η = 0) from seeded noise to float images (B, 3, S, S) in [-1, 1]."""
    scheduler = sampling_scheduler(model.settings)
    scheduler.set_timesteps(steps)
    latents = initial_noise(seeds, model.settings.image_size)
    for timestep in scheduler.timesteps:
        noise = guided_noise(model, latents, timestep, embeddings, guidance)
        latents = scheduler.step(noise, timestep, latents).prev_sample
    return latents


def sample(model: EmbeddingDecoder, embeddings, seed: int | Sequence[int] = 0, steps: int = 25,
           guidance: float = 3.0, batch_size: int = 256) -> np.ndarray:
    """Generate one image per embedding (B, d) → uint8 (B, S, S, 3). Row i starts from noise
    seeded ``seed + i`` (or ``seed[i]`` for a sequence), so results are reproducible and
    independent of how rows are batched."""
    vectors = torch.as_tensor(np.asarray(embeddings, dtype=np.float32))
    if vectors.ndim != 2 or vectors.shape[1] != model.embedding_dim:
        raise ValueError(f"sample: embeddings of shape {tuple(vectors.shape)}, expected "
                         f"(B, {model.embedding_dim})")
    seeds = row_seeds(seed, len(vectors))
    model.eval()
    parts = [sample_batch(model, vectors[i:i + batch_size], seeds[i:i + batch_size], steps,
                          guidance) for i in range(0, len(vectors), batch_size)]
    if not parts:
        size = model.settings.image_size
        return np.zeros((0, size, size, 3), dtype=np.uint8)
    return to_uint8(torch.cat(parts))


def save_decoder(path: str | Path, model: EmbeddingDecoder, extra: dict | None = None) -> None:
    """Write settings, embedding dimension, weights and ``extra`` facts atomically."""
    state = {"settings": asdict(model.settings), "embedding_dim": model.embedding_dim,
             "state_dict": model.state_dict(), **(extra or {})}
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_decoder(path: str | Path) -> tuple[EmbeddingDecoder, dict]:
    """The decoder saved at ``path`` (eval mode) and the checkpoint's other facts."""
    path = Path(path)
    if not path.exists():
        raise ArtifactError(f"{path}: decoder not found; run `snakemake {path}`")
    state = torch.load(path, map_location="cpu", weights_only=False)
    model = EmbeddingDecoder(state["embedding_dim"], settings_from_dict(state["settings"]))
    model.load_state_dict(state["state_dict"])
    facts = {k: v for k, v in state.items() if k not in ("state_dict",)}
    return model.eval(), facts
