"""Every geometry metric of one dictionary on paired embeddings (paper B tables 3–4, E.2).

Two streaming passes over the N pairs, never holding the (N, K) codes:

1. :func:`crossmodal.dictionaries.evaluate.code_statistics` — per-modality energies E_img, E_txt
   (K,), MSE and R²; they give μ and the bimodal mask δ (τ ≤ μ ≤ 1 − τ);
2. one pass that encodes each batch of pairs once and feeds L0/L1 sums, G = Zᵀ Z, Σ = Z_Iᵀ Z_T / N,
   the atoms' modality probes (one per probe centre the conventions need) and the full /
   bimodal-only reconstructions (N, d) for δ_r@1.

ρ, FDA, p_acc and the bridge shares depend on the convention (``authors`` | ``paper``,
conventions.py); ``conventions`` names one, or several: the first gives the plain metric names,
each further one the same metrics suffixed ``_<name>`` (``rho_paper`` …), from the same pass.

The two (K, K) accumulators, G and Σ, are ``dtype`` on the model's device: float64 up to
``FLOAT64_MAX_LATENTS`` latents (32 MiB each at K = 2048), float32 above (4 GiB each at
K = 32768, where float64 would be 8 GiB). They are the only K × K matrices held: the bridges are
formed over row blocks of the atom cosines, in place of Σ, and the transport plan, the atoms'
quantile and the cosines are computed once for all conventions. Dictionaries without a decoder
(NCL) get NaN for everything that needs atoms or reconstructions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from crossmodal.dictionaries.base import Dictionary
from crossmodal.dictionaries.evaluate import (
    CodeCache,
    code_statistics,
    energy_shares,
    paired_codes,
)
from crossmodal.geometry.bridge import (
    CrossCovariance,
    EnergyTransport,
    alignment_of_masses,
    atom_quantile_threshold,
    bridge_group_masses,
    energy_transport,
    fda,
    latent_groups,
    mass_shares,
)
from crossmodal.geometry.coactivation import (
    Coactivation,
    RowSupport,
    connectivity,
    negative_interference,
    normalise_columns,
)
from crossmodal.geometry.conventions import DEFAULT, convention
from crossmodal.geometry.intervention import decode_with_and_without, recalls_of
from crossmodal.geometry.probing import (
    ModalityProbes,
    embedding_centre,
    probe_centre,
    probe_result,
)
from crossmodal.geometry.ranks import (
    coherence,
    effective_rank_of_spectrum,
    energy_weighted,
    singular_values,
    stable_rank_of_spectrum,
)
from crossmodal.geometry.spectrum import psd_ranks
from crossmodal.modality.energy import TAU, bimodal_mask, modality_score

NAN = float("nan")
# above this many latents the K × K accumulators are float32 (half the memory; sums of ≤ 1e6
# products of float32 codes keep a relative error near 1e-6, far below the metrics' intervals)
FLOAT64_MAX_LATENTS = 8192
# τ grid of paper B figure 12 (bridge mass by group against the unimodality threshold)
BRIDGE_TAUS = tuple(np.round(np.linspace(0.0, 0.45, 19), 3))


@dataclass
class CodePass:
    """What the second pass accumulates (see module docstring); ``keep`` (K,) is the bimodal
    mask, ``probes`` the modality probes of every centre ("data" | "atoms"), None without atoms."""

    coactivation: Coactivation
    cross_covariance: CrossCovariance
    probes: ModalityProbes | None
    keep: torch.Tensor
    l0: float = 0.0
    l1: float = 0.0
    outputs: dict = field(default_factory=lambda: {
        "full_image": [], "full_text": [], "ablated_image": [], "ablated_text": []})

    def add(self, model: Dictionary, image: torch.Tensor, text: torch.Tensor,
            image_codes: torch.Tensor, text_codes: torch.Tensor) -> None:
        """One batch of paired rows (b, d) and their codes (b, K)."""
        supports = {"image": RowSupport.of(image_codes), "text": RowSupport.of(text_codes)}
        for name, support in supports.items():
            self.l0 += float((support.values != 0).sum())
            self.l1 += float(support.values.abs().sum(dtype=torch.float64))
            self.coactivation.update(support)
            if self.probes:
                full, ablated = decode_with_and_without(model, support.codes, self.keep)
                self.outputs[f"full_{name}"].append(full.cpu())
                self.outputs[f"ablated_{name}"].append(ablated.cpu())
        self.cross_covariance.update(supports["image"], supports["text"])
        if self.probes:
            self.probes.update(image, text)

    def reconstructions(self) -> tuple[torch.Tensor, ...]:
        """Â_I, Â_T, Ã_I, Ã_T (N, d)."""
        return tuple(torch.cat(self.outputs[name]) for name in
                     ("full_image", "full_text", "ablated_image", "ablated_text"))


def _ranks(matrix: torch.Tensor) -> tuple[float, float]:
    spectrum = singular_values(matrix)
    return stable_rank_of_spectrum(spectrum), effective_rank_of_spectrum(spectrum)


def probe_centres(atoms: torch.Tensor | None, image: np.ndarray, text: np.ndarray,
                  energy: np.ndarray, names) -> dict[str, torch.Tensor]:
    """(d,) probe centre of each convention of ``names``, keyed by its kind ("data" |
    "atoms"); none without atoms."""
    if atoms is None:
        return {}
    return {convention(name).probe_centre:
            torch.as_tensor(probe_centre(atoms, image, text, energy, name)) for name in names}


def accumulator_dtype(n_latents: int) -> torch.dtype:
    """float64 up to ``FLOAT64_MAX_LATENTS`` latents, float32 above."""
    return torch.float64 if n_latents <= FLOAT64_MAX_LATENTS else torch.float32


@torch.no_grad()  # the consumer of paired_codes runs outside its no_grad: decode would keep graphs
def stream_codes(model: Dictionary, image: np.ndarray, text: np.ndarray, keep: np.ndarray,
                 batch_size: int = 4096, dtype: torch.dtype | None = None,
                 centres: dict[str, torch.Tensor] | None = None,
                 cache: CodeCache | None = None) -> CodePass:
    """The second pass over paired embeddings (N, d); ``keep`` (K,) is the bimodal mask,
    ``centres`` the probe centres (d,) by name, ``dtype`` that of the K × K accumulators
    (:func:`accumulator_dtype` when None), ``cache`` the first pass's codes."""
    device = model.device
    dtype = dtype or accumulator_dtype(model.n_latents)
    atoms = model.dictionary.detach() if model.has_decoder else None
    if centres is None:
        centres = {"data": torch.as_tensor(embedding_centre(image, text))}
    probes = ModalityProbes(atoms, centres) if atoms is not None else None
    state = CodePass(Coactivation(model.n_latents, dtype, device),
                     CrossCovariance(model.n_latents, dtype, device), probes,
                     torch.as_tensor(np.asarray(keep), device=device))
    for batch in paired_codes(model, image, text, batch_size, cache):
        state.add(model, *batch)
    return state


