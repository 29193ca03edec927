"""Benchmark: dead latents, R² and step time of TopK / BatchTopK with and without a dead-latent term.

    python benchmarks/dead_latents.py [--data lowrank planted] [--alphas 0 1e-3] [--auxk 0.1]

Paper B's training scale on synthetic unit vectors: d = 256, 40 000 training pairs, K = 2048
(expansion 8), k = 20, 5 epochs of 78 steps (512 pairs = 1024 rows a step), Adam 5e-4 one-cycle,
one CPU thread. Dead share = latents that never fire on a held-out split of 10 000 pairs.

* ``lowrank``: rank-4 Gaussian data off the origin, normalised; the plain TopK SAE leaves most of
  its latents dead here (40 % on the toy world's real test split).
* ``planted``: 20-sparse positive combinations of 4096 random unit atoms, normalised.

Variants:

* ``none`` (α = 0) and ``revival α = …``: the library option ``dead_revival_coefficient``, paper B's
  authors' term −α · d · mean_{n,i}(pre[n, i] · dead[i]) (α = 1e-3 in their code);
* ``AuxK c = …`` (``--auxk``): Gao et al.'s AuxK loss as overcomplete 0.3.0 implements it
  (``top_k_auxiliary_loss``), kept here only for the comparison — it raised the dead share instead
  of lowering it, which is why the library does not offer it.

``--data lowrank --architectures topk --auxk 0.1`` (one CPU thread):

    term               dead     R²     s/step
    none               64.8 %  0.9844  0.059
    revival α = 1e-3   13.7 %  0.9753  0.097
    AuxK c = 0.1       76.0 %  0.9766  0.153
"""

import argparse

import numpy as np
import torch

from crossmodal.dictionaries import build_dictionary
from crossmodal.dictionaries.batchtopk import BatchTopKSAE
from crossmodal.dictionaries.evaluate import code_statistics
from crossmodal.dictionaries.topk import TopKSAE
from crossmodal.dictionaries.trainer import DictionaryTraining, train_dictionary

D, PAIRS, TEST_PAIRS, EXPANSION, K_ACTIVE = 256, 40_000, 10_000, 8, 20


