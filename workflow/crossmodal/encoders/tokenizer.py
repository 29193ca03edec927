"""A word-level tokenizer for the toy text tower.

toyworld speaks a few hundred words; the 49,408-token BPE vocabulary would be most of a tiny
model's parameters, so the toy encoder tokenizes on words and punctuation.
Ids: 0 = padding, 1 = unknown word, 2 = start of text, 3 = end of text, 4… = the vocabulary in
sorted order. The text tower pools at the end-of-text token (open_clip ``pool_type="eos"``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import torch

PAD, UNK, SOT, EOT = 0, 1, 2, 3
SPECIAL = ("<pad>", "<unk>", "<sot>", "<eot>")
WORD_PATTERN = re.compile(r"[a-z0-9]+|[^\sa-z0-9]")


def split_words(text: str) -> list[str]:
    """Lower-cased words and single punctuation marks, in order."""
    return WORD_PATTERN.findall(text.lower())


class WordTokenizer:
    """Maps captions to fixed-length id tensors ``(n, context_length)``."""

    def __init__(self, words: Sequence[str], context_length: int = 32):
        self.words = list(SPECIAL) + sorted(set(words) - set(SPECIAL))
        self.index = {word: i for i, word in enumerate(self.words)}
        self.context_length = context_length

    @classmethod
    def fit(cls, texts: Iterable[str], context_length: int = 32) -> WordTokenizer:
        """Build the vocabulary from a corpus (the training captions)."""
        vocabulary: set[str] = set()
        for text in texts:
            vocabulary.update(split_words(text))
        return cls(sorted(vocabulary), context_length)

    @property
    def vocab_size(self) -> int:
        return len(self.words)

    def __call__(self, texts: Sequence[str]) -> torch.Tensor:
        """``[SOT, w1, …, wn, EOT, PAD…]``; captions longer than the context are truncated
        so that EOT is always the last kept token."""
        ids = torch.full((len(texts), self.context_length), PAD, dtype=torch.long)
        for row, text in enumerate(texts):
            tokens = [self.index.get(w, UNK) for w in split_words(text)][: self.context_length - 2]
            ids[row, : len(tokens) + 2] = torch.tensor([SOT, *tokens, EOT])
        return ids

    def state_dict(self) -> dict:
        return {"words": self.words[len(SPECIAL):], "context_length": self.context_length}

    @classmethod
    def from_state_dict(cls, state: dict) -> WordTokenizer:
        return cls(state["words"], state["context_length"])
