"""Probing accuracy p_acc: do the atoms point along, or orthogonally to, the modality gap?
(paper B E.2.2 "Linear Structure" and E.3.)

Each atom D_i (d,) is a linear probe on the centred embeddings A = X − c (2N, d), image rows then
text rows. The centre c (d,) depends on the convention (conventions.py):

* ``paper``: the mean of all 2N rows (it makes the scores A·D_i zero-mean, as the two classes
  have N rows each);
* ``authors``: the energy-weighted mean of the atoms, c = Σ_j E_j D_j / Σ_j E_j, E (K,) as below.

The prediction is 1{A·D_i > 0} and acc_i = mean_n 1{pred_n = l_img,n}, l_img = 1 on image rows.
The score s_i of latent i, by its modality score μ_i (K,) and threshold τ:

* image-only (μ_i > 1 − τ): s_i = acc_i;
* text-only (μ_i < τ): s_i = accuracy against 1 − l_img = 1 − acc_i;
* bimodal (τ ≤ μ_i ≤ 1 − τ), m_i = max(acc_i, 1 − acc_i): ``paper`` s_i = 1 − 2 (m_i − ½) — 1 at
  chance, 0 for a perfect (image or text) classifier; ``authors`` s_i = 1.5 − m_i — 1 at chance,
  ½ for a perfect classifier;
* dead (μ_i NaN): no score, excluded.

p_acc = Σ_i E_i s_i / Σ_i E_i over live latents, E = (E_img + E_txt)/2 (K,).
The probe is streamed: each row batch adds its per-atom counts of correct predictions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from crossmodal.geometry.conventions import DEFAULT, Convention, convention
from crossmodal.modality.energy import TAU, modality_score


@dataclass(frozen=True)
class ProbeResult:
    """Per-latent probe accuracies acc (K,), scores s (K,; NaN for dead latents) and p_acc."""

    accuracy: np.ndarray
    score: np.ndarray
    p_acc: float


class ModalityProbes:
    """Streaming per-atom correct counts (K,) of the probes 1{(x − c)·D_i > 0}, for every centre
    c (d,) of ``centres`` at once: the scores x·D_i (b, K) are computed once per row batch and
    compared with each centre's offsets c·D_i (K,). ``update`` with row batches of image and of
    text embeddings (b, d)."""

    def __init__(self, atoms: torch.Tensor, centres: dict[str, torch.Tensor]):
        self.atoms = atoms
        self.offsets = {name: centre.to(device=atoms.device, dtype=atoms.dtype) @ atoms.T
                        for name, centre in centres.items()}
        self.correct = {name: torch.zeros(len(atoms), dtype=torch.float64, device=atoms.device)
                        for name in centres}
        self.rows = 0

    def update(self, image: torch.Tensor, text: torch.Tensor) -> None:
        image_scores = image.to(self.atoms) @ self.atoms.T
        text_scores = text.to(self.atoms) @ self.atoms.T
        for name, offset in self.offsets.items():
            # float32 sums of 0/1 are exact below 2²⁴ rows a batch, and faster than bool sums
            self.correct[name] += ((image_scores > offset).to(torch.float32).sum(0)
                                   + (text_scores <= offset).to(torch.float32).sum(0))
        self.rows += len(image) + len(text)

    def __bool__(self) -> bool:
        return bool(self.offsets)

    def accuracy(self, name: str) -> np.ndarray:
        """(K,) acc_i against l_img of the probes centred at ``centres[name]``."""
        return (self.correct[name] / max(self.rows, 1)).cpu().numpy()


def embedding_centre(image: np.ndarray, text: np.ndarray) -> np.ndarray:
    """(d,) float64 mean of all rows of image (N, d) and text (M, d) stacked."""
    total = image.sum(0, dtype=np.float64) + text.sum(0, dtype=np.float64)
    return total / (len(image) + len(text))


def atom_centre(atoms, energy: np.ndarray) -> np.ndarray:
    """(d,) float64 c = Σ_j E_j D_j / Σ_j E_j of atoms (K, d) and energies E (K,)."""
    atoms = torch.as_tensor(atoms).double().cpu().numpy()
    return (energy[:, None] * atoms).sum(0) / energy.sum()


def probe_centre(atoms, image: np.ndarray, text: np.ndarray, energy: np.ndarray,
                 conventions: str | Convention = DEFAULT) -> np.ndarray:
    """(d,) centre of the probes: the data mean (``paper``) or the energy-weighted atom mean
    (``authors``)."""
    if convention(conventions).probe_centre == "atoms":
        return atom_centre(atoms, energy)
    return embedding_centre(image, text)


def probe_accuracies(atoms, image: np.ndarray, text: np.ndarray, batch_size: int = 4096,
                     centre: np.ndarray | None = None) -> np.ndarray:
    """(K,) accuracy of each atom of ``atoms`` (K, d) as a probe separating image rows (N, d)
    from text rows (N, d) centred at ``centre`` (d,; default the data mean), streamed over row
    batches."""
    atoms = torch.as_tensor(atoms).double()
    centre = embedding_centre(image, text) if centre is None else centre
    probes = ModalityProbes(atoms, {"centre": torch.as_tensor(centre)})
    for start in range(0, len(image), batch_size):
        probes.update(torch.as_tensor(image[start:start + batch_size]),
                      torch.as_tensor(text[start:start + batch_size]))
    return probes.accuracy("centre")


def probe_scores(accuracy: np.ndarray, mu: np.ndarray, tau: float = TAU,
                 conventions: str | Convention = DEFAULT) -> np.ndarray:
    """(K,) s_i from accuracies (K,) and modality scores μ (K,); NaN for dead latents."""
    best = np.maximum(accuracy, 1 - accuracy)
    bimodal = 1.5 - best if convention(conventions).bimodal_score == "authors" else 2 - 2 * best
    score = np.where(mu > 1 - tau, accuracy, np.where(mu < tau, 1 - accuracy, bimodal))
    return np.where(np.isnan(mu), np.nan, score)


def probing_accuracy(score: np.ndarray, energy: np.ndarray) -> float:
    """p_acc = Σ E_i s_i / Σ E_i over latents with a score; ``score``, ``energy`` (K,)."""
    live = ~np.isnan(score)
    total = energy[live].sum()
    return float((energy[live] * score[live]).sum() / total) if total > 0 else float("nan")


def probe_result(accuracy: np.ndarray, image_energy: np.ndarray, text_energy: np.ndarray,
                 tau: float = TAU, conventions: str | Convention = DEFAULT) -> ProbeResult:
    """:class:`ProbeResult` from per-atom accuracies and per-modality energies (K,)."""
    score = probe_scores(accuracy, modality_score(image_energy, text_energy), tau, conventions)
    energy = (image_energy + text_energy) / 2
    return ProbeResult(accuracy=accuracy, score=score, p_acc=probing_accuracy(score, energy))


def p_acc(atoms, image: np.ndarray, text: np.ndarray, image_energy: np.ndarray,
          text_energy: np.ndarray, tau: float = TAU, batch_size: int = 4096,
          conventions: str | Convention = DEFAULT) -> ProbeResult:
    """p_acc of ``atoms`` (K, d) on paired embeddings image, text (N, d), with the latents'
    per-modality energies (K,) deciding image-only / text-only / bimodal."""
    centre = probe_centre(atoms, image, text, (image_energy + text_energy) / 2, conventions)
    accuracy = probe_accuracies(atoms, image, text, batch_size, centre)
    return probe_result(accuracy, image_energy, text_energy, tau, conventions)
