"""Paper B's toy data-generating process (appendix C.1): paired unit-norm image/text embeddings
with known *unimodal* and *bimodal* atoms.

Atom groups, all unit norm, k a concept-count unit:

* D^I (k) image-only and D^T (k) text-only "bias" atoms (high energy: activation 1);
* D^B (4k) bimodal atoms, with modality-specific additional terms D^{B,I} (4k) and D^{B,T} (4k).

Orthogonality (appendix C.1: D^I ⟂ D^T, D^B, D^{B,T}; D^{B,I} ⟂ D^T, D^{B,T}; D^B ⟂ all the rest)
is realised with three mutually orthogonal subspaces of R^d taken from a seeded QR basis:
S_B (dimension d − 2⌊d/4⌋ ≈ d/2) holds D^B, S_I (⌊d/4⌋) holds D^I and D^{B,I}, S_T (⌊d/4⌋)
holds D^T and D^{B,T}. Inside a subspace the atoms are seeded Gaussian directions, so atoms of
the same group overlap by O(1/√dim) — they are not orthogonal to each other.

One pair draws a ∈ [k], b ∈ [k] and a set S of L − 1 bimodal indices (without replacement,
shared by both modalities):

    u_I = D^I_a + Σ_{j∈S} (c_B β D^B_j + c_M β D^{B,I}_j),   x_I = u_I / ‖u_I‖
    u_T = D^T_b + Σ_{j∈S} (c_B β D^B_j + c_M β D^{B,T}_j),   x_T = u_T / ‖u_T‖

Mixing coefficients:

* ``mixing="appendix"`` (the appendix's wording): c_B = τ1, c_M = 1 − τ1. The per-modality
  components d_k^(I) = c_B D^B_k + c_M D^{B,I}_k and d_k^(T) then have cosine
  τ1² / (τ1² + (1 − τ1)²), which equals τ1 only in the limit τ1 → 1.
* ``mixing="cosine"`` (the equation of §4): c_B = √τ1, c_M = √(1 − τ1), so ‖d_k^(·)‖ = 1 and
  cos(d_k^(I), d_k^(T)) = c_B² / (c_B² + c_M²) = τ1 exactly. (c_B = τ1, c_M = √(1 − τ1²) would
  give cosine τ1², not τ1.) The mean paired cosine stays below the atom cosine, so τ2 < τ1.

In both cases cos(d_k^(I), d_k^(T)) = c_B² / (c_B² + c_M²) (D^B ⟂ D^{B,I} ⟂ D^{B,T}), and τ2 is
reachable only below it (a one-line ValueError otherwise).

β: with orthonormal-in-expectation atoms, ⟨u_I, u_T⟩ = (L−1) c_B² β² and ‖u_·‖² = 1 +
(L−1) β² (c_B² + c_M²), so E⟨x_I, x_T⟩ ≈ τ2 is the quartic (biquadratic) of the appendix,
see :func:`beta_quartic`; :func:`solve_beta` returns its only positive real root. The atoms of
one subspace overlap, so with that β the realised mean paired cosine drifts (0.318 and 0.325
instead of 0.3 at d = 128, k = 8); :func:`calibrate_beta` therefore refines β against the drawn
atoms: a root search of mean_n cos(x_I[n], x_T[n]) − τ2 on a seeded calibration sample of 4096
pairs. The realised mean paired cosine of a fresh sample is then τ2 ± 0.01 (tested).

Ground truth in the paper's two views, both with X = Z D exactly:

* ``"D1"``: atoms [D^I, D^T, D^B, D^{B,I}, D^{B,T}] (14k atoms; the paper's list says "10k" here
  and "14k" for D2, the other way round); codes 1, c_B β, c_M β, divided by ‖u‖.
* ``"D2"``: atoms [D^I, D^T, d^(I)_k / ‖d^(I)_k‖ (4k), d^(T)_k / ‖d^(T)_k‖ (4k)] (10k atoms);
  codes 1 and β ‖d_k^(·)‖, divided by ‖u‖.
* ``"D1_active"``: the 6k atoms of D1 that carry non-negligible activation when τ1 → 1
  (D^I, D^T, D^B); codes @ atoms then misses Σ_S c_M β D^{B,·}_j / ‖u‖.

Experiment 1 (τ1 = τ2 + 0.1, Iso-Energy violated) is scored against D2, experiment 2
(τ1 = 0.999, Iso-Energy holds) against D1_active (:func:`ground_truth_view`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

MIXINGS = ("appendix", "cosine")
VIEWS = ("D1", "D2", "D1_active")
ISO_ENERGY_TAU1 = 0.99  # τ1 at and above which the bimodal view D1 is the ground truth
CALIBRATION_PAIRS = 4096
MAX_DOUBLINGS = 40


@dataclass(frozen=True)
class ToySpec:
    """Parameters of the toy DGP; ``seed`` draws the atoms (samples take their own seed).

    Defaults: d = 512, the width of CLIP ViT-B/32; L = 20 (paper §4); k = 64, so that the
    L − 1 = 19 bimodal atoms of a pair are 7 % of the 4k = 256 (sparse enough for an MP SAE to
    learn them in seconds; with k = 8 they would be 19 of 32); τ2 = 0.3, the mean cosine of matched
    CLIP ViT-B/32 pairs on LAION (paper fig. 9); τ1 = 0.4 = τ2 + 0.1 (experiment 1)."""

    d: int = 512
    k: int = 64
    L: int = 20
    tau1: float = 0.4
    tau2: float = 0.3
    mixing: str = "appendix"
    seed: int = 0

    def __post_init__(self):
        if self.mixing not in MIXINGS:
            raise ValueError(f"mixing {self.mixing!r}; choose one of {MIXINGS}")
        if self.d < 4:
            raise ValueError(f"d = {self.d} must be ≥ 4 (three orthogonal subspaces)")
        if self.k < 1 or not 2 <= self.L <= 4 * self.k + 1:
            raise ValueError(f"need k ≥ 1 and 2 ≤ L ≤ 4k + 1 (L − 1 distinct bimodal atoms of "
                             f"4k), got k = {self.k}, L = {self.L}")
        if not (0 < self.tau1 <= 1 and 0 < self.tau2 < 1):
            raise ValueError(f"need 0 < τ1 ≤ 1 and 0 < τ2 < 1, got τ1 = {self.tau1}, "
                             f"τ2 = {self.tau2}")
        solve_beta(self)  # raises when τ2 is unreachable

    @property
    def mixing_coefficients(self) -> tuple[float, float]:
        """(c_B, c_M): (τ1, 1 − τ1) for ``"appendix"``, (√τ1, √(1 − τ1)) for ``"cosine"``."""
        if self.mixing == "appendix":
            return self.tau1, 1.0 - self.tau1
        return float(np.sqrt(self.tau1)), float(np.sqrt(1.0 - self.tau1))

    @property
    def atom_cosine(self) -> float:
        """cos(d_k^(I), d_k^(T)) = c_B² / (c_B² + c_M²) (D^B ⟂ D^{B,I} ⟂ D^{B,T})."""
        c_b, c_m = self.mixing_coefficients
        return c_b**2 / (c_b**2 + c_m**2)


def experiment_specs(d: int = 512, k: int = 64, L: int = 20, tau2: float = 0.3,
                     mixing: str = "appendix", seed: int = 0) -> dict[str, ToySpec]:
    """Appendix C.2's two DGPs: τ1 = τ2 + 0.1 (experiment 1) and τ1 = 0.999 (experiment 2)."""
    return {name: ToySpec(d=d, k=k, L=L, tau1=tau1, tau2=tau2, mixing=mixing, seed=seed)
            for name, tau1 in (("experiment1", tau2 + 0.1), ("experiment2", 0.999))}


