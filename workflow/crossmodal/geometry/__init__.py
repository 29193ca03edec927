"""Geometry of a trained dictionary on paired embeddings (paper B appendix E.2).

* ranks.py — stable / effective rank, coherence, atom cosines (structure in D);
* coactivation.py — streamed Zᵀ Z, connectivity, negative interference (structure in Zᵀ Z);
* probing.py — p_acc, the atoms as modality probes;
* bridge.py — cross-covariance Σ, bridges B_W, ρ, FDA by exact optimal transport, mass by group;
* intervention.py — δ_r@1, recall lost when only bimodal latents are kept;
* stability.py — distance between dictionaries trained with different seeds;
* suite.py — :func:`dictionary_metrics`, all of the above for one dictionary.
"""

from crossmodal.geometry.bridge import (
    CrossCovariance,
    FDAResult,
    bridge_mass_by_group,
    bridge_matrix,
    cross_covariance,
    fda,
    functional_alignment,
    latent_groups,
)
from crossmodal.geometry.coactivation import (
    Coactivation,
    coactivation,
    connectivity,
    negative_interference,
    normalise_columns,
)
from crossmodal.geometry.intervention import recall_drop
from crossmodal.geometry.probing import ProbeResult, p_acc, probe_accuracies
from crossmodal.geometry.ranks import coherence, effective_rank, energy_weighted, stable_rank
from crossmodal.geometry.stability import dictionary_distance, stability
from crossmodal.geometry.suite import dictionary_metrics

__all__ = [
    "Coactivation", "CrossCovariance", "FDAResult", "ProbeResult", "bridge_mass_by_group",
    "bridge_matrix", "coactivation", "coherence", "connectivity", "cross_covariance",
    "dictionary_distance", "dictionary_metrics", "effective_rank", "energy_weighted", "fda",
    "functional_alignment", "latent_groups", "negative_interference", "normalise_columns",
    "p_acc", "probe_accuracies", "recall_drop", "stability", "stable_rank",
]
