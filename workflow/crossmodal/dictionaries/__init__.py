"""Dictionaries over paired embeddings: the SAE family of paper B (ReLU, JumpReLU, TopK,
BatchTopK, Matching Pursuit — each with or without the alignment penalty), paper A's Multimodal
TopK SAE and Multimodal NCL, and the identity (the encoder's own dimensions)."""

from __future__ import annotations

from collections.abc import Mapping

from crossmodal.dictionaries.alignment import alignment_penalty
from crossmodal.dictionaries.base import Dictionary
from crossmodal.dictionaries.batchtopk import BatchTopKSAE
from crossmodal.dictionaries.identity import IdentityDictionary
from crossmodal.dictionaries.jumprelu import JumpReLUSAE
from crossmodal.dictionaries.mp import MatchingPursuitSAE
from crossmodal.dictionaries.ncl import MultimodalNCL
from crossmodal.dictionaries.relu import ReLUSAE
from crossmodal.dictionaries.topk import TopKSAE

ARCHITECTURES = {
    "relu": ReLUSAE,
    "jumprelu": JumpReLUSAE,
    "topk": TopKSAE,
    "batchtopk": BatchTopKSAE,
    "mp": MatchingPursuitSAE,
    "multimodal_topk": TopKSAE,
    "ncl": MultimodalNCL,
    "identity": IdentityDictionary,
}
# Constructor arguments each architecture takes from the config besides d and n_latents.
ARGUMENTS = {
    "relu": ("l1_coefficient", "pre_bias_init"),
    "jumprelu": ("l0_coefficient", "bandwidth", "pre_bias_init"),
    "topk": ("k", "pre_bias_init", "dead_revival_coefficient"),
    "batchtopk": ("k", "pre_bias_init", "dead_revival_coefficient"),
    "mp": ("k", "convention", "selection", "atom_norm", "atom_init", "pre_bias_init"),
    "multimodal_topk": ("k", "pre_bias_init"),
    "ncl": ("hidden", "symmetric"),
    "identity": (),
}


def n_latents_of(spec: Mapping, d: int) -> int:
    """K = expansion · d (paper B: 8 or 64; paper A: 1, i.e. n = d)."""
    return round(spec.get("expansion", 1) * d)


def build_dictionary(spec: Mapping, d: int, seed: int = 0) -> Dictionary:
    """A fresh dictionary from a ``dictionaries.<name>`` config block (``architecture`` + args)."""
    architecture = spec["architecture"]
    if architecture not in ARCHITECTURES:
        raise ValueError(f"unknown dictionary architecture {architecture!r}; choose one of "
                         f"{sorted(ARCHITECTURES)}")
    if architecture == "identity":
        return IdentityDictionary(d)
    kwargs = {name: spec[name] for name in ARGUMENTS[architecture] if name in spec}
    return ARCHITECTURES[architecture](d, n_latents_of(spec, d), seed=seed, **kwargs)


__all__ = ["ARCHITECTURES", "Dictionary", "alignment_penalty", "build_dictionary"]
