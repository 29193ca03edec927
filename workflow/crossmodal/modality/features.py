"""The per-latent feature table: energies, frequencies, μ, MDS and both groupings.

:class:`LatentStatistics` accumulates paired code batches (image rows and their captions' rows)
so that no (N, K) array is held; :meth:`LatentStatistics.frame` turns the sums into one row per
latent.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from crossmodal.modality.energy import TAU, modality_groups, modality_score
from crossmodal.modality.mds import check_mds_groups, mds_from_sums, mds_groups, mds_terms


class LatentStatistics:
    """Running sums over paired codes (b, K): Σz², #(z ≠ 0) per modality and the MDS terms."""

    def __init__(self, n_latents: int, device: torch.device | str = "cpu",
                 with_mds: bool = True):
        def zeros():
            return torch.zeros(n_latents, dtype=torch.float64, device=device)

        self.n_latents = n_latents
        self.pairs = 0
        self.square_image, self.square_text = zeros(), zeros()
        self.active_image, self.active_text = zeros(), zeros()
        self.mds_ratio, self.mds_pairs = zeros(), zeros()
        self.with_mds = with_mds  # False: energies and frequencies only (no MDS terms)

    @torch.no_grad()
    def add(self, image_codes: torch.Tensor, text_codes: torch.Tensor) -> None:
        """Add a batch of paired codes: row n of ``image_codes`` and ``text_codes`` is one pair."""
        self.pairs += len(image_codes)
        # float32 sums of 0/1 are exact below 2²⁴ rows a batch, and faster than bool sums
        self.square_image += image_codes.square().sum(0, dtype=torch.float64)
        self.square_text += text_codes.square().sum(0, dtype=torch.float64)
        self.active_image += (image_codes != 0).to(torch.float32).sum(0)
        self.active_text += (text_codes != 0).to(torch.float32).sum(0)
        if self.with_mds:
            ratio, pairs = mds_terms(image_codes, text_codes)
            self.mds_ratio += ratio
            self.mds_pairs += pairs

    def _numpy(self, tensor: torch.Tensor) -> np.ndarray:
        return tensor.cpu().numpy()

    @property
    def image_energy(self) -> np.ndarray:
        """(K,) E_img = mean_n z_I[n]²."""
        return self._numpy(self.square_image) / max(self.pairs, 1)

    @property
    def text_energy(self) -> np.ndarray:
        return self._numpy(self.square_text) / max(self.pairs, 1)

    @property
    def image_frequency(self) -> np.ndarray:
        """(K,) share of image rows on which the latent is non-zero."""
        return self._numpy(self.active_image) / max(self.pairs, 1)

    @property
    def text_frequency(self) -> np.ndarray:
        return self._numpy(self.active_text) / max(self.pairs, 1)

    @property
    def mds(self) -> np.ndarray:
        if not self.with_mds:
            raise ValueError("these statistics were accumulated without the MDS terms")
        return mds_from_sums(self._numpy(self.mds_ratio), self._numpy(self.mds_pairs))

    def frame(self, tau: float = TAU) -> pd.DataFrame:
        """One row per latent: energies, frequencies, μ, dead flag, μ-group, MDS, MDS-group and
        ``mds_group_flag`` (the same on every row: "" or why the MDS grouping is degenerate,
        see ``mds.check_mds_groups``, which also warns)."""
        mu = modality_score(self.image_energy, self.text_energy)
        mds = self.mds
        groups = mds_groups(mds)
        return pd.DataFrame({
            "latent": np.arange(self.n_latents),
            "energy_image": self.image_energy,
            "energy_text": self.text_energy,
            "energy": (self.image_energy + self.text_energy) / 2,
            "frequency_image": self.image_frequency,
            "frequency_text": self.text_frequency,
            "mu": mu,
            "dead": np.isnan(mu),
            "group": modality_groups(mu, tau),
            "mds": mds,
            "mds_group": groups,
            "mds_group_flag": check_mds_groups(mds, groups),
        })
