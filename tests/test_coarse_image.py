"""The toy decoder's first stage: the convolutional coarse-image generator."""

import pytest
import torch

from crossmodal.case_studies.coarse_image import CoarseImageGenerator, coarse_regression_loss


def test_generator_shapes_and_grid():
    generator = CoarseImageGenerator(embedding_dim=5, image_size=32, width=8)
    assert generator.base == 4
    assert generator(torch.randn(3, 5)).shape == (3, 3, 32, 32)


def test_generator_refuses_sizes_it_cannot_build():
    with pytest.raises(ValueError, match="multiple of 8"):
        CoarseImageGenerator(5, image_size=20, width=8)
    with pytest.raises(ValueError, match="width"):
        CoarseImageGenerator(5, image_size=16, width=12)


def test_regression_loss_by_hand():
    """Output 0 everywhere (zeroed last conv) against targets of 1 and −1 in two halves: the mean
    squared error is 1; against a target equal to the output it is 0."""
    generator = CoarseImageGenerator(2, image_size=8, width=8)
    with torch.no_grad():
        generator.to_image.weight.zero_()
        generator.to_image.bias.zero_()
    target = torch.ones(2, 3, 8, 8)
    target[:, :, :4] = -1.0
    embeddings = torch.randn(2, 2)
    assert torch.isclose(coarse_regression_loss(generator, embeddings, target), torch.tensor(1.0))
    assert coarse_regression_loss(generator, embeddings, torch.zeros(2, 3, 8, 8)) == 0


def test_a_few_steps_fit_one_image():
    """Regression on one embedding → one image: 100 Adam steps bring the loss well below its
    starting value (the generator can represent a given image)."""
    torch.manual_seed(0)
    generator = CoarseImageGenerator(4, image_size=8, width=8)
    embedding, target = torch.randn(1, 4), torch.rand(1, 3, 8, 8) * 2 - 1
    optimizer = torch.optim.Adam(generator.parameters(), lr=1e-2)
    start = coarse_regression_loss(generator, embedding, target).item()
    for _ in range(100):
        loss = coarse_regression_loss(generator, embedding, target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.1 * start
