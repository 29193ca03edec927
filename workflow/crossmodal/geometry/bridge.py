"""Bridges between modalities: functional alignment ρ, the FDA ratio and the bridge mass by group
(paper B E.2.2 "Bridge", "Functional Alignment", "Distributional Alignment", figure 12).

Shapes: codes Z_I, Z_T (N, K) of paired image and text rows; atoms D (K, d); per-modality
energies E_img, E_txt (K,); μ = E_img / (E_img + E_txt) (K,; NaN for dead latents); groups by τ:
bimodal δ_i ⇔ τ ≤ μ_i ≤ 1 − τ, image-only μ_i > 1 − τ, text-only μ_i < τ, dead (μ NaN) in none.

* Cross-covariance (eq. 6): Σ = (1/N) Z_Iᵀ Z_T (K, K), uncentred, rows matched by pair,
  accumulated over batches of pairs (only co-active pairs are scattered, see coactivation.py).
* Bridge: B_W = W ⊙ D̄ D̄ᵀ (K, K) for a weight matrix W (K, K), D̄ the unit-norm atoms
  (D Dᵀ itself for unit-norm atoms).
* ρ = Σ_{(i,j): δ_i ∨ δ_j} B_Σ,ij / Σ_{(i,j): both unimodal} B_Σ,ij, both sums over live latents
  only (dead latents are in neither set) and signed (atoms may point apart).
* FDA (eq. 7–9): a = E_img / ΣE_img, b = E_txt / ΣE_txt (K,); cost C = 1 − D̄ D̄ᵀ; Γ the exact
  optimal plan (``ot.emd``, network simplex) with marginals a and b; B_Γ = Γ ⊙ D̄ D̄ᵀ;
  transport cost c = Σ Γ ⊙ C, so Σ B_Γ = 1 − c; α = Σ_{δ_i ∨ δ_j} B_Γ,ij (bimodal-adjacent bridge);
  ε = Σ δ_i E_i / Σ E_i with E = (E_img + E_txt)/2 (bimodal energy share);
  FDA = (α / ε) · (1 − ε) / ((1 − c) − α): the bimodal share of the bridge relative to their share
  of energy, over the same ratio for unimodal latents; NaN when ε ∈ {0, 1} (a group is empty).
  Rows with a_i = 0 and columns with b_j = 0 carry no mass: they are dropped before solving (the
  plan is the same), and B_Γ is read only on the plan's support (≤ n + m − 1 non-zeros).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import ot
import torch

from crossmodal.geometry.coactivation import RowSupport, add_outer_products, support_of
from crossmodal.geometry.ranks import BLOCK_SIZE, unit_atoms, weighted_cosine_blocks
from crossmodal.modality.energy import TAU, bimodal_mask, modality_score

GROUPS = ("bimodal", "image", "text")
BIMODAL, IMAGE, TEXT, DEAD = 0, 1, 2, -1


class CrossCovariance:
    """Streaming Σ = (1/N) Z_Iᵀ Z_T (K, K): ``update`` with batches of paired codes (b, K)."""

    def __init__(self, n_latents: int, dtype: torch.dtype = torch.float64,
                 device: torch.device | str | None = None):
        self.total = torch.zeros(n_latents, n_latents, dtype=dtype, device=device)
        self.pairs = 0

    def update(self, image_codes: torch.Tensor | RowSupport,
               text_codes: torch.Tensor | RowSupport) -> None:
        """Add a batch of paired codes (b, K) (or their :class:`RowSupport`)."""
        image_codes = support_of(image_codes)
        add_outer_products(self.total, image_codes, text_codes)
        self.pairs += len(image_codes.codes)

    def result(self) -> torch.Tensor:
        return self.total / max(self.pairs, 1)


def cross_covariance(image_codes: torch.Tensor, text_codes: torch.Tensor,
                     batch_size: int = 4096) -> torch.Tensor:
    """(K, K) float64 Σ = (1/N) Z_Iᵀ Z_T of paired codes (N, K), accumulated over batches."""
    accumulator = CrossCovariance(image_codes.shape[1], device=image_codes.device)
    for start in range(0, len(image_codes), batch_size):
        stop = start + batch_size
        accumulator.update(image_codes[start:stop], text_codes[start:stop])
    return accumulator.result()


def bridge_matrix(weights: torch.Tensor, atoms: torch.Tensor, in_place: bool = False,
                  block_size: int = BLOCK_SIZE) -> torch.Tensor:
    """B_W = W ⊙ D̄ D̄ᵀ (K, K) for weights W (K, K) and atoms (K, d), over row blocks
    (ranks.weighted_cosine_blocks); ``in_place`` overwrites W (saves a K×K copy for large K)."""
    out = weights if in_place else torch.empty_like(weights)
    for rows, block in weighted_cosine_blocks(weights, atoms, block_size):
        out[rows] = block
    return out


def latent_groups(mu: np.ndarray, tau: float = TAU) -> np.ndarray:
    """(K,) group of each latent: 0 bimodal, 1 image-only, 2 text-only, −1 dead (μ NaN)."""
    groups = np.full(len(mu), DEAD)
    groups[bimodal_mask(mu, tau)] = BIMODAL
    groups[mu > 1 - tau] = IMAGE
    groups[mu < tau] = TEXT
    return groups


def group_sums(bridge: torch.Tensor, groups: np.ndarray) -> np.ndarray:
    """(3, 3) S[g, h] = Σ_{i ∈ g, j ∈ h} B_ij of a bridge (K, K) for the groups of
    :func:`latent_groups` (dead latents excluded)."""
    bridge = torch.as_tensor(bridge)
    onehot = torch.zeros(len(groups), len(GROUPS), dtype=bridge.dtype, device=bridge.device)
    live = torch.as_tensor(np.flatnonzero(groups >= 0), device=bridge.device)
    onehot[live, torch.as_tensor(groups[groups >= 0], device=bridge.device)] = 1
    return (onehot.T @ (bridge @ onehot)).double().cpu().numpy()


def _bimodal_and_unimodal(sums: np.ndarray) -> tuple[float, float]:
    """Bridge mass of pairs touching a bimodal latent, and of unimodal–unimodal pairs."""
    bimodal = sums[BIMODAL, :].sum() + sums[:, BIMODAL].sum() - sums[BIMODAL, BIMODAL]
    return float(bimodal), float(sums[IMAGE:, IMAGE:].sum())


def functional_alignment(bridge: torch.Tensor, mu: np.ndarray, tau: float = TAU) -> float:
    """ρ of a bridge B_Σ (K, K): bimodal-adjacent over unimodal–unimodal bridge mass."""
    bimodal, unimodal = _bimodal_and_unimodal(group_sums(bridge, latent_groups(mu, tau)))
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(bimodal) / np.float64(unimodal))


def bridge_mass_by_group(bridge: torch.Tensor, mu: np.ndarray, taus) -> dict[str, np.ndarray]:
    """For each τ in ``taus`` (T,), the share of the live bridge mass Σ B (K, K) in pairs touching
    a bimodal latent, image–image, text–text and image–text (either order) pairs; (T,) each."""
    shares = {name: [] for name in ("bimodal", "image_image", "text_text", "image_text")}
    for tau in taus:
        sums = group_sums(bridge, latent_groups(mu, tau))
        total = sums.sum() if sums.sum() != 0 else np.nan
        shares["bimodal"].append(_bimodal_and_unimodal(sums)[0] / total)
        shares["image_image"].append(sums[IMAGE, IMAGE] / total)
        shares["text_text"].append(sums[TEXT, TEXT] / total)
        shares["image_text"].append((sums[IMAGE, TEXT] + sums[TEXT, IMAGE]) / total)
    return {"tau": np.asarray(taus, dtype=np.float64),
            **{name: np.asarray(values) for name, values in shares.items()}}


@dataclass(frozen=True)
class FDAResult:
    """FDA and its parts; the plan Γ as its non-zero entries (image latent, text latent, mass)."""

    alpha: float
    epsilon: float
    cost: float
    fda: float
    source: np.ndarray
    target: np.ndarray
    mass: np.ndarray


def iteration_limit(n_sources: int, n_targets: int) -> int:
    """numItermax for ``ot.emd`` on an n × m problem: far above what the network simplex needs
    (the solver stops at optimality; an exhausted limit raises in :func:`transport_plan`)."""
    return max(10 ** 8, 100 * n_sources * n_targets)


def transport_plan(a: np.ndarray, b: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Exact optimal plan Γ (n, m) between histograms a (n,), b (m,) under ``cost`` (n, m);
    raises if the solver stopped before optimality."""
    cost = np.ascontiguousarray(cost, dtype=np.float64)
    plan, log = ot.emd(np.ascontiguousarray(a, dtype=np.float64),
                       np.ascontiguousarray(b, dtype=np.float64), cost,
                       numItermax=iteration_limit(*cost.shape), log=True)
    if log["warning"] is not None:
        raise RuntimeError(f"ot.emd did not reach optimality: {log['warning']}")
    return plan


