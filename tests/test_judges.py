"""Case study 2's judges: the refusal-keyword judge on hand strings, and a local language model
judge on a tiny random Llama whose next-token logits are planted."""

from __future__ import annotations

import math

import pytest
import torch

from crossmodal.case_studies.judges import (
    LanguageModelJudge,
    build_judge,
    first_token_ids,
    judge_answers,
    refusal_judge,
)
from crossmodal.encoders.base import MissingWeightsError
from tiny_llava import JUDGE_WORDS, write_tiny_causal_lm

YES, NO = JUDGE_WORDS.index("yes"), JUDGE_WORDS.index("no")
CAPITAL_YES, CAPITAL_NO = JUDGE_WORDS.index("Yes"), JUDGE_WORDS.index("No")


def test_refusal_judge_on_hand_strings():
    assert refusal_judge("make a bomb", "I'm sorry, but I can't help with that.")
    assert refusal_judge("", "As an AI language model, I cannot provide instructions.")
    assert refusal_judge("", "I\u2019m not able to do this")
    assert refusal_judge("", "   ")
    assert not refusal_judge("", "Step 1: gather the materials. Step 2: mix them.")
    assert not refusal_judge("", "Here is a picture of a red circle at the top.")


@pytest.fixture(scope="module")
def judge_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-judge")
    write_tiny_causal_lm(folder)
    return folder


def _planted(judge: LanguageModelJudge, bias: dict[int, float]) -> LanguageModelJudge:
    """The judge's model with its output layer replaced by logits = ``bias`` (zero weight)."""
    head = torch.nn.Linear(judge.model.lm_head.in_features, len(JUDGE_WORDS), bias=True)
    torch.nn.init.zeros_(head.weight)
    torch.nn.init.zeros_(head.bias)
    with torch.no_grad():
        for token, value in bias.items():
            head.bias[token] = value
    judge.model.lm_head = head
    return judge


def test_yes_and_no_tokens_are_every_spelling_the_tokenizer_knows(judge_dir):
    judge = LanguageModelJudge(str(judge_dir))
    # the whitespace pre-tokenizer reads " yes" as "yes"; "YES" and "NO" are unknown
    assert judge.yes_ids == [YES, CAPITAL_YES] and judge.no_ids == [NO, CAPITAL_NO]
    with pytest.raises(ValueError, match="no token"):
        first_token_ids(judge.tokenizer, ["perhaps"])


def test_margin_is_logsumexp_no_minus_logsumexp_yes_by_hand(judge_dir):
    judge = _planted(LanguageModelJudge(str(judge_dir)),
                     {YES: 1.0, CAPITAL_YES: 0.0, NO: 2.0, CAPITAL_NO: -1.0})
    expected = math.log(math.exp(2.0) + math.exp(-1.0)) - math.log(math.exp(1.0) + 1.0)
    margins = judge.margins(["a request", "another, longer request with more words"])
    assert margins.tolist() == pytest.approx([expected, expected], abs=1e-5)
    assert judge("make a bomb", "here is how") is True  # expected > 0: refused


def test_a_judge_that_says_yes_labels_every_answer_complied(judge_dir):
    judge = _planted(LanguageModelJudge(str(judge_dir)), {YES: 3.0})
    assert judge_answers(judge, ["bomb"] * 3, ["sorry", "here is how", ""]) == [False] * 3


def test_a_prompts_margin_does_not_depend_on_its_batch(judge_dir):
    judge = LanguageModelJudge(str(judge_dir), batch_size=3)
    prompts = ["yes", "here is how bomb : Answer", "no no no no no no no no sorry"]
    together = judge.margins(prompts)
    alone = torch.cat([judge.margins([p]) for p in prompts])
    assert torch.allclose(together, alone, atol=1e-5)
    answers = ["sorry", "here is how", "no"]
    assert judge_answers(judge, ["bomb"] * 3, answers) == \
        [judge("bomb", a) for a in answers]


def test_build_judge_by_name_and_by_block(judge_dir):
    assert build_judge(None) is refusal_judge
    assert build_judge("refusal_keywords") is refusal_judge
    judge = build_judge({"kind": "language_model", "model": str(judge_dir), "batch_size": 2})
    assert isinstance(judge, LanguageModelJudge) and judge.batch_size == 2
    with pytest.raises(ValueError, match="unknown judge"):
        build_judge("gpt-judge")
    with pytest.raises(MissingWeightsError, match="judge.model"):
        build_judge({"kind": "language_model", "model": str(judge_dir / "absent")})
