"""Paper B's alignment penalty (eq. 1): L_align = −(1/b) Tr(Ẑ_I Ẑ_Tᵀ) on row-normalised codes.

Codes are (b, K): row n of the image codes Z_I and of the text codes Z_T is pair n. Since
Tr(Ẑ_I Ẑ_Tᵀ) = Σ_n cos(z_I[n], z_T[n]), the penalty is minus the mean cosine similarity of
paired codes: −1 when every image code points the same way as its caption's code.

``variant="paper"`` (the default) is eq. 1 as written. ``variant="zero_top1"`` is the authors'
code: with a_n = argmax_k |z_I[n, k]| and t_n = argmax_k |z_T[n, k]| the pair's two top-1 atoms,
both positions a_n and t_n are zeroed in BOTH codes of pair n before the cosine,

    L_align = −(1/b) Σ_n cos(m_n ⊙ z_I[n], m_n ⊙ z_T[n]),  m_n[k] = 0 if k ∈ {a_n, t_n} else 1,

so the zeroed positions get no gradient (one position when a_n = t_n, two otherwise).
"""

from __future__ import annotations

import torch

VARIANTS = ("paper", "zero_top1")


def zero_top1(image_codes: torch.Tensor, text_codes: torch.Tensor
              ) -> tuple[torch.Tensor, torch.Tensor]:
    """Paired codes (b, K) with, in both, row n's entries at the image code's and the text
    code's largest-|z| positions set to 0."""
    top = torch.stack([image_codes.abs().argmax(dim=-1), text_codes.abs().argmax(dim=-1)], -1)
    return image_codes.scatter(-1, top, 0.0), text_codes.scatter(-1, top, 0.0)


def alignment_penalty(image_codes: torch.Tensor, text_codes: torch.Tensor,
                      variant: str = "paper") -> torch.Tensor:
    """−mean_n cos(z_I[n], z_T[n]) for paired codes (b, K), a scalar; rows of zeros count as
    cos 0."""
    if variant not in VARIANTS:
        raise ValueError(f"alignment variant {variant!r}; choose one of {VARIANTS}")
    if variant == "zero_top1":
        image_codes, text_codes = zero_top1(image_codes, text_codes)
    image = torch.nn.functional.normalize(image_codes, dim=-1)
    text = torch.nn.functional.normalize(text_codes, dim=-1)
    return -(image * text).sum(-1).mean()
