"""Bridges between modalities: functional alignment ρ, the FDA ratio and the bridge mass by group
(paper B E.2.2 "Bridge", "Functional Alignment", "Distributional Alignment", figure 12).

Shapes: codes Z_I, Z_T (N, K) of paired image and text rows; atoms D (K, d); per-modality
energies E_img, E_txt (K,); μ = E_img / (E_img + E_txt) (K,; NaN for dead latents); groups by τ:
bimodal δ_i ⇔ τ ≤ μ_i ≤ 1 − τ, image-only μ_i > 1 − τ, text-only μ_i < τ, dead (μ NaN) in none.
What the two conventions (``authors`` | ``paper``, conventions.py) change is said where it acts.

* Cross-covariance (eq. 6): Σ = (1/N) Z_Iᵀ Z_T (K, K), uncentred, rows matched by pair,
  accumulated over batches of pairs (only co-active pairs are scattered, see coactivation.py).
* Bridge: B_W = W ⊙ D̄ D̄ᵀ (K, K) for a weight matrix W (K, K), D̄ the unit-norm atoms.
  ``authors`` zeroes the entries with |D̄D̄ᵀ| below the 0.9-quantile of D̄D̄ᵀ and, for B_Σ, those
  with |Σ| below the 0.999-quantile of Σ (quantiles of the signed matrices over all K² entries).
* Mass: M(g, h) = Σ_{i ∈ g, j ∈ h} |B_ij| over live latents — magnitudes, so two always-on bias
  atoms pointing apart add mass instead of cancelling it.
* ρ = M(pairs touching a bimodal latent) / M(pairs of two unimodal latents).
* FDA (eq. 7–9): a = E_img / ΣE_img, b = E_txt / ΣE_txt (K,; dead atoms 0); cost C = 1 − D̄ D̄ᵀ;
  Γ the exact optimal plan (``ot.emd``, network simplex) with marginals a and b; B_Γ = Γ ⊙ D̄ D̄ᵀ
  (masked as above under ``authors``); transport cost c = Σ Γ ⊙ C;
  α = M_Γ(pairs touching a bimodal latent), U = M_Γ(unimodal pairs);
  ε = Σ δ_i E_i / Σ E_i with E = (E_img + E_txt)/2 (bimodal energy share; ``authors`` counts
  τ < μ < 1 − τ strictly); FDA = (α / ε) · (1 − ε) / U. Eq. 9 writes U as (1 − c) − α: the two
  agree when no transported pair points apart (then Σ|B_Γ| = Σ Γ cos = 1 − c) and no mask acts.
  NaN, with the reason logged, when ε ∈ {0, 1} or U = 0 (a group is empty).
  Rows with a_i = 0 and columns with b_j = 0 carry no mass: they are dropped before solving (the
  plan is the same), and B_Γ is read only on the plan's support (≤ n + m − 1 non-zeros). Above
  ``DENSE_TRANSPORT_ARCS`` live pairs the same optimal plan comes from column generation on the
  atoms (transport.py), without the dense n × m cost; ``FDAResult.gap`` is its certified
  distance to the optimum, and the authors' atom quantile is then taken over the cosine blocks
  (``ranks.streamed_quantile_threshold``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import ot
import torch

from crossmodal.geometry.coactivation import RowSupport, add_outer_products, support_of
from crossmodal.geometry.conventions import DEFAULT, Convention, convention
from crossmodal.geometry.ranks import (
    BLOCK_SIZE,
    atom_cosines,
    cosine_blocks,
    matrix_quantile_threshold,
    streamed_quantile_threshold,
    unit_atoms,
    weighted_cosine_blocks,
)
from crossmodal.geometry.transport import sparse_exact_transport
from crossmodal.modality.energy import (
    TAU,
    bimodal_energy_share,
    bimodal_mask,
    modality_score,
)

LOG = logging.getLogger(__name__)
# above n · m live arcs FDA's plan comes from column generation instead of the dense network
# simplex (same optimum; measured equal to 1e-8 at 4096²: benchmarks/metrics.py)
DENSE_TRANSPORT_ARCS = 4096 * 4096
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

    def result(self, in_place: bool = False) -> torch.Tensor:
        """Σ (K, K); ``in_place`` divides the running total itself (no K × K copy), after
        which the accumulator is spent."""
        if in_place:
            return self.total.div_(max(self.pairs, 1))
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


def quantile_threshold(matrix: torch.Tensor, q: float) -> float:
    """The ⌊q·n⌋-th smallest of the n entries of ``matrix`` (signed, all entries, at least the
    1st): the authors' ``kthvalue`` quantile."""
    flat = matrix.reshape(-1)
    return float(flat.kthvalue(max(1, int(q * flat.numel()))).values)


