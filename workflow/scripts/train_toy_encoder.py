"""Rule train_toy_encoder: train a toy CLIP on a toyworld train split."""

from pathlib import Path

from crossmodal import runtime
from crossmodal.encoders.tokenizer import WordTokenizer
from crossmodal.encoders.toy import save_checkpoint
from crossmodal.encoders.toy_model import create_toy_clip, toy_model_config
from crossmodal.encoders.toy_training import TrainingConfig, pixel_statistics, train_toy_clip
from crossmodal.images import decode_to_array
from crossmodal.store import read_frame, write_frame


def main(snakemake):
    runtime.configure(snakemake.threads, snakemake.params.seed)
    pairs = read_frame(snakemake.input.pairs, columns=["split", "image", "caption"])
    train = pairs[pairs["split"] == "train"]
    images = decode_to_array(list(train["image"]))
    captions = list(train["caption"])
    architecture = snakemake.params.architecture
    tokenizer = WordTokenizer.fit(captions, architecture["context_length"])
    mean, std = pixel_statistics(images)
    name = snakemake.wildcards.encoder
    model_config = toy_model_config(architecture, tokenizer.vocab_size, images.shape[1])
    config_path = Path(snakemake.output.checkpoint).with_name(f"toyworld-{name}.json")
    model = create_toy_clip(model_config, config_path, snakemake.params.seed)
    training = TrainingConfig.from_mapping({**snakemake.params.training,
                                            "seed": snakemake.params.seed})
    history = train_toy_clip(model, tokenizer, images, captions, training, mean, std,
                             progress_file=runtime.log_stream())
    save_checkpoint(snakemake.output.checkpoint, name, model, model_config, tokenizer, mean, std,
                    extra={"training": dict(snakemake.params.training)})
    write_frame(history, snakemake.output.log_table, {"encoder": name})
    config_path.unlink(missing_ok=True)


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
