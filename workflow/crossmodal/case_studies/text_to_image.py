"""Paper A case study 3 (§4.3, figures 10 and 14): modality-aware control of text-to-image
generation by interpolating a prompt embedding toward a reference image embedding on one latent
group only.

The paper writes T'[I] = αT[I] + (1 − α)R[I] but describes a larger α as a *stronger* pull toward
the reference; this module is parameterised by the weight on the reference, w:

    T'[I] = (1 − w)·T[I] + w·R[I],   T'[k] = T[k] for k ∉ I,

so w = 0 is the prompt alone and w = 1 replaces the group by the reference. I is one of the MDS
groups TextD, CrossD, ImgD of the encoder's latents (an empty group is skipped with a logged
line); each (group, w) cell is decoded with the same noise seeds, so differences along a row are
caused by the embedding alone. Two controls tell a group's effect from its size
(:func:`control_sets`): ``random_<group>``, |group| dimensions drawn uniformly without
replacement from all d by a generator seeded (seed, |group|) — so groups of equal size share one
random set — and ``all``, every dimension (T' = (1 − w)·T + w·R). On toyworld the decoder is
:mod:`crossmodal.case_studies.decoder` and the effect is *measured*: the toyworld image expert
(:mod:`crossmodal.image_expert`) reads shape, colour and background texture off every generated
image and :func:`control_measures` reports how often each matches the reference image, each share
with the half-width of its 95 % interval (a bootstrap over the generated images, reference × noise
seed). The real run feeds T' to diffusers' Stable unCLIP as ``image_embeds``
(:func:`unclip_generate`) and measures how far the generated images' own embeddings move toward
the reference (:func:`embedding_follow`).

Stable unCLIP's own path encodes an image with its ``image_encoder`` and takes the projection
output ``image_embeds`` as it is, *not* L2-normalised; its noise augmentation then standardises
it with the ``image_normalizer``'s per-dimension mean μ and standard deviation σ, the statistics
of the embeddings the model was trained on. Our embeddings are unit vectors, so each row of T' is
rescaled to the norm those statistics imply before it is fed (:func:`pipeline_embedding_norm`,
E‖x‖² = ‖μ‖² + Σ_j σ_j²); fed at norm 1 they would sit far inside the distribution the UNet was
conditioned on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image

from crossmodal.case_studies.decoder import EmbeddingDecoder, sample
from crossmodal.encoders.base import MissingWeightsError
from crossmodal.encoders.transformers_backend import PRECISIONS
from crossmodal.image_expert import ImageExpert, predict
from crossmodal.metrics.uncertainty import LEVEL, RESAMPLES, bootstrap_half_widths, interval_column
from crossmodal.report.plotting import plt, save_figure

logger = logging.getLogger(__name__)

GROUP_ORDER: tuple[str, ...] = ("TextD", "CrossD", "ImgD")
DEFAULT_WEIGHTS: tuple[float, ...] = tuple(round(0.1 * i, 1) for i in range(8))  # 0.0 … 0.7
ATTRIBUTES: tuple[str, ...] = ("shape", "colour", "texture")
WEIGHT_LABEL = "w (weight on the reference)"
ALL_DIMENSIONS = "all"
RANDOM_PREFIX = "random_"

# generate(embeddings (B, d), seeds (B,)) -> uint8 images (B, H, W, 3)
Generator = Callable[[np.ndarray, Sequence[int]], np.ndarray]


def group_mask(groups: np.ndarray, group: str) -> np.ndarray:
    """(d,) bool: the latents whose MDS group label equals ``group``."""
    return np.asarray(groups).astype(str) == group


def interpolate_on_group(prompt_embedding: np.ndarray, reference_embedding: np.ndarray,
                         latents: np.ndarray, w: float) -> np.ndarray:
    """T' (d,) with T'[I] = (1 − w)·T[I] + w·R[I] and T'[k] = T[k] off I. ``latents`` is a (d,)
    bool mask or an index array of I. Exact at the ends: w = 0 gives T, w = 1 gives R on I."""
    prompt = np.asarray(prompt_embedding, dtype=np.float64)
    reference = np.asarray(reference_embedding, dtype=np.float64)
    if prompt.shape != reference.shape or prompt.ndim != 1:
        raise ValueError(f"interpolate_on_group: prompt {prompt.shape} and reference "
                         f"{reference.shape} must be equal 1-d shapes")
    mixed = prompt.copy()
    mixed[latents] = (1.0 - w) * prompt[latents] + w * reference[latents]
    dtype = np.result_type(np.asarray(prompt_embedding), np.asarray(reference_embedding))
    return mixed.astype(dtype)


def group_sets(groups: np.ndarray, group_names: Sequence[str] = GROUP_ORDER
               ) -> dict[str, np.ndarray]:
    """{name: sorted (|I|,) dimension indices} of each named MDS group in ``groups`` (the (d,)
    "ImgD"/"TextD"/"CrossD"/"dead" labels); an empty group is skipped with a logged line."""
    sets = {}
    for name in group_names:
        indices = np.flatnonzero(group_mask(groups, name))
        if len(indices) == 0:
            logger.warning("text-to-image control: group %s has no dimensions; skipped", name)
            continue
        sets[name] = indices
    return sets


def random_matched_set(n_dimensions: int, size: int, seed: int) -> np.ndarray:
    """Sorted (size,) indices drawn uniformly without replacement from range(n_dimensions) by
    ``np.random.default_rng([seed, size])``: the same (seed, size) gives the same set."""
    if not 0 <= size <= n_dimensions:
        raise ValueError(f"random_matched_set: size {size} outside [0, {n_dimensions}]")
    rng = np.random.default_rng([int(seed), int(size)])
    return np.sort(rng.choice(n_dimensions, size=size, replace=False))


def control_sets(groups: np.ndarray, group_names: Sequence[str], seed: int
                 ) -> dict[str, np.ndarray]:
    """The controls of the non-empty named groups: ``random_<group>`` (a
    :func:`random_matched_set` of |group| of the d dimensions) per group, then ``all`` (every
    dimension, indices 0 … d − 1)."""
    sets = {f"{RANDOM_PREFIX}{name}": random_matched_set(len(groups), len(indices), seed)
            for name, indices in group_sets(groups, group_names).items()}
    sets[ALL_DIMENSIONS] = np.arange(len(groups))
    return sets


def set_embeddings(prompt_embedding: np.ndarray, reference_embedding: np.ndarray,
                   sets: Mapping[str, np.ndarray], weights: Sequence[float] = DEFAULT_WEIGHTS
                   ) -> np.ndarray:
    """(R, W, d): :func:`interpolate_on_group` for every dimension set (rows, index arrays or
    (d,) masks, in ``sets``' order) and weight (columns)."""
    return np.stack([np.stack([interpolate_on_group(prompt_embedding, reference_embedding,
                                                    latents, w) for w in weights])
                     for latents in sets.values()])


def control_embeddings(prompt_embedding: np.ndarray, reference_embedding: np.ndarray,
                       groups: np.ndarray, group_names: Sequence[str] = GROUP_ORDER,
                       weights: Sequence[float] = DEFAULT_WEIGHTS) -> np.ndarray:
    """(G, W, d): :func:`interpolate_on_group` for every group name (rows) and weight (columns).
    ``groups`` is the (d,) array of "ImgD"/"TextD"/"CrossD"/"dead" labels."""
    if len(groups) != len(prompt_embedding):
        raise ValueError(f"control_embeddings: {len(groups)} group labels for embeddings of "
                         f"dimension {len(prompt_embedding)}")
    return set_embeddings(prompt_embedding, reference_embedding,
                          {name: group_mask(groups, name) for name in group_names}, weights)


def decoder_generator(model: EmbeddingDecoder, steps: int = 25, guidance: float = 3.0,
                      batch_size: int = 256) -> Generator:
    """The toy decoder as a :data:`Generator` (DDIM ``steps``, guidance scale ``guidance``)."""
    def generate(embeddings: np.ndarray, seeds: Sequence[int]) -> np.ndarray:
        return sample(model, embeddings, seed=list(seeds), steps=steps, guidance=guidance,
                      batch_size=batch_size)
    return generate


def control_grid(generate: Generator, prompt_embedding: np.ndarray,
                 reference_embedding: np.ndarray, groups: np.ndarray,
                 group_names: Sequence[str] = GROUP_ORDER,
                 weights: Sequence[float] = DEFAULT_WEIGHTS,
                 seeds: Sequence[int] = (0,)) -> np.ndarray:
    """Images (G, W, S, H, W', 3): cell (g, j) decodes T' for group g and weight weights[j] once
    per noise seed in ``seeds`` — the same seeds in every cell."""
    embeddings = control_embeddings(prompt_embedding, reference_embedding, groups, group_names,
                                    weights)
    return decode_embedding_grid(generate, embeddings, seeds)


def set_grid(generate: Generator, prompt_embedding: np.ndarray, reference_embedding: np.ndarray,
             sets: Mapping[str, np.ndarray], weights: Sequence[float] = DEFAULT_WEIGHTS,
             seeds: Sequence[int] = (0,)) -> np.ndarray:
    """Images (R, W, S, H, W', 3): :func:`control_grid` over named dimension sets (rows)."""
    if not sets:
        raise ValueError("set_grid: no dimension sets to interpolate on")
    embeddings = set_embeddings(prompt_embedding, reference_embedding, sets, weights)
    return decode_embedding_grid(generate, embeddings, seeds)


def decode_embedding_grid(generate: Generator, embeddings: np.ndarray, seeds: Sequence[int]
                          ) -> np.ndarray:
    """Images (R, W, S, H, W', 3) of embeddings (R, W, d), each decoded once per seed.

    Equal (embedding, seed) cells — the w = 0 column is the prompt in every row — are decoded
    once and shared, so they are identical whatever the thread count or batch position (a
    batched convolution's rounding depends on both), and the grid costs fewer decodes."""
    n_groups, n_weights, dim = embeddings.shape
    cells = np.repeat(embeddings.reshape(-1, dim), len(seeds), axis=0)
    cell_seeds = np.tile(np.asarray(seeds, dtype=np.int64), n_groups * n_weights)
    keys = np.concatenate([cells.astype(np.float64), cell_seeds[:, None]], axis=1)
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    unique_images = generate(cells[first], [int(s) for s in cell_seeds[first]])
    images = unique_images[inverse.ravel()]
    return images.reshape(n_groups, n_weights, len(seeds), *images.shape[1:])


def classify_grid(classifier: ImageExpert, grid: np.ndarray,
                  heads: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """Expert predictions for a grid (G, W, S, H, W', 3) → {head: (G, W, S)}, for ``heads``
    (default: every head of the expert)."""
    flat = grid.reshape(-1, *grid.shape[3:])
    predictions = predict(classifier, flat)
    return {head: predictions[head].reshape(grid.shape[:3])
            for head in (classifier.classes if heads is None else heads)}


def grid_records(predictions: Mapping[str, np.ndarray], reference: Mapping[str, str],
                 group_names: Sequence[str] = GROUP_ORDER,
                 weights: Sequence[float] = DEFAULT_WEIGHTS,
                 prompt: Mapping[str, str] | None = None, reference_id=0) -> pd.DataFrame:
    """One row per generated image: group, w, seed_index, reference_id, and per attribute a of
    ``predictions`` ({a: (G, W, S)}) the columns predicted_a, reference_a (and prompt_a when the
    prompt's attributes are given)."""
    n_groups, n_weights, n_seeds = next(iter(predictions.values())).shape
    group_index, weight_index, seed_index = np.indices((n_groups, n_weights, n_seeds))
    frame = pd.DataFrame({"group": np.asarray(group_names, dtype=object)[group_index.ravel()],
                          "w": np.asarray(weights, dtype=float)[weight_index.ravel()],
                          "seed_index": seed_index.ravel(), "reference_id": reference_id})
    for attribute, values in predictions.items():
        frame[f"predicted_{attribute}"] = np.asarray(values).ravel()
        frame[f"reference_{attribute}"] = reference[attribute]
        if prompt is not None:
            frame[f"prompt_{attribute}"] = prompt[attribute]
    return frame


IMAGE_UNIT = ("reference_id", "seed_index")  # one generated image per unit in each (group, w)


def match_columns(records: pd.DataFrame, attributes: Sequence[str] = ATTRIBUTES
                  ) -> tuple[pd.DataFrame, list[str]]:
    """``records`` with per image the bool columns share_<a>_match = [predicted_a ==
    reference_a] and, where prompt_a exists, share_<a>_prompt_match = [predicted_a == prompt_a],
    and the list of those columns."""
    frame = records.copy()
    columns = []
    for attribute in attributes:
        predicted = frame[f"predicted_{attribute}"].astype(str)
        frame[f"share_{attribute}_match"] = predicted == frame[f"reference_{attribute}"].astype(str)
        columns.append(f"share_{attribute}_match")
        if f"prompt_{attribute}" in frame:
            frame[f"share_{attribute}_prompt_match"] = (
                predicted == frame[f"prompt_{attribute}"].astype(str))
            columns.append(f"share_{attribute}_prompt_match")
    return frame, columns


def share_half_widths(matches: pd.DataFrame, columns: Sequence[str],
                      resamples: int = RESAMPLES, seed: int = 0, level: float = LEVEL
                      ) -> pd.DataFrame:
    """Per (group, w) the half-width ``<c> ±`` of every share column c of ``matches`` (the
    frame of :func:`match_columns`): per group, a bootstrap over its U generated-image units
    (reference × noise seed, :data:`IMAGE_UNIT`) — one draw of units per resample, shared by
    every w and every column, so the shares along a row stay paired. A unit's value in a cell
    is the mean of its images there (one image per unit and cell in a grid); NaN for U < 2."""
    rows = []
    for group, part in matches.groupby("group", sort=False):
        cells = part.astype({c: float for c in columns}).pivot_table(
            index=list(IMAGE_UNIT), columns="w", values=list(columns), aggfunc="mean")
        weights = list(dict.fromkeys(part["w"]))
        values = np.stack([cells[c][weights].to_numpy(dtype=float) for c in columns])
        widths = unit_mean_half_widths(values, resamples, seed, level)  # (C, W)
        rows += [{"group": group, "w": w,
                  **{interval_column(c): widths[i, j] for i, c in enumerate(columns)}}
                 for j, w in enumerate(weights)]
    return pd.DataFrame(rows)


def unit_mean_half_widths(values: np.ndarray, resamples: int = RESAMPLES, seed: int = 0,
                          level: float = LEVEL) -> np.ndarray:
    """(C, W) half-widths of the means over units of ``values`` (C, U, W) — C measures of U
    units in W cells — by a bootstrap over the U units (one draw shared by every measure and
    cell); all NaN when U < 2."""
    n_measures, units, n_cells = values.shape
    if units < 2:
        return np.full((n_measures, n_cells), np.nan)

    def statistic(index):
        means = np.nanmean(values[:, index, :], axis=1)
        return {(i, j): means[i, j] for i in range(n_measures) for j in range(n_cells)}

    widths = bootstrap_half_widths(statistic, units, resamples, seed, level)
    return np.array([[widths[i, j] for j in range(n_cells)] for i in range(n_measures)])


def control_measures(records: pd.DataFrame, attributes: Sequence[str] = ATTRIBUTES,
                     sizes: Mapping[str, int] | None = None, resamples: int = RESAMPLES,
                     seed: int = 0, level: float = LEVEL) -> pd.DataFrame:
    """Per (group, w): share_<a>_match = mean over images of [predicted_a == reference_a] for each
    attribute a, share_<a>_prompt_match likewise against prompt_a when present, each followed by
    its half-width ``<share> ±`` (:func:`share_half_widths`: a bootstrap over the row's images,
    reference × noise seed), and n_images; with ``sizes`` ({group: number of dimensions
    interpolated}) also n_dimensions."""
    frame, columns = match_columns(records, attributes)
    grouped = frame.groupby(["group", "w"], sort=False)
    measures = grouped[columns].mean().astype(float)
    measures["n_images"] = grouped.size()
    measures = measures.reset_index()
    widths = share_half_widths(frame, columns, resamples, seed, level)
    measures = measures.merge(widths, on=["group", "w"], how="left")
    order = ["group", "w", *[n for c in columns for n in (c, interval_column(c))], "n_images"]
    measures = measures[order]
    if sizes is not None:
        measures["n_dimensions"] = measures["group"].map(sizes).astype(int)
    return measures


def plot_control_grid(images: np.ndarray, path: str | Path,
                      group_names: Sequence[str] = GROUP_ORDER,
                      weights: Sequence[float] = DEFAULT_WEIGHTS, title: str | None = None,
                      reference_image: np.ndarray | None = None) -> None:
    """Figure-10-style grid written atomically as PNG: rows = groups, columns = w, one image per
    cell (``images`` (G, W, H, W', 3), or (G, W, S, …) showing the first seed); the optional
    reference image is shown in an extra first column."""
    images = np.asarray(images)
    if images.ndim == 6:
        images = images[:, :, 0]
    n_groups, n_weights = images.shape[:2]
    offset = int(reference_image is not None)
    figure, axes = plt.subplots(n_groups, n_weights + offset, squeeze=False,
                                figsize=(1.1 * (n_weights + offset) + 0.6, 1.1 * n_groups + 0.8))
    for row in range(n_groups):
        for column in range(n_weights):
            axis = axes[row, column + offset]
            axis.imshow(images[row, column], interpolation="nearest")
            axis.set_xticks([])
            axis.set_yticks([])
            if row == n_groups - 1:
                axis.set_xlabel(f"{weights[column]:.1f}")
        axes[row, offset].set_ylabel(group_names[row].replace("_", "\n", 1), fontsize="small")
        if offset:
            _show_reference(axes[row, 0], reference_image if row == 0 else None)
    figure.supxlabel(WEIGHT_LABEL)
    if title:
        figure.suptitle(title)
    save_figure(figure, path)


def _show_reference(axis, image: np.ndarray | None) -> None:
    """The reference image in the top-left cell; blank cells below it."""
    axis.axis("off")
    if image is not None:
        axis.imshow(image, interpolation="nearest")
        axis.set_title("reference", fontsize="small")


def embedding_follow(generated: np.ndarray, prompt_embedding: np.ndarray,
                     reference_embedding: np.ndarray, group_names: Sequence[str] = GROUP_ORDER,
                     weights: Sequence[float] = DEFAULT_WEIGHTS, reference_id=0) -> pd.DataFrame:
    """The real-model measure (no attribute judge): per (group, w), the mean cosine of the
    generated images' embeddings ``generated`` (G, W, S, d) to the reference image embedding R
    and to the prompt embedding T, cos_reference and cos_prompt, and n_images = S. A pull on
    group I that moves the image toward the reference raises cos_reference along w."""
    unit = generated / np.linalg.norm(generated, axis=-1, keepdims=True)
    to_reference = unit @ (reference_embedding / np.linalg.norm(reference_embedding))
    to_prompt = unit @ (prompt_embedding / np.linalg.norm(prompt_embedding))
    n_groups, n_weights, n_seeds = to_reference.shape
    group_index, weight_index = np.indices((n_groups, n_weights))
    return pd.DataFrame({
        "group": np.asarray(group_names, dtype=object)[group_index.ravel()],
        "w": np.asarray(weights, dtype=float)[weight_index.ravel()],
        "reference_id": reference_id,
        "cos_reference": to_reference.mean(axis=2).ravel().astype(float),
        "cos_prompt": to_prompt.mean(axis=2).ravel().astype(float),
        "n_images": n_seeds})


def unclip_control_study(pipeline, encoder, prompt: str, reference_images: Sequence,
                         sets: Mapping[str, np.ndarray], seeds: Sequence[int] = (0,),
                         steps: int = 20, guidance: float = 10.0, noise_level: int = 0,
                         weights: Sequence[float] = DEFAULT_WEIGHTS,
                         embedding_norm: float | str | None = "auto"
                         ) -> tuple[pd.DataFrame, list[np.ndarray]]:
    """Case study 3 on a real model: the prompt's text embedding T is pulled toward each
    reference image's embedding R (PIL ``reference_images``) on each named dimension set
    (``sets``: :func:`group_sets` or :func:`control_sets`), decoded by Stable unCLIP, and every
    generated image is embedded again by ``encoder``; ``embedding_norm`` as in
    :func:`unclip_generate`. Returns the :func:`embedding_follow` rows of all references and one
    grid (R, W, S, H, W', 3) per reference."""
    from crossmodal.extract import embed_images, embed_texts

    prompt_embedding = embed_texts(encoder, [prompt])[0]
    generate = unclip_generator(pipeline, prompt, steps, guidance, noise_level,
                                embedding_norm)
    measures, grids = [], []
    for index, image in enumerate(reference_images):
        reference = embed_images(encoder, [image])[0]
        grid = set_grid(generate, prompt_embedding, reference, sets, weights=weights,
                        seeds=seeds)
        flat = [Image.fromarray(cell) for cell in grid.reshape(-1, *grid.shape[3:])]
        generated = embed_images(encoder, flat).reshape(*grid.shape[:3], -1)
        measures.append(embedding_follow(generated, prompt_embedding, reference,
                                         group_names=list(sets), weights=weights,
                                         reference_id=index))
        grids.append(grid)
    return pd.concat(measures, ignore_index=True), grids


def pipeline_embedding_norm(pipeline) -> float:
    """The root-mean-square norm of the image embeddings Stable unCLIP's noise augmentation was
    fitted to: with the ``image_normalizer``'s mean μ (1, d) and standard deviation σ (1, d),
    E‖x‖² = ‖μ‖² + Σ_j σ_j², so the norm is (‖μ‖² + ‖σ‖²)^½."""
    normalizer = pipeline.image_normalizer
    mean = normalizer.mean.detach().double().cpu()
    std = normalizer.std.detach().double().cpu()
    return float(torch.sqrt((mean ** 2).sum() + (std ** 2).sum()))


def at_norm(vectors: np.ndarray, norm: float) -> np.ndarray:
    """Rows of ``vectors`` (B, d) rescaled to Euclidean norm ``norm``: x · norm / ‖x‖ (a zero
    row stays zero)."""
    vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
    lengths = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.where(lengths > 0, vectors * (norm / np.maximum(lengths, 1e-30)), 0.0
                    ).astype(np.float32)


def unclip_generate(pipeline, image_embeds, seed: int | Sequence[int] = 0, prompt: str = "",
                    steps: int = 20, guidance: float = 10.0, noise_level: int = 0,
                    embedding_norm: float | str | None = "auto") -> np.ndarray:
    """Decode embeddings (B, d) or (d,) with a diffusers ``StableUnCLIPImg2ImgPipeline`` fed
    ``image_embeds=`` (no image is encoded). Each row is first rescaled to ``embedding_norm``
    (``"auto"``: :func:`pipeline_embedding_norm`, a number: that norm, None: fed as it is). Row i
    uses a CPU torch generator seeded ``seed + i`` (or ``seed[i]``) and ``prompt`` as its text.
    Returns uint8 (B, H, W, 3)."""
    if embedding_norm == "auto":
        embedding_norm = pipeline_embedding_norm(pipeline)
    vectors = np.atleast_2d(np.asarray(image_embeds, dtype=np.float32))
    if embedding_norm is not None:
        vectors = at_norm(vectors, float(embedding_norm))
    vectors = torch.as_tensor(vectors)
    seeds = ([int(seed) + i for i in range(len(vectors))] if isinstance(seed, (int, np.integer))
             else [int(s) for s in seed])
    if len(seeds) != len(vectors):
        raise ValueError(f"unclip_generate: {len(seeds)} seeds for {len(vectors)} embeddings")
    dtype = pipeline.unet.dtype
    images = [pipeline(prompt=prompt, image_embeds=row[None].to(pipeline.device, dtype),
                       generator=torch.Generator("cpu").manual_seed(s),
                       num_inference_steps=steps, guidance_scale=guidance,
                       noise_level=noise_level, output_type="np").images[0]
              for row, s in zip(vectors, seeds)]
    return (np.clip(np.stack(images), 0.0, 1.0) * 255).round().astype(np.uint8)


def unclip_generator(pipeline, prompt: str = "", steps: int = 20, guidance: float = 10.0,
                     noise_level: int = 0, embedding_norm: float | str | None = "auto"
                     ) -> Generator:
    """:func:`unclip_generate` as a :data:`Generator` for :func:`control_grid`."""
    def generate(embeddings: np.ndarray, seeds: Sequence[int]) -> np.ndarray:
        return unclip_generate(pipeline, embeddings, list(seeds), prompt, steps, guidance,
                               noise_level, embedding_norm)
    return generate


def load_unclip_pipeline(source: str, device: str = "cpu", precision: str = "fp32"):
    """``StableUnCLIPImg2ImgPipeline.from_pretrained(source)`` on ``device``, in ``precision``
    (fp32 / fp16 / bf16) on a GPU and fp32 on the CPU; weights that are neither cached nor
    reachable stop with a one-line :class:`MissingWeightsError`."""
    from diffusers import StableUnCLIPImg2ImgPipeline

    dtype = PRECISIONS[precision] if device == "cuda" else torch.float32
    try:
        pipeline = StableUnCLIPImg2ImgPipeline.from_pretrained(source, torch_dtype=dtype)
    except (OSError, ValueError) as error:
        raise MissingWeightsError(
            f"Stable unCLIP weights {source!r} are not available ({type(error).__name__}); "
            "download them (e.g. stabilityai/stable-diffusion-2-1-unclip) into the Hugging Face "
            "cache or point the config at a local copy") from error
    pipeline.set_progress_bar_config(disable=True)
    return pipeline.to(device)


DECODER_GATE = "decoder_gate"


def decoder_gates(quality: Mapping[str, float], min_colour_agreement: float) -> dict[str, str]:
    """Pass / fail of what the decoder must have learned: the judged colour of images decoded
    from test embeddings (``decoder_colour_agreement_<modality>``, image and text) at least
    ``min_colour_agreement`` — colour is the attribute every working decoder renders, so a
    failure means it decodes noise — and the overall ``decoder_gate``."""
    gates = {f"gate_colour_agreement_{m}": "pass" if quality[f"decoder_colour_agreement_{m}"]
             >= min_colour_agreement else "fail" for m in ("image", "text")}
    gates[DECODER_GATE] = "pass" if all(g == "pass" for g in gates.values()) else "fail"
    return gates
