"""Readers of public datasets into the workflow's ``pairs`` / ``edits`` frames (DESIGN §5).

* fashioniq.py — FashionIQ relative-caption triplets for vector arithmetic (paper B appendix J).
"""

from crossmodal.data.fashioniq import FashionIQError, mean_caption_embeddings, read_fashioniq

__all__ = ["FashionIQError", "mean_caption_embeddings", "read_fashioniq"]
