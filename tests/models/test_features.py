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


def test_bilinear_of_distinct_rows_has_the_bits_of_bilinear_pairs():
    """``rows_only``'s head (left rows already one per distinct source) against ``bilinear_pairs``
    on the same pairs: the same bits in value and in the gradients of the head and of the rows."""
    from motive.models.features import bilinear_of_distinct

    torch.manual_seed(1)
    head = nn.Bilinear(16, 16, 1)
    sources, targets = torch.randint(0, 40, (300,)), torch.randint(0, 30, (300,))
    rows, at = torch.unique(sources, return_inverse=True)
    values = torch.Generator().manual_seed(2)
    distinct_rows, right = torch.randn(len(rows), 16, generator=values), torch.randn(30, 16, generator=values)
    found = []
    for distinct in (True, False):
        head.zero_grad()
        left = distinct_rows.clone().requires_grad_()
        if distinct:
            logits = bilinear_of_distinct(head, left, right, at, targets)
        else:  # each distinct source's row at its own id in a table of every source
            logits = bilinear_pairs(head, torch.zeros(40, 16).index_copy(0, rows, left), right, sources, targets)
        logits.pow(2).sum().backward()
        found.append([logits.detach(), left.grad, *(p.grad.clone() for p in head.parameters())])
    assert all(torch.equal(a, b) for a, b in zip(*found, strict=True))
