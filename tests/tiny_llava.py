"""Randomly initialised tiny LLaVA and Llama models saved to folders, for the LLaVA-victim and
language-model-judge tests."""

from __future__ import annotations

import torch


def write_tiny_llava(folder) -> None:
    """A randomly initialised LLaVA (CLIP vision 16 px, 1-layer Llama) and an offline processor
    (word-level fast tokenizer + CLIP image processor), saved with ``save_pretrained``."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import (
        CLIPImageProcessor,
        CLIPVisionConfig,
        LlamaConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
        PreTrainedTokenizerFast,
    )

    words = ["<unk>", "<pad>", "<s>", "</s>", "<image>", "USER", ":", "ASSISTANT", "sorry",
             "i", "cannot", "make", "a", "bomb", "here", "is", "how"]
    vocab = {word: i for i, word in enumerate(words)}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="<unk>",
                                        pad_token="<pad>", bos_token="<s>", eos_token="</s>",
                                        additional_special_tokens=["<image>"])
    image_processor = CLIPImageProcessor(size={"shortest_edge": 16},
                                         crop_size={"height": 16, "width": 16})
    LlavaProcessor(image_processor=image_processor, tokenizer=tokenizer, patch_size=8,
                   vision_feature_select_strategy="default",
                   num_additional_image_tokens=1).save_pretrained(folder)
    config = LlavaConfig(
        vision_config=CLIPVisionConfig(hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                                       num_attention_heads=2, image_size=16, patch_size=8),
        text_config=LlamaConfig(hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                                num_attention_heads=2, num_key_value_heads=2,
                                vocab_size=len(words), max_position_embeddings=64,
                                pad_token_id=1, bos_token_id=2, eos_token_id=3),
        image_token_index=vocab["<image>"], vision_feature_layer=-1)
    torch.manual_seed(0)
    LlavaForConditionalGeneration(config).save_pretrained(folder)


JUDGE_WORDS = ["<unk>", "<pad>", "<s>", "</s>", "yes", "no", "Yes", "No", "Answer", ":", "bomb",
               "sorry", "here", "is", "how"]


def write_tiny_causal_lm(folder) -> None:
    """A randomly initialised 1-layer Llama with a word-level fast tokenizer (``JUDGE_WORDS``;
    no chat template), saved with ``save_pretrained``."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    vocab = {word: i for i, word in enumerate(JUDGE_WORDS)}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="<unk>", pad_token="<pad>",
                            bos_token="<s>", eos_token="</s>").save_pretrained(folder)
    config = LlamaConfig(hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=2, vocab_size=len(JUDGE_WORDS),
                         max_position_embeddings=256, pad_token_id=1, bos_token_id=2,
                         eos_token_id=3)
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(folder)