def fda_ratio(alpha: float, epsilon: float, cost: float) -> float:
    """FDA = (α/ε) · (1 − ε) / ((1 − c) − α); NaN when ε is 0 or 1 (no bimodal or no unimodal
    energy: the ratio compares two groups and one is empty)."""
    if not 0 < epsilon < 1:
        return float("nan")
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(alpha) / epsilon * (1 - epsilon) / ((1 - cost) - alpha))


def fda(image_energy: np.ndarray, text_energy: np.ndarray, atoms, tau: float = TAU
        ) -> FDAResult:
    """FDA of a dictionary with atoms (K, d) and per-modality energies (K,)."""
    sources = np.flatnonzero(image_energy > 0)
    targets = np.flatnonzero(text_energy > 0)
    unit = unit_atoms(torch.as_tensor(atoms)).double()
    cost = (1 - unit[sources] @ unit[targets].T).cpu().numpy()
    plan = transport_plan(image_energy[sources] / image_energy.sum(),
                          text_energy[targets] / text_energy.sum(), cost)
    rows, cols = np.nonzero(plan)
    mass, cosine = plan[rows, cols], 1 - cost[rows, cols]
    bimodal = bimodal_mask(modality_score(image_energy, text_energy), tau)
    adjacent = bimodal[sources[rows]] | bimodal[targets[cols]]
    energy = (image_energy + text_energy) / 2
    alpha = float((mass * cosine)[adjacent].sum())
    epsilon = float(energy[bimodal].sum() / energy.sum())
    transport_cost = float((mass * cost[rows, cols]).sum())
    return FDAResult(alpha=alpha, epsilon=epsilon, cost=transport_cost,
                     fda=fda_ratio(alpha, epsilon, transport_cost),
                     source=sources[rows], target=targets[cols], mass=mass)
