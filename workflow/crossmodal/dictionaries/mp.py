"""Matching Pursuit SAE (Costa et al. 2025; paper B appendix A, algorithm 1).

Encoder, κ greedy steps on the residual r₀ = x − b_pre, vectorised over the batch:

    i_t = argmax_i s(⟨D_i, r_t⟩),  c_t = ⟨D_{i_t}, r_t⟩,  z_{i_t} += c_t,  r_{t+1} = r_t − c_t D_{i_t}

Decoder x̂ = z D + b_pre. Gradients reach D (and a trainable b_pre) through the selected inner
products and atoms (the argmax itself is piecewise constant). An atom picked twice accumulates its
coefficients, so z D always equals x − b_pre − r_κ.

Two readings, chosen by ``convention`` (each setting below can also be given on its own):

* ``authors`` — what paper B's authors train (overcomplete's ``MpSAE``): the selection score is
  s(c) = c, so the chosen atom is the one most *positively* correlated with the residual, and its
  coefficient is max(c, 0), so codes are non-negative (overcomplete adds c itself, which is
  negative only when every atom is anti-correlated with the residual; then this step adds
  nothing); atoms start from ``xavier_uniform_`` (norm ≈ √(2d/(K+d)), 0.47 at d = 256,
  K = 2048) and are never renormalised (their ``initialize_dictionary`` passes
  ``normalization='identity'``); no pre-bias and no centring. Atoms that grow win the ``max``
  more often, so many atoms never grow and die: on toyclip about 90 % of 2048 atoms are dead
  after training, while the stable rank of D (≈ 29, paper B table 3: 28.3) and the concept
  recovery of the live ones match a TopK SAE's.
* ``paper`` — algorithm 1 as printed: s(c) = |c| with signed coefficients, unit-norm atoms
  (renormalised after every step, so each update is the orthogonal projection of the residual off
  the chosen atom and ‖r‖ never increases), random unit-norm initial atoms, no pre-bias.

Unnormalised atoms make the update a non-orthogonal step: ‖r − cD_i‖² = ‖r‖² − c²(2 − ‖D_i‖²),
which still shrinks the residual while ‖D_i‖² < 2. ``atom_init="data"`` (atoms start as random
data rows) is an explicit option only: with it the atoms barely move, and a trained "dictionary"
is a store of training examples.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from crossmodal.dictionaries.base import AtomDictionary, unit_rows
from crossmodal.dictionaries.linear_sae import initialise_pre_bias

CONVENTIONS = {
    "authors": {"selection": "max", "atom_norm": "identity", "atom_init": "xavier",
                "pre_bias_init": "none"},
    "paper": {"selection": "abs", "atom_norm": "unit", "atom_init": "random",
              "pre_bias_init": "none"},
}
SELECTIONS = ("max", "abs")
ATOM_NORMS = ("unit", "identity")
ATOM_INITS = ("xavier", "random", "data")
PRE_BIAS_INITS = ("none", "zero", "mean")  # none: no pre-bias at all (fixed at 0, not trained)
# the Gram matrix D Dᵀ is formed only up to this size (1 GiB: K = 16384 in float32); above it
# each step computes the b rows it needs, D_chosen Dᵀ, so memory stays O(b·K)
GRAM_MAX_BYTES = 1 << 30


def first_argmax(x: torch.Tensor, block: int = 64) -> torch.Tensor:
    """``x.argmax(dim=-1)`` of a (b, K) tensor, the first index among ties included, in two
    passes: the maximum of each block of ``block`` columns, then the argmax inside the winning
    block. On CPU torch's argmax is not vectorised while amax is, so this is ~3x faster at
    K = 2048; when ``block`` does not divide K it is the plain argmax."""
    n_rows, n_columns = x.shape
    if n_columns % block or n_columns == block:
        return x.argmax(dim=-1)
    blocks = x.view(n_rows, n_columns // block, block)
    best_block = blocks.amax(dim=-1).argmax(dim=-1)
    rows = torch.arange(n_rows, device=x.device)
    return best_block * block + blocks[rows, best_block].argmax(dim=-1)


def _coefficient(correlation: torch.Tensor, selection: str) -> torch.Tensor:
    """The code added at a step: c under ``abs`` selection, max(c, 0) under ``max``."""
    return correlation.clamp_min(0) if selection == "max" else correlation


def gram_rows(atoms: torch.Tensor, max_bytes: int = GRAM_MAX_BYTES
              ) -> Callable[[torch.Tensor], torch.Tensor]:
    """index (b,) → the rows G[index] (b, K) of G = D Dᵀ for ``atoms`` (K, d): read from the
    formed G while it takes at most ``max_bytes``, else computed as D[index] Dᵀ (O(b·K·d) per
    call, O(b·K) memory instead of K²)."""
    if atoms.shape[0] ** 2 * atoms.element_size() <= max_bytes:
        gram = atoms @ atoms.T
        return lambda index: gram.index_select(0, index)
    return lambda index: atoms.index_select(0, index) @ atoms.T


@torch.no_grad()
def pursuit_path(x: torch.Tensor, atoms: torch.Tensor, steps: int, selection: str = "abs",
                 max_gram_bytes: int = GRAM_MAX_BYTES) -> torch.Tensor:
    """(b, steps) index of the atom chosen at each greedy step for ``x`` (b, d), ``atoms`` (K, d).

    The correlations c = r Dᵀ are updated through the Gram matrix G = D Dᵀ instead of being
    recomputed: r ← r − c_t D_i implies c ← c − c_t G_i, so each step costs O(b·K) once G is
    formed (O(K²·d), K² memory). Above ``max_bytes`` of G its rows are computed per step
    (:func:`gram_rows`): O(b·K·d) per step, O(b·K) memory.
    """
    correlations = x @ atoms.T
    rows_of = gram_rows(atoms, max_gram_bytes)
    rows = torch.arange(x.shape[0], device=x.device)
    chosen = torch.empty(x.shape[0], steps, dtype=torch.long, device=x.device)
    for t in range(steps):
        score = correlations.abs() if selection == "abs" else correlations
        chosen[:, t] = first_argmax(score)
        coefficient = _coefficient(correlations[rows, chosen[:, t]], selection)
        correlations.addcmul_(coefficient.unsqueeze(-1), rows_of(chosen[:, t]), value=-1)
    return chosen


def pursue(x: torch.Tensor, atoms: torch.Tensor, chosen: torch.Tensor, selection: str = "abs"
           ) -> tuple[torch.Tensor, torch.Tensor]:
    """Coefficients (b, steps) and final residual (b, d) along a fixed path ``chosen`` (b, steps):
    c_t = ⟨D_{i_t}, r_t⟩ (clamped at 0 under ``max``), r_{t+1} = r_t − c_t D_{i_t}.
    Differentiable in ``x`` and ``atoms``; the work is O(b·d) per step, so gradients never touch
    a (b, K) tensor."""
    residual, coefficients = x, []
    for t in range(chosen.shape[1]):
        atom = atoms.index_select(0, chosen[:, t])
        coefficient = _coefficient((atom * residual).sum(-1), selection)
        residual = residual - coefficient.unsqueeze(-1) * atom
        coefficients.append(coefficient)
    return torch.stack(coefficients, dim=1), residual


def matching_pursuit(x: torch.Tensor, atoms: torch.Tensor, steps: int, selection: str = "abs"
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    """Codes (b, K) and final residual (b, d) of ``steps`` greedy pursuit steps of ``x`` (b, d)
    on ``atoms`` (K, d); an atom chosen twice accumulates its coefficients."""
    chosen = pursuit_path(x.detach(), atoms.detach(), steps, selection)
    coefficients, residual = pursue(x, atoms, chosen, selection)
    codes = torch.zeros(x.shape[0], atoms.shape[0], dtype=x.dtype, device=x.device)
    return codes.scatter_add(-1, chosen, coefficients), residual


def _check(name: str, value: str, choices: tuple) -> None:
    if value not in choices:
        raise ValueError(f"{name} {value!r}; choose one of {choices}")


class MatchingPursuitSAE(AtomDictionary):
    method = "mp"

    def __init__(self, d: int, n_latents: int, k: int, convention: str = "authors",
                 selection: str | None = None, atom_norm: str | None = None,
                 atom_init: str | None = None, pre_bias_init: str | None = None, seed: int = 0):
        super().__init__(d, n_latents, seed)
        _check("convention", convention, tuple(CONVENTIONS))
        settings = {**CONVENTIONS[convention], **{
            name: value for name, value in (("selection", selection), ("atom_norm", atom_norm),
                                            ("atom_init", atom_init),
                                            ("pre_bias_init", pre_bias_init))
            if value is not None}}
        for name, choices in (("selection", SELECTIONS), ("atom_norm", ATOM_NORMS),
                              ("atom_init", ATOM_INITS), ("pre_bias_init", PRE_BIAS_INITS)):
            _check(name, settings[name], choices)
        if not 0 < k <= n_latents:
            raise ValueError(f"k = {k} pursuit steps must be in 1..n_latents = {n_latents}")
        self.k, self.convention = k, convention
        self.selection, self.atom_norm = settings["selection"], settings["atom_norm"]
        self.atom_init, self.pre_bias_init = settings["atom_init"], settings["pre_bias_init"]
        if self.atom_init == "xavier":
            generator = torch.Generator().manual_seed(seed)
            with torch.no_grad():
                nn.init.xavier_uniform_(self.atoms, generator=generator)
        self.after_step()
        if self.pre_bias_init == "none":
            self.pre_bias.requires_grad_(False)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return matching_pursuit(x - self.pre_bias, self.atoms, self.k, self.selection)[0]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Codes and x̂ = b_pre + z D = x − r_κ, without the dense (b, K)×(K, d) decoder product."""
        codes, residual = matching_pursuit(x - self.pre_bias, self.atoms, self.k, self.selection)
        return codes, x - residual

    @torch.no_grad()
    def after_step(self) -> None:
        if self.atom_norm == "unit":
            self.atoms.copy_(unit_rows(self.atoms))

    def initialise(self, x: torch.Tensor, generator: torch.Generator) -> None:
        """``b_pre`` (zero unless ``pre_bias_init="mean"``); with ``atom_init="data"`` the atoms
        start as normalised random samples of x − b_pre."""
        if self.pre_bias_init != "none":
            initialise_pre_bias(self.pre_bias, x, self.pre_bias_init)
        if self.atom_init == "data":
            index = torch.randint(len(x), (self.n_latents,), generator=generator).to(x.device)
            with torch.no_grad():
                self.atoms.copy_(unit_rows(x[index] - self.pre_bias))

    def hyperparameters(self) -> dict:
        return {
            **super().hyperparameters(),
            "k": self.k,
            "convention": self.convention,
            "selection": self.selection,
            "atom_norm": self.atom_norm,
            "atom_init": self.atom_init,
            "pre_bias_init": self.pre_bias_init,
        }
