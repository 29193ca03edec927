"""Paper B's alignment penalty (eq. 1): L_align = −(1/b) Tr(Ẑ_I Ẑ_Tᵀ) on row-normalised codes.

Tr(Ẑ_I Ẑ_Tᵀ) = Σ_n cos(z_I[n], z_T[n]), so the penalty is minus the mean cosine similarity of
paired codes: −1 when every image code points the same way as its caption's code. The authors'
code first zeroes each sample's top-1 atom (largest |z|) in each modality — offered as
``zero_top1=True``; the default is the paper's formula (DESIGN §6).
"""

from __future__ import annotations

import torch

VARIANTS = ("paper", "zero_top1")


def zero_top1(codes: torch.Tensor) -> torch.Tensor:
    """Codes with each row's largest-magnitude entry set to 0."""
    top = codes.abs().argmax(dim=-1, keepdim=True)
    return codes.scatter(-1, top, 0.0)


def alignment_penalty(image_codes: torch.Tensor, text_codes: torch.Tensor,
                      variant: str = "paper") -> torch.Tensor:
    """−mean_n cos(z_I[n], z_T[n]) for paired codes (b, K); rows of zeros count as cos 0."""
    if variant not in VARIANTS:
        raise ValueError(f"alignment variant {variant!r}; choose one of {VARIANTS}")
    if variant == "zero_top1":
        image_codes, text_codes = zero_top1(image_codes), zero_top1(text_codes)
    image = torch.nn.functional.normalize(image_codes, dim=-1)
    text = torch.nn.functional.normalize(text_codes, dim=-1)
    return -(image * text).sum(-1).mean()
