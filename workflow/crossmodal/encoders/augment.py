"""Within-modality views for the DeCLIP analogue (image–image and text–text self-supervision).

Views keep every bimodal concept intact: images are shifted by a few pixels and flipped left–right
(no colour jitter: colour is a concept), captions lose a random share of their words (DeCLIP's
EDA-style deletion) and stay start/end delimited.
"""

from __future__ import annotations

import torch

from crossmodal.encoders.tokenizer import EOT, PAD, SOT


def image_view(
    pixels: torch.Tensor, generator: torch.Generator, max_shift: int = 4
) -> torch.Tensor:
    """A random translation by up to ``max_shift`` px (wrap-around) and a left–right flip per
    image. ``pixels``: (b, 3, H, W); the batch shares one shift, flips are per image."""
    dx, dy = torch.randint(-max_shift, max_shift + 1, (2,), generator=generator).tolist()
    view = torch.roll(pixels, shifts=(dy, dx), dims=(2, 3))
    flip = torch.rand(pixels.shape[0], generator=generator) < 0.5
    view[flip] = view[flip].flip(-1)
    return view


def text_view(tokens: torch.Tensor, generator: torch.Generator, drop: float = 0.15) -> torch.Tensor:
    """Drop each word token with probability ``drop`` and left-pack what remains.
    ``tokens``: (b, L) ids with SOT/EOT/PAD; the delimiters are never dropped."""
    special = (tokens == SOT) | (tokens == EOT) | (tokens == PAD)
    keep = special | (torch.rand(tokens.shape, generator=generator) >= drop)
    keep &= tokens != PAD
    # Stable left-packing: sort kept positions first, preserving their order.
    order = torch.argsort((~keep).to(torch.int8), dim=1, stable=True)
    packed = torch.gather(tokens, 1, order)
    packed[torch.gather(~keep, 1, order)] = PAD
    return packed
