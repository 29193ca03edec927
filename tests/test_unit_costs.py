"""Measured per-unit costs (crossmodal.unit_costs) and the hours the plan predicts from them."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from crossmodal.dictionaries.settings import training_settings
from crossmodal.encoders.tokenizer import WordTokenizer
from crossmodal.encoders.toy import ToyEncoder, save_checkpoint
from crossmodal.encoders.toy_model import create_toy_clip, toy_model_config
from crossmodal.errors import CrossmodalError
from crossmodal.plan import plan_text
from crossmodal.unit_costs import (
    COLUMNS,
    dictionary_key,
    embedding_rate,
    encoder_key,
    read_costs,
    training_rate,
    with_hours,
)
from test_plan import _config
from test_toy_encoder import ARCHITECTURE


def test_encoder_key_is_backend_model_and_precision():
    assert encoder_key({"backend": "open_clip", "name": "ViT-B-32", "pretrained": "openai"}) \
        == "open_clip ViT-B-32 fp32"
    assert encoder_key({"backend": "transformers", "model": "google/siglip-base-patch16-224",
                        "precision": "bf16"}) \
        == "transformers google/siglip-base-patch16-224 bf16"
    assert encoder_key({"backend": "toy"}) == "toy fp32"


def test_dictionary_key_keeps_shape_and_drops_training_knobs():
    spec = {"architecture": "mp", "expansion": 8, "k": 4, "epochs": 3, "lr": 1e-3}
    assert dictionary_key(spec, 16, 64) == "mp(k=4) d=16 K=128 batch=64"
    assert dictionary_key({**spec, "epochs": 30}, 16, 64) == dictionary_key(spec, 16, 64)


def test_hours_are_amount_over_rate_by_hand():
    costs = pd.DataFrame([{"unit": "embed", "key": "a", "rate_per_s": 2.0, "batch_size": 8,
                           "device": "card", "measured": "2026-12-06"}])
    table = pd.DataFrame({"pairs": [7200.0, 100.0]})
    out = with_hours(table, pd.Series(["a", "b"]), "pairs", costs, "embed")
    assert out["hours"].iloc[0] == pytest.approx(1.0)  # 7200 pairs at 2/s = 3600 s
    assert math.isnan(out["hours"].iloc[1]) and out["device"].tolist() == ["card",
                                                                           "not measured"]


def test_a_bad_costs_table_is_one_line_naming_the_file(tmp_path):
    with pytest.raises(CrossmodalError, match="absent.csv: no unit-costs table"):
        read_costs(tmp_path / "absent.csv")
    bad = tmp_path / "bad.csv"
    pd.DataFrame([{c: 1 for c in COLUMNS} | {"rate_per_s": -1.0}]).to_csv(bad, index=False)
    with pytest.raises(CrossmodalError, match="bad.csv: .*positive rates"):
        read_costs(bad)


def test_the_plan_prints_hours_for_measured_keys_only(tmp_path):
    config = _config()
    costs = pd.DataFrame([
        {"unit": "embed", "key": "toy fp32", "rate_per_s": 450 / 36.0},  # 450 pairs: 36 s
        {"unit": "train", "key": "mp(k=4) d=16 K=128 batch=64", "rate_per_s": 0.01}])
    costs = costs.assign(batch_size=64, device="test card", measured="2026-12-06")
    text = plan_text(config, tmp_path, costs)
    # sae: 5 epochs · ⌊400 / 64⌋ = 30 steps at 0.01/s = 3000 s; the topk shape is not measured
    assert "embedding: 0.01 h at the measured rates" in text
    assert "training: 0.83 h at the measured rates (1 rows without a measurement)" in text
    assert "test card" in text and "not measured" in text
    assert "Estimated hours" not in plan_text(config, tmp_path)


def test_measured_rates_are_positive_on_a_tiny_encoder_and_dictionary(tmp_path):
    tokenizer = WordTokenizer.fit(["a photo of a dog"], ARCHITECTURE["context_length"])
    config = toy_model_config(ARCHITECTURE, tokenizer.vocab_size, 64)
    model = create_toy_clip(config, tmp_path / "toy.json", seed=0)
    save_checkpoint(tmp_path / "toy.pt", "toy", model, config, tokenizer, [0.5] * 3, [0.2] * 3)
    rate = embedding_rate(ToyEncoder(tmp_path / "toy.pt"), batch_size=4, batches=2)
    assert np.isfinite(rate) and rate > 0
    spec = {"architecture": "topk", "expansion": 2, "k": 2}
    settings = training_settings({"batch_size": 8, "lr": 1e-3}, spec, 0.0, 0, "cpu")
    steps = training_rate(spec, 16, settings, steps=3)
    assert np.isfinite(steps) and steps > 0