def unit_rows(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def low_rank(n: int, rng: np.random.Generator, rank: int = 4) -> np.ndarray:
    """(n, D) unit rows of 0.5·μ + g Bᵀ/√r, B (D, r) orthonormal, g ~ N(0, I_r), |μ| = 1."""
    basis = np.linalg.qr(rng.normal(size=(D, rank)))[0]
    mean = rng.normal(size=D)
    mean /= np.linalg.norm(mean)
    return unit_rows(0.5 * mean + rng.normal(size=(n, rank)) @ basis.T / np.sqrt(rank))


def planted(n: int, rng: np.random.Generator, n_atoms: int = 4096, sparsity: int = 20
            ) -> np.ndarray:
    """(n, D) unit rows of Σ_s c_s A_{i_s}: ``sparsity`` distinct atoms, c_s ~ U(0.5, 1.5)."""
    atoms = unit_rows(rng.normal(size=(n_atoms, D)))
    chosen = np.concatenate([  # in chunks: a full (n, n_atoms) draw would take gigabytes
        np.argpartition(rng.random((min(10_000, n - start), n_atoms), dtype=np.float32),
                        sparsity, axis=1)[:, :sparsity]
        for start in range(0, n, 10_000)])
    weights = rng.uniform(0.5, 1.5, size=(n, sparsity)).astype(np.float32)
    return unit_rows(np.einsum("ns,nsd->nd", weights, atoms[chosen]))


def splits(kind: str, seed: int = 0) -> tuple[np.ndarray, ...]:
    """(train image, train text, test image, test text), each (pairs, D), one distribution."""
    rng = np.random.default_rng(seed)
    x = (low_rank if kind == "lowrank" else planted)(2 * (PAIRS + TEST_PAIRS), rng)
    return tuple(np.split(x, np.cumsum([PAIRS, PAIRS, TEST_PAIRS])))


def top_half_mask(values: torch.Tensor, candidates: torch.Tensor) -> torch.Tensor:
    """(b, K) bool: each row's ⌊K/2⌋ largest ``values`` among the ``candidates`` (b, K) bool
    (all of them in a row with at most ⌊K/2⌋; ties at the ⌊K/2⌋-th value are all kept)."""
    half = values.shape[-1] // 2
    if half == 0:
        return torch.zeros_like(candidates)
    over = candidates.sum(-1) > half
    if not over.any():
        return candidates
    crowded = values[over].masked_fill(~candidates[over], -torch.inf)
    threshold = torch.full((len(values), 1), -torch.inf, dtype=values.dtype, device=values.device)
    threshold[over] = crowded.kthvalue(values.shape[-1] - half + 1, dim=-1, keepdim=True).values
    return candidates & (values >= threshold)


class AuxK:
    """Mixin: c · L_aux, Gao et al.'s AuxK as overcomplete implements it; x (b, d), codes (b, K).

    L_aux = (1/b) Σ_n ‖(x_n − x̂_n) − Σ_i a[n, i] D_i‖²,  a = top_⌊K/2⌋(ReLU(pre) ⊙ 1{z = 0})
    per row (the residual not detached, no decoder bias; summed over d where overcomplete averages,
    as our MSE is, so c means overcomplete's ``penalty``).
    """

    coefficient = 0.1

    def auxiliary_loss(self, x: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        rows, latents = torch.nonzero(codes, as_tuple=True)
        x_hat = self.decode_support(rows, latents, codes[rows, latents], len(x))
        pre = self.pre_activations(x)
        with torch.no_grad():
            kept = top_half_mask(pre, (pre > 0) & (codes == 0))
        residual_hat = (pre * kept) @ self.atoms
        return self.coefficient * ((x - x_hat) - residual_hat).square().sum(-1).mean()


class AuxKTopK(AuxK, TopKSAE):
    pass


class AuxKBatchTopK(AuxK, BatchTopKSAE):
    pass


def model_for(architecture: str, variant: tuple[str, float]):
    """``("revival", α)`` (the library option; α = 0 is the plain SAE) or ``("auxk", c)``."""
    kind, value = variant
    if kind == "auxk":
        model = (AuxKTopK if architecture == "topk" else AuxKBatchTopK)(
            D, EXPANSION * D, K_ACTIVE, seed=0)
        model.coefficient = value
        return model
    spec = {"architecture": architecture, "expansion": EXPANSION, "k": K_ACTIVE,
            "dead_revival_coefficient": value}
    return build_dictionary(spec, D, seed=0)


def label_of(variant: tuple[str, float]) -> str:
    kind, value = variant
    if kind == "auxk":
        return f"AuxK c = {value:g}"
    return f"revival α = {value:g}" if value else "none"


def run(data: tuple[np.ndarray, ...], architecture: str, variant: tuple[str, float]) -> dict:
    """Train once; dead share and R² on the test split, mean seconds per training step."""
    train_image, train_text, test_image, test_text = data
    model = model_for(architecture, variant)
    settings = DictionaryTraining(epochs=5, batch_size=512, lr=5e-4, seed=0)
    log = train_dictionary(model, train_image, train_text, settings)
    statistics = code_statistics(model, test_image, test_text)
    dead = (statistics.image_frequency == 0) & (statistics.text_frequency == 0)
    return {"steps": len(log), "dead": float(dead.mean()), "r2": statistics.r2,
            "seconds_per_step": float(log["seconds"].iloc[-1]) / len(log)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", nargs="+", default=["lowrank", "planted"],
                        choices=["lowrank", "planted"])
    parser.add_argument("--architectures", nargs="+", default=["topk", "batchtopk"],
                        choices=["topk", "batchtopk"])
    parser.add_argument("--alphas", nargs="+", type=float, default=[0.0, 1e-3],
                        help="dead_revival_coefficient values (0 = none)")
    parser.add_argument("--auxk", nargs="*", type=float, default=[],
                        help="AuxK coefficients to compare (overcomplete's default is 0.1)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    variants = [*(("revival", a) for a in args.alphas), *(("auxk", c) for c in args.auxk)]
    print(f"{'data':8s} {'architecture':12s} {'dead-latent term':18s} {'steps':>5s} "
          f"{'dead':>6s} {'R²':>7s} {'s/step':>7s}", flush=True)
    for kind in args.data:
        data = splits(kind)
        for architecture in args.architectures:
            for variant in variants:
                row = run(data, architecture, variant)
                print(f"{kind:8s} {architecture:12s} {label_of(variant):18s} {row['steps']:5d} "
                      f"{row['dead']:6.1%} {row['r2']:7.4f} {row['seconds_per_step']:7.3f}",
                      flush=True)


if __name__ == "__main__":
    main()
