"""Synthetic 3-D points for paper B figure 24: the gap-removal methods where the answer is known.

Content c is shared in the (e₁, e₂) plane; each modality adds its own bias atom along e₃ (+e₃
for images, −e₃ for texts) whose strength depends on the content — the modality information is
*adaptive*, not a constant offset (paper B appendix K.2):

    c_n = r_n (cos φ_n, sin φ_n, 0),  φ ~ U(0, 2π),  r ~ U(0.5, 1)
    I_n = c_n + (0.8 + 0.5 c_n1) e₃ + ε,   T_n = c_n − (0.8 + 0.5 c_n2) e₃ + ε'

with a small isotropic noise ε. The dictionary is {e₁, e₂ bimodal; +e₃ image-only, −e₃ text-only},
so the bimodal-only reconstruction keeps the first two coordinates. Centring and shifting match
the means but leave the images and texts on two differently tilted planes; only the bimodal
filter puts both clouds on the same one.
"""

from __future__ import annotations

import numpy as np

from crossmodal.interventions.gap_removal import GapInputs, GapReference

BIMODAL_MASK = np.array([True, True, False])


def synthetic_modalities(n: int = 300, seed: int = 0, noise: float = 0.03) -> GapInputs:
    """Paired 3-D image and text points (n, 3) and their bimodal-only parts."""
    rng = np.random.default_rng(seed)
    angle, radius = rng.uniform(0, 2 * np.pi, n), rng.uniform(0.5, 1.0, n)
    content = np.stack([radius * np.cos(angle), radius * np.sin(angle), np.zeros(n)], axis=1)
    image, text = content.copy(), content.copy()
    image[:, 2] = 0.8 + 0.5 * content[:, 0]
    text[:, 2] = -(0.8 + 0.5 * content[:, 1])
    image += noise * rng.standard_normal((n, 3))
    text += noise * rng.standard_normal((n, 3))
    return GapInputs(image, text, image * BIMODAL_MASK, text * BIMODAL_MASK)


def synthetic_reference(inputs: GapInputs, seed: int = 0) -> GapReference:
    """Means, random direction and Schrodi coordinates (e₃ carries the gap) of the clouds."""
    return GapReference.fit(inputs.image, inputs.text, seed, schrodi_share=0.5)