def _atom_metrics(atoms: torch.Tensor, energy: np.ndarray) -> dict[str, float]:
    stable, effective = _ranks(atoms)
    stable_w, effective_w = _ranks(energy_weighted(atoms, energy))
    return {"stable_rank_d": stable, "effective_rank_d": effective,
            "stable_rank_d_weighted": stable_w, "effective_rank_d_weighted": effective_w,
            "coherence": coherence(atoms)}


def _live_block(normalised: torch.Tensor) -> torch.Tensor:
    """G̃ restricted to live latents (L, L): dead rows and columns are zero, so its non-zero
    spectrum is G̃'s, at O(L³) instead of O(K³)."""
    live = normalised.diagonal() > 0
    return normalised if bool(live.all()) else normalised[live][:, live]


def _coactivation_metrics(gram: torch.Tensor, atoms: torch.Tensor | None,
                          seed: int = 0) -> dict[str, float]:
    """Ranks of the normalised Zᵀ Z over its live block (exact up to ``spectrum.EXACT_MAX``
    live latents, estimated above with ``effective_rank_z_error`` its standard error),
    connectivity and negative interference."""
    normalised = normalise_columns(gram, in_place=True)
    ranks = psd_ranks(_live_block(normalised), seed=seed)
    interference = NAN if atoms is None else negative_interference(normalised, atoms)
    return {"stable_rank_z": ranks.stable, "effective_rank_z": ranks.effective,
            "effective_rank_z_error": ranks.effective_error,
            "connectivity": connectivity(normalised), "negative_interference": interference}


@dataclass
class SharedByConventions:
    """What the conventions of one dictionary share: Σ (K, K, divided in place), the transport
    plan of FDA, and the atom-cosine quantile thresholds by q (filled on first use)."""

    sigma: torch.Tensor
    transport: EnergyTransport
    atoms: torch.Tensor
    thresholds: dict = field(default_factory=dict)

    def threshold(self, q: float | None) -> float | None:
        if q is not None and q not in self.thresholds:
            self.thresholds[q] = atom_quantile_threshold(self.atoms, q, dtype=self.sigma.dtype)
        return None if q is None else self.thresholds[q]


