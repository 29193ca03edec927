"""Within-modality views for the DeCLIP analogue (image–image and text–text self-supervision).

Images are shifted by a few pixels and flipped left–right (no colour jitter: colour is a concept),
captions lose a random share of their words (DeCLIP's EDA-style deletion) and stay start/end
delimited. With ``erase_fraction`` > 0 each image view also loses one horizontal band of rows
(random erasing, Zhong et al. 2020), set to 0, the dataset mean after normalisation. A band
hides part of the object row or the word, never the whole background: what every view of an
image still shares is mostly its image-only content (texture, tint, blur, frame), so matching
views rewards an embedding that keeps it. Without erasing, the bimodal content alone tells the
views of a batch apart, and the image-only content fades from the embedding as in plain CLIP.
"""

from __future__ import annotations

import torch

from crossmodal.encoders.tokenizer import EOT, PAD, SOT


def image_view(
    pixels: torch.Tensor, generator: torch.Generator, max_shift: int = 4,
    erase_fraction: float = 0.0,
) -> torch.Tensor:
    """A random translation by up to ``max_shift`` px (wrap-around), a left–right flip per
    image and, with ``erase_fraction`` > 0, a band of round(erase_fraction · H) consecutive rows
    at a random height per image set to 0. ``pixels``: (b, 3, H, W); the batch shares one
    shift, flips and bands are per image."""
    dx, dy = torch.randint(-max_shift, max_shift + 1, (2,), generator=generator).tolist()
    view = torch.roll(pixels, shifts=(dy, dx), dims=(2, 3))
    flip = torch.rand(pixels.shape[0], generator=generator) < 0.5
    view[flip] = view[flip].flip(-1)
    if erase_fraction > 0:
        b, _, h, _ = view.shape
        rows = round(erase_fraction * h)
        top = torch.randint(0, h - rows + 1, (b,), generator=generator)
        grid = torch.arange(h).view(1, h)
        band = (grid >= top.view(b, 1)) & (grid < (top + rows).view(b, 1))   # (b, H)
        view = view.masked_fill(band.view(b, 1, h, 1), 0.0)
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