def ground_truth_view(spec: ToySpec) -> str:
    """``"D1_active"`` when τ1 ≥ 0.99 (Iso-Energy holds), else ``"D2"``."""
    return "D1_active" if spec.tau1 >= ISO_ENERGY_TAU1 else "D2"


def beta_quartic(spec: ToySpec) -> np.ndarray:
    """Coefficients (highest power first) of P(β) = ((L−1) c_B² β²)² − τ2² (1 + (L−1) s β²)²,
    s = c_B² + c_M²: the squared form of (L−1) c_B² β² / (1 + (L−1) s β²) = τ2."""
    c_b, c_m = spec.mixing_coefficients
    m, s, t = spec.L - 1, c_b**2 + c_m**2, spec.tau2
    return np.array([m**2 * (c_b**4 - t**2 * s**2), 0.0, -2 * t**2 * m * s, 0.0, -t**2])


def solve_beta(spec: ToySpec) -> float:
    """The only positive real root of :func:`beta_quartic`:
    β² = τ2 / ((L−1)(c_B² − τ2 (c_B² + c_M²))), which exists iff cos(d^(I), d^(T)) > τ2."""
    c_b, c_m = spec.mixing_coefficients
    denominator = (spec.L - 1) * (c_b**2 - spec.tau2 * (c_b**2 + c_m**2))
    if denominator <= 0:
        raise ValueError(f"τ2 = {spec.tau2} is unreachable: it must be below the atom cosine "
                         f"c_B²/(c_B² + c_M²) = {spec.atom_cosine:.4f} ({spec.mixing} mixing)")
    return float(np.sqrt(spec.tau2 / denominator))


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm."""
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def subspace_dimensions(d: int) -> tuple[int, int, int]:
    """(dim S_B, dim S_I, dim S_T) = (d − 2⌊d/4⌋, ⌊d/4⌋, ⌊d/4⌋)."""
    quarter = d // 4
    return d - 2 * quarter, quarter, quarter


def random_atoms(basis: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, d) Gaussian unit directions of the subspace spanned by the columns of ``basis`` (d, m)."""
    return unit_rows(rng.standard_normal((n, basis.shape[1])) @ basis.T)


