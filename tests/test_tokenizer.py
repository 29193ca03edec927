"""The word-level tokenizer and the DeCLIP-analogue views."""

import torch

from crossmodal.encoders.augment import image_view, text_view
from crossmodal.encoders.tokenizer import EOT, PAD, SOT, UNK, WordTokenizer, split_words


def test_split_words_keeps_punctuation_as_tokens():
    assert split_words('Wow two Red stars ! ! " peace "') == [
        "wow", "two", "red", "stars", "!", "!", '"', "peace", '"']


def test_tokens_are_delimited_and_padded():
    tokenizer = WordTokenizer.fit(["a red star", "a blue circle"], context_length=8)
    ids = tokenizer(["a red star", "a green star"])
    assert ids.shape == (2, 8)
    red, star, a = (tokenizer.index[w] for w in ("red", "star", "a"))
    assert ids[0].tolist() == [SOT, a, red, star, EOT, PAD, PAD, PAD]
    assert ids[1, 2].item() == UNK  # "green" is not in the vocabulary


def test_truncation_keeps_the_end_token():
    tokenizer = WordTokenizer.fit(["a b c d e f g h i j"], context_length=5)
    ids = tokenizer(["a b c d e f g h i j"])[0].tolist()
    assert ids[0] == SOT and ids[-1] == EOT and len(ids) == 5


def test_state_round_trip():
    tokenizer = WordTokenizer.fit(["one small red star at the top"], context_length=12)
    again = WordTokenizer.from_state_dict(tokenizer.state_dict())
    assert again.words == tokenizer.words
    assert torch.equal(again(["one red star"]), tokenizer(["one red star"]))


def test_text_view_only_drops_words_and_keeps_delimiters():
    tokenizer = WordTokenizer.fit(["a b c d e f g h"], context_length=12)
    ids = tokenizer(["a b c d e f g h"] * 50)
    view = text_view(ids, torch.Generator().manual_seed(0), drop=0.3)
    for original, dropped in zip(ids.tolist(), view.tolist()):
        kept = [t for t in dropped if t != PAD]
        assert kept[0] == SOT and kept[-1] == EOT
        words = kept[1:-1]
        full = [t for t in original if t not in (PAD, SOT, EOT)]
        iterator = iter(full)  # kept words are a subsequence of the original, in order
        assert all(any(w == x for x in iterator) for w in words)
    assert (view != PAD).sum() < (ids != PAD).sum()


def test_image_view_is_a_translation_or_flip_of_the_input():
    pixels = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).reshape(2, 3, 8, 8)
    view = image_view(pixels, torch.Generator().manual_seed(1), max_shift=2)
    assert view.shape == pixels.shape
    assert sorted(view.flatten().tolist()) == sorted(pixels.flatten().tolist())


def test_image_view_erases_one_band_of_rows_per_image():
    pixels = torch.arange(1, 1 + 4 * 3 * 10 * 10, dtype=torch.float32).reshape(4, 3, 10, 10)
    plain = image_view(pixels, torch.Generator().manual_seed(3), max_shift=1)
    erased = image_view(pixels, torch.Generator().manual_seed(3), max_shift=1,
                        erase_fraction=0.3)
    for image in range(4):
        blank = (erased[image] == 0).all(dim=(0, 2))               # (H,) rows set to 0
        rows = torch.nonzero(blank).flatten().tolist()
        assert len(rows) == 3 and rows == list(range(rows[0], rows[0] + 3))   # 0.3 · 10, one band
        kept = ~blank                                              # every other row as without
        assert torch.equal(erased[image][:, kept], plain[image][:, kept])
