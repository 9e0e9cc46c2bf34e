import torch
from torch import nn

from motive.models.features import bilinear_pairs


def test_bilinear_pairs_equal_torchs_bilinear_in_value_and_gradient():
    """MLP's and Bilinear's head on pairs (one product per distinct source, then a row-wise dot)
    is torch's ``nn.Bilinear`` (x_s^T W x_t + b), sources repeated and in any order; square
    weights, so a transposed W would not go unseen."""
    torch.manual_seed(0)
    head = nn.Bilinear(6, 6, 1).double()
    left, right = torch.randn(9, 6, dtype=torch.float64), torch.randn(7, 6, dtype=torch.float64)
    sources, targets = torch.tensor([4, 0, 4, 8, 1, 4, 0]), torch.tensor([6, 2, 2, 0, 3, 5, 1])
    ours = bilinear_pairs(head, left, right, sources, targets)
    ours.pow(2).sum().backward()
    ours_grads = [p.grad.clone() for p in head.parameters()]
    head.zero_grad()
    torchs = head(left[sources], right[targets]).squeeze(-1)
    torchs.pow(2).sum().backward()
    torch.testing.assert_close(ours, torchs, rtol=1e-12, atol=1e-12)
    for mine, theirs in zip(ours_grads, (p.grad for p in head.parameters()), strict=True):
        torch.testing.assert_close(mine, theirs, rtol=1e-12, atol=1e-12)