@dataclass(frozen=True)
class AtomGroups:
    """The five (·, d) atom groups: image (k), text (k), bimodal (4k), bimodal_image (4k) and
    bimodal_text (4k) = D^I, D^T, D^B, D^{B,I}, D^{B,T}."""

    image: np.ndarray
    text: np.ndarray
    bimodal: np.ndarray
    bimodal_image: np.ndarray
    bimodal_text: np.ndarray


def draw_atoms(spec: ToySpec) -> AtomGroups:
    """The atom groups in the orthogonal subspaces S_B, S_I, S_T of a seeded QR basis."""
    rng = np.random.default_rng(spec.seed)
    basis, _ = np.linalg.qr(rng.standard_normal((spec.d, spec.d)))
    dim_b, dim_i, _ = subspace_dimensions(spec.d)
    s_b, s_i, s_t = basis[:, :dim_b], basis[:, dim_b:dim_b + dim_i], basis[:, dim_b + dim_i:]
    k = spec.k
    return AtomGroups(image=random_atoms(s_i, k, rng), text=random_atoms(s_t, k, rng),
                      bimodal=random_atoms(s_b, 4 * k, rng),
                      bimodal_image=random_atoms(s_i, 4 * k, rng),
                      bimodal_text=random_atoms(s_t, 4 * k, rng))


def bimodal_components(spec: ToySpec, groups: AtomGroups) -> tuple[np.ndarray, np.ndarray]:
    """(4k, d) unnormalised d_k^(I) = c_B D^B_k + c_M D^{B,I}_k and d_k^(T) likewise."""
    c_b, c_m = spec.mixing_coefficients
    return (c_b * groups.bimodal + c_m * groups.bimodal_image,
            c_b * groups.bimodal + c_m * groups.bimodal_text)


