"""Paper B's sanity check on toy data (§4, appendix C): a data-generating process with known
unimodal and bimodal atoms (``dgp``), recovery metrics W and mma (``recovery``), and the
SAE vs SAE-A comparison of table 5 (``experiment``)."""

from crossmodal.synthetic.dgp import (
    GroundTruth,
    ToyDGP,
    ToySample,
    ToySpec,
    experiment_specs,
    ground_truth_view,
)
from crossmodal.synthetic.recovery import atom_wasserstein, matching_accuracy

__all__ = ["GroundTruth", "ToyDGP", "ToySample", "ToySpec", "atom_wasserstein",
           "experiment_specs", "ground_truth_view", "matching_accuracy"]
