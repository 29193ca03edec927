"""Saved model states: round trip, atomic write, one-line error for a missing file."""

import pytest
import torch

from crossmodal.store import ArtifactError
from crossmodal.torch_state import load_state, save_state


def test_state_round_trips_weights_and_facts(tmp_path):
    path = tmp_path / "deep" / "model.pt"
    save_state(path, {"state_dict": {"w": torch.arange(3.0)}, "accuracy": 0.75})
    state = load_state(path, "toy model")
    assert torch.equal(state["state_dict"]["w"], torch.tensor([0.0, 1.0, 2.0]))
    assert state["accuracy"] == 0.75
    assert [p.name for p in path.parent.iterdir()] == ["model.pt"]  # no temporary left behind


def test_missing_state_is_one_line_naming_the_model_and_the_fix(tmp_path):
    path = tmp_path / "absent.pt"
    with pytest.raises(ArtifactError) as error:
        load_state(path, "toy model")
    message = str(error.value)
    assert "\n" not in message and "toy model not found" in message
    assert f"snakemake {path}" in message