def quantile_mask(matrix: torch.Tensor, q: float) -> torch.Tensor:
    """(K, K) bool: |M_ij| ≥ the q-quantile of the signed entries of M (K, K)."""
    return matrix.abs() >= quantile_threshold(matrix, q)


def bridge_cosines(atoms, conventions: str | Convention = DEFAULT,
                   like: torch.Tensor | None = None) -> torch.Tensor:
    """D̄ D̄ᵀ (K, K) of atoms (K, d) with the convention's atom-quantile mask (entries below it
    zeroed), in ``like``'s dtype and device; it depends on the atoms only, so a bootstrap over
    pairs computes it once (geometry/resampling.py)."""
    atoms = torch.as_tensor(atoms)
    cosines = atom_cosines(atoms if like is None else atoms.to(like))
    cosines = cosines if like is None else cosines.to(like.device)
    rule = convention(conventions)
    if rule.atom_quantile is not None:
        cosines[~quantile_mask(cosines, rule.atom_quantile)] = 0
    return cosines


def modality_bridge(weights: torch.Tensor, atoms, conventions: str | Convention = DEFAULT,
                    in_place: bool = False, cosines: torch.Tensor | None = None
                    ) -> torch.Tensor:
    """B_Σ (K, K) for the cross-covariance ``weights`` Σ (K, K): Σ ⊙ D̄ D̄ᵀ, with the
    convention's quantile masks on Σ and on D̄ D̄ᵀ; ``cosines`` passes the masked D̄ D̄ᵀ of
    :func:`bridge_cosines` when it is already computed."""
    rule = convention(conventions)
    if cosines is None:
        cosines = bridge_cosines(atoms, rule, weights)
    bridge = weights if in_place else weights.clone()
    if rule.covariance_quantile is not None:
        bridge[~quantile_mask(bridge, rule.covariance_quantile)] = 0
    return bridge.mul_(cosines)


def latent_groups(mu: np.ndarray, tau: float = TAU) -> np.ndarray:
    """(K,) group of each latent: 0 bimodal, 1 image-only, 2 text-only, −1 dead (μ NaN)."""
    groups = np.full(len(mu), DEAD)
    groups[bimodal_mask(mu, tau)] = BIMODAL
    groups[mu > 1 - tau] = IMAGE
    groups[mu < tau] = TEXT
    return groups


def group_masses(bridge: torch.Tensor, groups: np.ndarray) -> np.ndarray:
    """(3, 3) M[g, h] = Σ_{i ∈ g, j ∈ h} |B_ij| of a bridge (K, K) for the groups of
    :func:`latent_groups` (dead latents excluded)."""
    bridge = torch.as_tensor(bridge)
    onehot = group_onehot(groups[None], bridge.dtype, bridge.device)
    return (onehot.T @ (bridge.abs() @ onehot)).double().cpu().numpy()


def group_onehot(groups: np.ndarray, dtype: torch.dtype, device) -> torch.Tensor:
    """(K, 3·T) membership of each latent in each group of each row of ``groups`` (T, K)
    (columns 3t … 3t + 2 for row t; dead latents in none)."""
    n_sets, n_latents = groups.shape
    onehot = torch.zeros(n_latents, n_sets * len(GROUPS), dtype=dtype, device=device)
    for index, row in enumerate(groups):
        live = np.flatnonzero(row >= 0)
        onehot[torch.as_tensor(live, device=device),
               torch.as_tensor(index * len(GROUPS) + row[live], device=device)] = 1
    return onehot


def bridge_group_masses(weights: torch.Tensor, atoms, groups: np.ndarray,
                        conventions: str | Convention = DEFAULT,
                        cosine_threshold: float | None = None,
                        block_size: int = BLOCK_SIZE) -> np.ndarray:
    """(T, 3, 3) :func:`group_masses` of B_Σ = :func:`modality_bridge` (weights Σ (K, K), atoms
    (K, d)) for each row of ``groups`` (T, K), formed over row blocks of the atom cosines so that
    no K × K matrix besides Σ is ever held (at K = 32768 in float32 each is 4 GiB). The
    convention's Σ quantile is taken over Σ's row blocks and its atom quantile streamed, unless
    ``cosine_threshold`` passes it."""
    rule = convention(conventions)
    covariance_threshold = (None if rule.covariance_quantile is None
                            else matrix_quantile_threshold(weights, rule.covariance_quantile))
    if rule.atom_quantile is not None and cosine_threshold is None:
        cosine_threshold = streamed_quantile_threshold(atoms, rule.atom_quantile)
    onehot = group_onehot(np.atleast_2d(groups), weights.dtype, weights.device)
    n_sets = onehot.shape[1] // len(GROUPS)
    masses = torch.zeros(n_sets, len(GROUPS), len(GROUPS), dtype=torch.float64)
    for rows, cosines in cosine_blocks(torch.as_tensor(atoms).to(weights), block_size):
        magnitude = cosines.abs_()
        if cosine_threshold is not None:
            magnitude[magnitude < cosine_threshold] = 0
        covariance = weights[rows].abs()
        if covariance_threshold is not None:
            covariance[covariance < covariance_threshold] = 0
        by_column_group = (magnitude.mul_(covariance) @ onehot).view(-1, n_sets, len(GROUPS))
        by_row_group = onehot[rows].view(-1, n_sets, len(GROUPS))
        masses += torch.einsum("btg,bth->tgh", by_row_group, by_column_group).double().cpu()
    return masses.numpy()


