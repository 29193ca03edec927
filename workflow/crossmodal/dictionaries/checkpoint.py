"""Dictionary checkpoints: everything needed to rebuild a trained dictionary and say how it was
trained (architecture, hyperparameters, β, alignment variant, training config, encoder)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch

from crossmodal.atomic import atomic_path
from crossmodal.dictionaries import build_dictionary
from crossmodal.dictionaries.base import Dictionary
from crossmodal.store import ArtifactError, Embeddings, read_embeddings


def save_dictionary(path: str | Path, model: Dictionary, spec: Mapping, extra: Mapping) -> None:
    """Write ``model`` with the config block ``spec`` it was built from and ``extra`` facts."""
    state = {"spec": dict(spec), "d": model.d, "n_latents": model.n_latents,
             "hyperparameters": model.hyperparameters(), "state_dict": model.state_dict(),
             **extra}
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_dictionary(path: str | Path, expected_d: int | None = None) -> tuple[Dictionary, dict]:
    """The trained dictionary at ``path`` (eval mode) and its checkpoint facts. ``expected_d``
    guards against embeddings of another dimension."""
    path = Path(path)
    if not path.exists():
        raise ArtifactError(f"{path}: dictionary not found; run `snakemake {path}`")
    state = torch.load(path, map_location="cpu", weights_only=False)
    if expected_d is not None and expected_d != state["d"]:
        raise ArtifactError(f"{path}: dictionary expects d = {state['d']} but the embeddings "
                            f"have d = {expected_d}; retrain it on these embeddings")
    model = build_dictionary(state["spec"], state["d"], seed=state.get("seed", 0))
    model.load_state_dict(state["state_dict"])
    model.eval()
    facts = {k: v for k, v in state.items() if k != "state_dict"}
    return model, facts


def load_with_embeddings(model_path: str | Path, embeddings_path: str | Path, split: str
                         ) -> tuple[Dictionary, dict, Embeddings]:
    """A trained dictionary, its checkpoint facts, and one split of the embeddings it is applied
    to (refused when their dimension differs from the dictionary's)."""
    embeddings = read_embeddings(embeddings_path).split(split)
    model, facts = load_dictionary(model_path, expected_d=embeddings.image.shape[1])
    return model, facts, embeddings