def _modality_metrics(state: CodePass, shared: SharedByConventions, image_energy: np.ndarray,
                      text_energy: np.ndarray, tau: float, name: str) -> dict:
    """ρ, FDA (and its parts), p_acc and the bridge shares under the convention ``name``; the
    group masses of B_Σ at τ and at every :data:`BRIDGE_TAUS` come from one blockwise pass."""
    rule = convention(name)
    mu = modality_score(image_energy, text_energy)
    threshold = shared.threshold(rule.atom_quantile)
    groups = np.stack([latent_groups(mu, t) for t in (tau, *BRIDGE_TAUS)])
    masses = bridge_group_masses(shared.sigma, shared.atoms, groups, rule, threshold)
    transport = fda(image_energy, text_energy, shared.atoms, tau, rule, threshold=threshold,
                    transport=shared.transport)
    accuracy = state.probes.accuracy(rule.probe_centre)
    return {"bridge_mass": pd.DataFrame(mass_shares(masses[1:], BRIDGE_TAUS)),
            "rho": alignment_of_masses(masses[0]),
            "fda": transport.fda, "fda_alpha": transport.alpha,
            "fda_unimodal": transport.unimodal, "fda_epsilon": transport.epsilon,
            "transport_cost": transport.cost, "transport_gap": transport.gap,
            "p_acc": probe_result(accuracy, image_energy, text_energy, tau, rule).p_acc}


def _suffixed(metrics: dict, name: str) -> dict:
    return {f"{key}_{name}": value for key, value in metrics.items() if key != "bridge_mass"}


MODALITY_METRICS = ("rho", "fda", "fda_alpha", "fda_unimodal", "fda_epsilon", "transport_cost",
                    "transport_gap", "p_acc")


def _names(conventions) -> list[str]:
    names = [conventions] if isinstance(conventions, str) else list(conventions)
    for name in names:
        convention(name)
    if not names:
        raise ValueError("conventions: name at least one of 'authors', 'paper'")
    return names


@torch.no_grad()
def dictionary_metrics(model: Dictionary, image: np.ndarray, text: np.ndarray, tau: float = TAU,
                       batch_size: int = 4096, seed: int = 0,
                       dtype: torch.dtype | None = None, conventions=DEFAULT) -> dict:
    """Paper B's table 3–4 metrics (except stability, which needs several seeds) of ``model`` on
    paired embeddings image, text (N, d): mse, r2, l0, l1 (per row, over both modalities),
    dead_share (latents that never fire on these rows), ranks and coherence of D (and
    energy-weighted), ranks of the normalised Zᵀ Z, connectivity, negative_interference,
    delta_r1 with recall1_full / recall1_bimodal (recall@1 of the full and of the bimodal-only
    reconstructions), the bimodal energy share, and, per convention (module docstring), rho,
    fda (with fda_alpha, fda_unimodal, fda_epsilon, transport_cost) and p_acc; ``conventions``
    records the first convention and ``bridge_mass`` is a DataFrame of its B_Σ mass shares by
    group pair over :data:`BRIDGE_TAUS` (paper B figure 12; absent without atoms)."""
    names = _names(conventions)
    model.eval()
    cache = CodeCache()
    statistics = code_statistics(model, image, text, batch_size, cache)
    image_energy, text_energy = statistics.image_energy, statistics.text_energy
    energy = (image_energy + text_energy) / 2
    mu = modality_score(image_energy, text_energy)
    atoms = model.dictionary.detach() if model.has_decoder else None
    centres = probe_centres(atoms, image, text, energy, names)
    state = stream_codes(model, image, text, bimodal_mask(mu, tau), batch_size, dtype, centres,
                         cache)
    del cache
    rows = len(image) + len(text)
    metrics = {"conventions": names[0], "mse": statistics.mse, "r2": statistics.r2,
               "l0": state.l0 / rows, "l1": state.l1 / rows,
               "dead_share": float(np.isnan(mu).mean()),
               "bimodal_energy_share": energy_shares(statistics, tau)["bimodal_energy_share"]}
    metrics.update(_coactivation_metrics(state.coactivation.release(), atoms, seed))
    if atoms is None:
        missing = ("stable_rank_d", "effective_rank_d", "stable_rank_d_weighted",
                   "effective_rank_d_weighted", "coherence", "delta_r1", "recall1_full",
                   "recall1_bimodal", *MODALITY_METRICS,
                   *(f"{m}_{name}" for name in names[1:] for m in MODALITY_METRICS))
        return {**metrics, **dict.fromkeys(missing, NAN)}
    metrics.update(_atom_metrics(atoms, energy))
    full, bimodal_only = recalls_of(*state.reconstructions(), seed=seed)
    metrics.update({"delta_r1": full - bimodal_only, "recall1_full": full,
                    "recall1_bimodal": bimodal_only})
    shared = SharedByConventions(state.cross_covariance.result(in_place=True),
                                 energy_transport(image_energy, text_energy, atoms), atoms)
    metrics.update(_modality_metrics(state, shared, image_energy, text_energy, tau, names[0]))
    for name in names[1:]:
        metrics.update(_suffixed(_modality_metrics(state, shared, image_energy, text_energy, tau,
                                                   name), name))
    return metrics