def _bimodal_and_unimodal(masses: np.ndarray) -> tuple[float, float]:
    """Mass of pairs touching a bimodal latent, and of unimodal–unimodal pairs."""
    bimodal = masses[BIMODAL, :].sum() + masses[:, BIMODAL].sum() - masses[BIMODAL, BIMODAL]
    return float(bimodal), float(masses[IMAGE:, IMAGE:].sum())


def _ratio(numerator: float, denominator: float, name: str) -> float:
    """numerator / denominator, NaN (with the reason logged) when the denominator is 0."""
    if denominator <= 0:
        LOG.warning("%s is NaN: the unimodal bridge mass is 0 (no unimodal latent pair carries "
                    "any)", name)
        return float("nan")
    return float(numerator / denominator)


def alignment_of_masses(masses: np.ndarray) -> float:
    """ρ from the (3, 3) group masses of B_Σ: bimodal-adjacent over unimodal–unimodal (≥ 0)."""
    return _ratio(*_bimodal_and_unimodal(masses), "rho")


def functional_alignment(bridge: torch.Tensor, mu: np.ndarray, tau: float = TAU) -> float:
    """ρ of a bridge B_Σ (K, K): bimodal-adjacent over unimodal–unimodal bridge mass (≥ 0)."""
    return alignment_of_masses(group_masses(bridge, latent_groups(mu, tau)))


def mass_shares(masses_by_tau: np.ndarray, taus) -> dict[str, np.ndarray]:
    """For the (T, 3, 3) group masses at each τ of ``taus`` (T,), the share of the live bridge
    mass in pairs touching a bimodal latent, image–image, text–text and image–text (either
    order) pairs; (T,) each, in [0, 1] and summing to 1 (NaN when the bridge carries no mass)."""
    shares = {name: [] for name in ("bimodal", "image_image", "text_text", "image_text")}
    for masses in masses_by_tau:
        total = masses.sum() if masses.sum() > 0 else np.nan
        shares["bimodal"].append(_bimodal_and_unimodal(masses)[0] / total)
        shares["image_image"].append(masses[IMAGE, IMAGE] / total)
        shares["text_text"].append(masses[TEXT, TEXT] / total)
        shares["image_text"].append((masses[IMAGE, TEXT] + masses[TEXT, IMAGE]) / total)
    return {"tau": np.asarray(taus, dtype=np.float64),
            **{name: np.asarray(values) for name, values in shares.items()}}


def bridge_mass_by_group(bridge: torch.Tensor, mu: np.ndarray, taus) -> dict[str, np.ndarray]:
    """:func:`mass_shares` of a bridge Σ|B| (K, K) at each τ in ``taus`` (T,)."""
    return mass_shares(np.stack([group_masses(bridge, latent_groups(mu, tau)) for tau in taus]),
                       taus)


@dataclass(frozen=True)
class FDAResult:
    """FDA and its parts (α, U, ε, the transport cost c); the plan Γ as its non-zero entries
    (image latent, text latent, mass)."""

    alpha: float
    unimodal: float
    epsilon: float
    cost: float
    fda: float
    source: np.ndarray
    target: np.ndarray
    mass: np.ndarray
    gap: float = 0.0  # certified distance of ``cost`` to the optimum (0: the network simplex)


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


def fda_ratio(alpha: float, unimodal: float, epsilon: float) -> float:
    """FDA = (α/ε) · (1 − ε) / U; NaN (reason logged) when ε is 0 or 1 or U = 0: the ratio
    compares the bimodal and the unimodal group and one of them is empty."""
    if not 0 < epsilon < 1:
        LOG.warning("FDA is NaN: the bimodal energy share ε = %s leaves a group empty", epsilon)
        return float("nan")
    return _ratio(alpha / epsilon * (1 - epsilon), unimodal, "FDA")


