"""Rule train_dictionary: train one dictionary on an encoder's training-split embeddings."""

import dataclasses
from pathlib import Path

import pandas as pd

from crossmodal import runtime
from crossmodal.dictionaries import build_dictionary
from crossmodal.dictionaries.checkpoint import save_dictionary
from crossmodal.dictionaries.settings import resolve_beta, training_pairs, training_settings
from crossmodal.dictionaries.trainer import TrainingDiverged, train_dictionary
from crossmodal.errors import CrossmodalError
from crossmodal.store import read_embeddings, write_frame


def checkpoint_every(config, method) -> int | None:
    """The dictionary's own ``checkpoint_every``, else ``dictionary_training``'s."""
    own = config["dictionaries"][method].get("checkpoint_every")
    return own if own is not None else config["dictionary_training"].get("checkpoint_every")


def main(snakemake):
    seed = snakemake.params.seed
    runtime.configure(snakemake.threads, seed)
    spec, defaults = snakemake.params.dictionary, snakemake.params.training
    # how often an intermediate checkpoint is written: a logging knob, read from the config
    defaults = {**defaults, "checkpoint_every": checkpoint_every(snakemake.config,
                                                                 snakemake.wildcards.method)}
    embeddings = read_embeddings(snakemake.input.embeddings).split(defaults["split"])
    pairs = training_pairs(defaults, spec)
    if pairs is not None:
        embeddings = embeddings.subsample(pairs, snakemake.params.data_seed)
    sweep_path = snakemake.input.get("beta_sweep")
    beta = resolve_beta(spec, pd.read_csv(sweep_path) if sweep_path else None)
    settings = training_settings(defaults, spec, beta, seed, runtime.device())
    model = build_dictionary(spec, embeddings.image.shape[1], seed=seed)
    checkpoints = Path(snakemake.output.checkpoints)
    checkpoints.mkdir(parents=True, exist_ok=True)
    extra = {"encoder": snakemake.wildcards.encoder, "method": snakemake.wildcards.method,
             "beta": beta, "alignment": settings.alignment, "seed": seed,
             "training": dataclasses.asdict(settings)}

    def save_checkpoint(step, state):
        model_state = model.state_dict()
        model.load_state_dict(state)
        save_dictionary(checkpoints / f"step_{step:07d}.pt", model, spec, {**extra, "step": step})
        model.load_state_dict(model_state)

    try:
        log = train_dictionary(model, embeddings.image, embeddings.text, settings,
                               on_checkpoint=save_checkpoint, progress_file=runtime.log_stream())
    except TrainingDiverged as error:
        model.load_state_dict(error.last_good_state)
        save_dictionary(checkpoints / "last_good.pt", model, spec, extra)
        raise CrossmodalError(f"{snakemake.output.model}: {error}; the last good weights are "
                              f"in {checkpoints / 'last_good.pt'}") from None
    print(stopping_summary(log, settings), file=runtime.log_stream())
    write_frame(log, snakemake.output.log_table, {"encoder": extra["encoder"],
                                                  "method": extra["method"]})
    save_dictionary(snakemake.output.model, model, spec,
                    {**extra, "training_pairs": len(embeddings.image), "training_steps": len(log)})


def stopping_summary(log: pd.DataFrame, settings) -> str:
    """One line: how many steps and epochs ran and, with the stopping rule, where it fired."""
    if log.empty:
        return "nothing to train"
    ran = f"trained {len(log)} steps ({log['epoch'].max() + 1} of {settings.epochs} epochs)"
    if not settings.stop_when_active_stable:
        return ran
    fired = log.loc[log["rule_fired"], "step"]
    where = (f"the stopping rule fired at step {fired.iloc[0]}" if len(fired)
             else "the stopping rule did not fire (epoch limit)")
    return f"{ran}; {where}; learning rate annealed to {log['lr'].iloc[-1]:.2g}"


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
