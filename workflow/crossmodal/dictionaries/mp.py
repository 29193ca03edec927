"""Matching Pursuit SAE (Costa et al. 2025; paper B appendix A, algorithm 1).

Encoder, κ greedy steps on the residual r₀ = x − b_pre, vectorised over the batch:

    i_t = argmax_i |⟨D_i, r_t⟩|,  c_t = ⟨D_{i_t}, r_t⟩,  z_{i_t} += c_t,  r_{t+1} = r_t − c_t D_{i_t}

Decoder x̂ = z D + b_pre. Gradients reach D and b_pre through the selected inner products and
atoms (the argmax itself is piecewise constant). With unit-norm atoms (the default, renormalised
after every step) each update is the orthogonal projection of the residual off the chosen atom,
so ‖r‖ never increases. ``atom_norm="identity"`` keeps the atoms unnormalised as the authors'
code does; then the update is not a projection and ‖r‖ can grow (DESIGN §6). An atom picked twice
accumulates its coefficients, so z D always equals x − b_pre − r_κ.
"""

from __future__ import annotations

import torch

from crossmodal.dictionaries.base import AtomDictionary, unit_rows
from crossmodal.dictionaries.linear_sae import PRE_BIAS_INITS, initialise_pre_bias

ATOM_NORMS = ("unit", "identity")
ATOM_INITS = ("data", "random")


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


@torch.no_grad()
def pursuit_path(x: torch.Tensor, atoms: torch.Tensor, steps: int) -> torch.Tensor:
    """(b, steps) index of the atom chosen at each greedy step for ``x`` (b, d), ``atoms`` (K, d).

    The correlations c = r Dᵀ are updated through the Gram matrix G = D Dᵀ instead of being
    recomputed: r ← r − c_t D_i implies c ← c − c_t G_i, so each step costs O(b·K) instead of
    O(b·K·d).
    """
    correlations = x @ atoms.T
    gram = atoms @ atoms.T
    rows = torch.arange(x.shape[0], device=x.device)
    chosen = torch.empty(x.shape[0], steps, dtype=torch.long, device=x.device)
    for t in range(steps):
        chosen[:, t] = first_argmax(correlations.abs())
        coefficient = correlations[rows, chosen[:, t]]
        correlations.addcmul_(coefficient.unsqueeze(-1), gram.index_select(0, chosen[:, t]),
                              value=-1)
    return chosen


def pursue(x: torch.Tensor, atoms: torch.Tensor, chosen: torch.Tensor
           ) -> tuple[torch.Tensor, torch.Tensor]:
    """Coefficients (b, steps) and final residual (b, d) along a fixed path ``chosen`` (b, steps):
    c_t = ⟨D_{i_t}, r_t⟩, r_{t+1} = r_t − c_t D_{i_t}. Differentiable in ``x`` and ``atoms``; the
    work is O(b·d) per step, so gradients never touch a (b, K) tensor."""
    residual, coefficients = x, []
    for t in range(chosen.shape[1]):
        atom = atoms.index_select(0, chosen[:, t])
        coefficient = (atom * residual).sum(-1)
        residual = residual - coefficient.unsqueeze(-1) * atom
        coefficients.append(coefficient)
    return torch.stack(coefficients, dim=1), residual


def matching_pursuit(
    x: torch.Tensor, atoms: torch.Tensor, steps: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Codes (b, K) and final residual (b, d) of ``steps`` greedy pursuit steps of ``x`` (b, d)
    on ``atoms`` (K, d); an atom chosen twice accumulates its coefficients."""
    chosen = pursuit_path(x.detach(), atoms.detach(), steps)
    coefficients, residual = pursue(x, atoms, chosen)
    codes = torch.zeros(x.shape[0], atoms.shape[0], dtype=x.dtype, device=x.device)
    return codes.scatter_add(-1, chosen, coefficients), residual


class MatchingPursuitSAE(AtomDictionary):
    method = "mp"

    def __init__(
        self,
        d: int,
        n_latents: int,
        k: int,
        atom_norm: str = "unit",
        atom_init: str = "data",
        pre_bias_init: str = "mean",
        seed: int = 0,
    ):
        super().__init__(d, n_latents, seed)
        if atom_init not in ATOM_INITS or pre_bias_init not in PRE_BIAS_INITS:
            raise ValueError(
                f"atom_init {atom_init!r} / pre_bias_init {pre_bias_init!r}; choose "
                f"from {ATOM_INITS} / {PRE_BIAS_INITS}"
            )
        self.atom_init, self.pre_bias_init = atom_init, pre_bias_init
        if not 0 < k <= n_latents:
            raise ValueError(f"k = {k} pursuit steps must be in 1..n_latents = {n_latents}")
        if atom_norm not in ATOM_NORMS:
            raise ValueError(f"atom_norm {atom_norm!r}; choose one of {ATOM_NORMS}")
        self.k = k
        self.atom_norm = atom_norm

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return matching_pursuit(x - self.pre_bias, self.atoms, self.k)[0]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Codes and x̂ = b_pre + z D = x − r_κ, without the dense (b, K)×(K, d) decoder product."""
        codes, residual = matching_pursuit(x - self.pre_bias, self.atoms, self.k)
        return codes, x - residual

    @torch.no_grad()
    def after_step(self) -> None:
        if self.atom_norm == "unit":
            self.atoms.copy_(unit_rows(self.atoms))

    def initialise(self, x: torch.Tensor, generator: torch.Generator) -> None:
        """``b_pre`` as for the other SAEs; with ``atom_init="data"`` the atoms start as
        normalised random samples of x − b_pre (the classic dictionary-learning start: MP only
        moves atoms it selects, so atoms far from the data would stay dead)."""
        initialise_pre_bias(self.pre_bias, x, self.pre_bias_init)
        if self.atom_init == "data":
            index = torch.randint(len(x), (self.n_latents,), generator=generator).to(x.device)
            with torch.no_grad():
                self.atoms.copy_(unit_rows(x[index] - self.pre_bias))

    def hyperparameters(self) -> dict:
        return {
            **super().hyperparameters(),
            "k": self.k,
            "atom_norm": self.atom_norm,
            "atom_init": self.atom_init,
            "pre_bias_init": self.pre_bias_init,
        }