@dataclass(frozen=True)
class EnergyTransport:
    """The optimal plan Γ between a = E_img / ΣE_img and b = E_txt / ΣE_txt under
    C = 1 − D̄ D̄ᵀ, as its non-zeros: image latent ``source``, text latent ``target``, ``mass`` and
    the pair's ``cosine``; ``gap`` the certified distance of its cost to the optimum (0: the
    network simplex). It depends on the energies and atoms only, not on the convention."""

    source: np.ndarray
    target: np.ndarray
    mass: np.ndarray
    cosine: np.ndarray
    gap: float = 0.0


def energy_transport(image_energy: np.ndarray, text_energy: np.ndarray, atoms,
                     cosines: torch.Tensor | None = None) -> EnergyTransport:
    """Γ of FDA for energies (K,) and atoms (K, d) (module docstring): the network simplex on the
    live atoms up to ``DENSE_TRANSPORT_ARCS`` live pairs, column generation above; ``cosines``
    (the unmasked D̄ D̄ᵀ, K × K) may be passed when already computed."""
    sources = np.flatnonzero(image_energy > 0)
    targets = np.flatnonzero(text_energy > 0)
    a = image_energy[sources] / image_energy.sum()
    b = text_energy[targets] / text_energy.sum()
    if len(sources) * len(targets) <= DENSE_TRANSPORT_ARCS:
        if cosines is None:
            unit = unit_atoms(torch.as_tensor(atoms).double().cpu())
            transported = (unit[sources] @ unit[targets].T).numpy()
        else:
            transported = cosines[sources][:, targets].cpu().numpy()
        plan = transport_plan(a, b, 1 - transported)
        rows, cols = np.nonzero(plan)
        return EnergyTransport(sources[rows], targets[cols], plan[rows, cols],
                               transported[rows, cols])
    unit = unit_atoms(torch.as_tensor(atoms).double().cpu())
    sparse = sparse_exact_transport(a, b, unit[sources], unit[targets])
    source, target = sources[sparse.rows], targets[sparse.cols]
    return EnergyTransport(source, target, sparse.mass,
                           (unit[source] * unit[target]).sum(1).numpy(), sparse.gap)


def atom_quantile_threshold(atoms, q: float, cosines: torch.Tensor | None = None,
                            dtype: torch.dtype = torch.float64) -> float:
    """The q-quantile of the signed atom cosines D̄ D̄ᵀ: from ``cosines`` when given, else
    streamed over row blocks of the cosines in ``dtype`` (the same entry)."""
    return (quantile_threshold(cosines, q) if cosines is not None
            else streamed_quantile_threshold(atoms, q, dtype=dtype))


def fda(image_energy: np.ndarray, text_energy: np.ndarray, atoms, tau: float = TAU,
        conventions: str | Convention = DEFAULT, cosines: torch.Tensor | None = None,
        threshold: float | None = None, transport: EnergyTransport | None = None) -> FDAResult:
    """FDA of a dictionary with atoms (K, d) and per-modality energies (K,). ``cosines`` (the
    unmasked float64 D̄ D̄ᵀ, K × K), ``threshold`` (its convention quantile) and ``transport``
    (:func:`energy_transport`) may be passed when already computed: they depend on the atoms
    and energies only (the conventions of one dictionary share them; a bootstrap over pairs
    reuses the first two)."""
    rule = convention(conventions)
    if transport is None:
        transport = energy_transport(image_energy, text_energy, atoms, cosines)
    bridge = transport.mass * np.abs(transport.cosine)
    if rule.atom_quantile is not None:
        if threshold is None:
            threshold = atom_quantile_threshold(atoms, rule.atom_quantile, cosines)
        bridge *= np.abs(transport.cosine) >= threshold
    groups = latent_groups(modality_score(image_energy, text_energy), tau)
    source_group, target_group = groups[transport.source], groups[transport.target]
    adjacent = (source_group == BIMODAL) | (target_group == BIMODAL)
    unimodal = (source_group > BIMODAL) & (target_group > BIMODAL)
    alpha, unimodal_mass = float(bridge[adjacent].sum()), float(bridge[unimodal].sum())
    epsilon = bimodal_energy_share(image_energy, text_energy, tau, rule.strict_epsilon)
    return FDAResult(alpha=alpha, unimodal=unimodal_mass, epsilon=epsilon,
                     cost=float((transport.mass * (1 - transport.cosine)).sum()),
                     fda=fda_ratio(alpha, unimodal_mass, epsilon), source=transport.source,
                     target=transport.target, mass=transport.mass, gap=transport.gap)
