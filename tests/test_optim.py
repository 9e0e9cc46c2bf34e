"""motive's AdamW against torch's (``motive/optim.py``)."""

import torch

from motive.optim import AdamW


def test_adamw_has_the_bits_of_torchs():
    """25 steps with weight decay, parameters of several shapes, one without a gradient on some
    steps (skipped, its step count too): the same bits as ``torch.optim.AdamW``."""
    runs = []
    for optimizer in (AdamW, torch.optim.AdamW):
        torch.manual_seed(0)
        params = [torch.nn.Parameter(torch.randn(shape)) for shape in ((7, 5), (5,), (1,), (3, 3))]
        step = optimizer(params, lr=3e-3, weight_decay=0.05)
        grads = torch.Generator().manual_seed(1)
        for number in range(25):
            step.zero_grad()
            for index, param in enumerate(params):
                if index != 2 or number % 3 == 0:
                    param.grad = torch.randn(param.shape, generator=grads) * 10 ** (index - 2)
            step.step()
        runs.append([param.detach().clone() for param in params])
    for mine, theirs in zip(*runs, strict=True):
        assert torch.equal(mine, theirs)
