"""Benchmark: our TopK and Matching Pursuit SAEs against overcomplete 0.3.0's TopKSAE and MpSAE.

    python benchmarks/sae_training.py [embeddings.parquet] [--epochs N]

Same data (the toy CLIP's training-split embeddings when the parquet exists, else random unit
vectors of d = 256), same size (expansion 8, k = 20), same batch (1024 vectors per step: 512 pairs
for ours, which keeps image and text of a pair together), same epochs, Adam lr 5e-4, gradient
clipping 1.0; CPU threads as the machine has. Prints vectors/s of the training loop and the final
R² (paper B E.2.1, per instance) on the whole set. torch's one-off lazy imports (the first
Adam) are paid before any timer starts.

overcomplete 0.3.0 imports ``matplotlib.cm.get_cmap``, removed in matplotlib 3.9; the benchmark
restores that alias before importing it.
"""

import argparse
import time
from pathlib import Path

import matplotlib
import matplotlib.cm
import numpy as np
import torch

from crossmodal.dictionaries import build_dictionary
from crossmodal.dictionaries.evaluate import code_statistics
from crossmodal.dictionaries.trainer import DictionaryTraining, train_dictionary
from crossmodal.store import read_embeddings

DEFAULT = Path("results/embeddings/toyclip/toyworld.parquet")


def load(path: Path, n_pairs: int = 40000, d: int = 256) -> tuple[np.ndarray, np.ndarray]:
    if path.exists():
        embeddings = read_embeddings(path).split("train")
        return embeddings.image, embeddings.text
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2 * n_pairs, d)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x[:n_pairs], x[n_pairs:]


def ours(architecture: str, image, text, epochs: int) -> tuple[float, float]:
    model = build_dictionary({"architecture": architecture, "expansion": 8, "k": 20},
                             image.shape[1], seed=0)
    settings = DictionaryTraining(epochs=epochs, batch_size=512, lr=5e-4, seed=0)
    start = time.perf_counter()
    train_dictionary(model, image, text, settings)
    seconds = time.perf_counter() - start
    return 2 * len(image) * epochs / seconds, code_statistics(model, image, text).r2


def theirs(name: str, image, text, epochs: int) -> tuple[float, float]:
    matplotlib.cm.get_cmap = matplotlib.colormaps.get_cmap  # overcomplete 0.3.0 needs it
    from overcomplete.sae import MpSAE, TopKSAE, train_sae

    torch.manual_seed(0)
    d = image.shape[1]
    model = TopKSAE(d, 8 * d, top_k=20) if name == "TopKSAE" else MpSAE(d, 8 * d, k=20)
    x = torch.from_numpy(np.concatenate([image, text]))
    loader = torch.utils.data.DataLoader(x, batch_size=1024, shuffle=True, drop_last=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-4)

    def criterion(x, x_hat, pre_codes, codes, dictionary):
        return (x - x_hat).square().sum(-1).mean()

    start = time.perf_counter()
    train_sae(model, loader, criterion, optimizer, nb_epochs=epochs, clip_grad=1.0, monitoring=0)
    seconds = time.perf_counter() - start
    with torch.no_grad():
        x_hat = torch.cat([model(x[i:i + 4096])[2] for i in range(0, len(x), 4096)])
    residual = (x - x_hat).square().sum(-1)
    spread = (x - x.mean(0)).square().sum(-1).clamp_min(1e-12)
    return len(loader) * 1024 * epochs / seconds, float((1 - residual / spread).mean())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("embeddings", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    image, text = load(args.embeddings)
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])  # first Adam pays torch's lazy imports
    print(f"{len(image)} pairs, d = {image.shape[1]}, K = {8 * image.shape[1]}, k = 20, "
          f"{args.epochs} epochs, {torch.get_num_threads()} threads")
    results = {"ours topk": ours("topk", image, text, args.epochs),
               "overcomplete TopKSAE": theirs("TopKSAE", image, text, args.epochs),
               "ours mp": ours("mp", image, text, args.epochs),
               "overcomplete MpSAE": theirs("MpSAE", image, text, args.epochs)}
    print(f"{'model':24s} {'vectors/s':>10s} {'R²':>7s}")
    for name, (speed, r2) in results.items():
        print(f"{name:24s} {speed:10.0f} {r2:7.4f}")
    for ours_name, their_name in (("ours topk", "overcomplete TopKSAE"),
                                  ("ours mp", "overcomplete MpSAE")):
        ratio = results[ours_name][0] / results[their_name][0]
        delta = results[ours_name][1] - results[their_name][1]
        print(f"{ours_name} / {their_name}: {ratio:.2f}× speed, ΔR² = {delta:+.4f}")


if __name__ == "__main__":
    main()