def draw_latents(spec: ToySpec, n: int, rng: np.random.Generator
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Image atom a (n,) ∈ [k], text atom b (n,) ∈ [k], and the bimodal indicator 1_S (n, 4k)
    float with a uniform (L − 1)-subset S per row."""
    image_atom, text_atom = rng.integers(spec.k, size=n), rng.integers(spec.k, size=n)
    ranks = np.argsort(rng.random((n, 4 * spec.k)), axis=1)
    return image_atom, text_atom, (ranks < spec.L - 1).astype(np.float64)


def calibrate_beta(spec: ToySpec, groups: AtomGroups, n: int = CALIBRATION_PAIRS) -> float:
    """β with mean_n cos(x_I[n], x_T[n]) = τ2 on n pairs drawn from [``spec.seed``, 1]: u_· = P_· + β Q_·
    (P the unimodal atom, Q = Σ_S d^(·)_j) is linear in β, so each evaluation is O(n d). Brent's
    method on [0, β_hi], β_hi doubled from :func:`solve_beta` until the mean cosine exceeds τ2."""
    high = solve_beta(spec)
    image_atom, text_atom, bimodal = draw_latents(spec, n, np.random.default_rng([spec.seed, 1]))
    image_component, text_component = bimodal_components(spec, groups)
    image_p, text_p = groups.image[image_atom], groups.text[text_atom]
    image_q, text_q = bimodal @ image_component, bimodal @ text_component

    def excess(beta: float) -> float:
        image, text = unit_rows(image_p + beta * image_q), unit_rows(text_p + beta * text_q)
        return float(np.mean(np.sum(image * text, axis=1))) - spec.tau2

    for _ in range(MAX_DOUBLINGS):
        if excess(high) > 0:
            return float(brentq(excess, 0.0, high, xtol=1e-10))
        high *= 2
    raise ValueError(f"τ2 = {spec.tau2} is unreachable with the drawn atoms (mean paired cosine "
                     f"{excess(high) + spec.tau2:.4f} at β = {high:.3g})")


@dataclass(frozen=True)
class ToySample:
    """n pairs: unit-norm ``image``/``text`` (n, d) float32, the latent draws ``image_atom`` and
    ``text_atom`` (n,) ∈ [k], ``bimodal`` (n, 4k) bool (L − 1 per row), and the norms
    ``image_norm``/``text_norm`` (n,) = ‖u_I‖, ‖u_T‖."""

    image: np.ndarray
    text: np.ndarray
    image_atom: np.ndarray
    text_atom: np.ndarray
    bimodal: np.ndarray
    image_norm: np.ndarray
    text_norm: np.ndarray

    @property
    def paired_cosine(self) -> float:
        """Realised τ2: mean_n ⟨x_I[n], x_T[n]⟩."""
        return float(np.mean(np.sum(self.image.astype(np.float64) * self.text, axis=1)))


@dataclass(frozen=True)
class GroundTruth:
    """``atoms`` (K*, d) unit rows; ``image_codes``/``text_codes`` (N, K*) with codes @ atoms =
    the normalised embeddings (up to the dropped D^{B,·} terms in view ``"D1_active"``)."""

    view: str
    atoms: np.ndarray
    image_codes: np.ndarray
    text_codes: np.ndarray


class ToyDGP:
    """The DGP of one :class:`ToySpec`: atoms drawn once from ``spec.seed``, β calibrated to τ2."""

    def __init__(self, spec: ToySpec):
        self.spec = spec
        self.groups = draw_atoms(spec)
        self.components = bimodal_components(spec, self.groups)
        self.beta = calibrate_beta(spec, self.groups)

    @property
    def atom_cosine(self) -> float:
        """Realised τ1: mean_k cos(d_k^(I), d_k^(T))."""
        image, text = (unit_rows(c) for c in self.components)
        return float(np.mean(np.sum(image * text, axis=1)))

    def atoms(self, view: str) -> np.ndarray:
        """(K*, d) ground-truth atoms of ``view`` (module docstring)."""
        g = self.groups
        if view == "D1":
            return np.vstack([g.image, g.text, g.bimodal, g.bimodal_image, g.bimodal_text])
        if view == "D1_active":
            return np.vstack([g.image, g.text, g.bimodal])
        if view == "D2":
            return np.vstack([g.image, g.text, *(unit_rows(c) for c in self.components)])
        raise ValueError(f"view {view!r}; choose one of {VIEWS}")

    def sample(self, n: int, seed: int) -> ToySample:
        """n pairs drawn with ``numpy.random.default_rng(seed)``:
        u_I = D^I_a + β 1_S d^(I), u_T = D^T_b + β 1_S d^(T), x = u / ‖u‖."""
        image_atom, text_atom, bimodal = draw_latents(self.spec, n, np.random.default_rng(seed))
        image_u = self.groups.image[image_atom] + self.beta * bimodal @ self.components[0]
        text_u = self.groups.text[text_atom] + self.beta * bimodal @ self.components[1]
        image_norm, text_norm = np.linalg.norm(image_u, axis=1), np.linalg.norm(text_u, axis=1)
        return ToySample(image=(image_u / image_norm[:, None]).astype(np.float32),
                         text=(text_u / text_norm[:, None]).astype(np.float32),
                         image_atom=image_atom, text_atom=text_atom, bimodal=bimodal > 0,
                         image_norm=image_norm, text_norm=text_norm)

    def ground_truth(self, sample: ToySample, view: str) -> GroundTruth:
        """Atoms (K*, d) and the (N, K*) codes of the image and the text rows in ``view``."""
        atoms = self.atoms(view)
        image_codes, text_codes = self._codes(sample, view)
        return GroundTruth(view=view, atoms=atoms,
                           image_codes=image_codes / sample.image_norm[:, None],
                           text_codes=text_codes / sample.text_norm[:, None])

    def _codes(self, sample: ToySample, view: str) -> tuple[np.ndarray, np.ndarray]:
        """Unnormalised (N, K*) codes: one-hot unimodal columns, then the bimodal columns."""
        k = self.spec.k
        image_hot = np.eye(k)[sample.image_atom]
        text_hot = np.eye(k)[sample.text_atom]
        chosen = sample.bimodal.astype(np.float64)
        zero_k, zero_4k = np.zeros_like(image_hot), np.zeros_like(chosen)
        if view == "D2":
            image_norms, text_norms = (np.linalg.norm(c, axis=1) for c in self.components)
            return (np.hstack([image_hot, zero_k, self.beta * chosen * image_norms, zero_4k]),
                    np.hstack([zero_k, text_hot, zero_4k, self.beta * chosen * text_norms]))
        c_b, c_m = self.spec.mixing_coefficients
        shared, specific = c_b * self.beta * chosen, c_m * self.beta * chosen
        image = np.hstack([image_hot, zero_k, shared, specific, zero_4k])
        text = np.hstack([zero_k, text_hot, shared, zero_4k, specific])
        if view == "D1_active":
            return image[:, :6 * k], text[:, :6 * k]
        if view == "D1":
            return image, text
        raise ValueError(f"view {view!r}; choose one of {VIEWS}")
