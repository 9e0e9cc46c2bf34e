"""AdamW (Loshchilov and Hutter 2019) with the arithmetic of ``torch.optim.AdamW``, bit for bit
(its single-tensor path: the one torch takes for CPU tensors), without what torch's ``Optimizer``
brings along: its first call imports the compiler stack (``torch._dynamo``, about 2 s of every
training process, a third of a short run), which motive never uses.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import torch


@dataclass
class _Moments:
    """A parameter's running averages of the gradient and of its square, and its step count."""

    exp_avg: torch.Tensor
    exp_avg_sq: torch.Tensor
    step: int = 0


class AdamW:
    """Decoupled weight decay, then Adam's bias-corrected step: torch's defaults (betas 0.9 and
    0.999, eps 1e-8, no amsgrad). Parameters without a gradient are skipped, their step count too."""

    def __init__(
        self,
        params: Iterable[torch.nn.Parameter],
        lr: float = 1e-3,
        weight_decay: float = 1e-2,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ):
        self.params = list(params)
        self.lr, self.weight_decay, self.betas, self.eps = lr, weight_decay, betas, eps
        self.state: dict[torch.nn.Parameter, _Moments] = {}

    def zero_grad(self) -> None:
        for param in self.params:
            param.grad = None

    @torch.no_grad()
    def step(self) -> None:
        beta1, beta2 = self.betas
        for param in self.params:
            if param.grad is None:
                continue
            grad = param.grad
            if param not in self.state:
                self.state[param] = _Moments(torch.zeros_like(param), torch.zeros_like(param))
            moments = self.state[param]
            moments.step += 1
            if self.weight_decay != 0:
                param.mul_(1 - self.lr * self.weight_decay)
            moments.exp_avg.lerp_(grad, 1 - beta1)
            moments.exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            step_size = self.lr / (1 - beta1**moments.step)
            denominator = (moments.exp_avg_sq.sqrt() / (1 - beta2**moments.step) ** 0.5).add_(self.eps)
            param.addcdiv_(moments.exp_avg, denominator, value=-step_size)
