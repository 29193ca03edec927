"""The encoder's own dimensions as a dictionary (paper A's "CLIP" row): z = x, D = I."""

from __future__ import annotations

import torch

from crossmodal.dictionaries.base import Dictionary


class IdentityDictionary(Dictionary):
    method = "identity"

    def __init__(self, d: int, seed: int = 0):
        super().__init__(d, d)
        self.register_buffer("eye", torch.eye(d))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return x

    @property
    def dictionary(self) -> torch.Tensor:
        return self.eye
