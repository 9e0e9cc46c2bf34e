"""AdamW (Loshchilov and Hutter 2019) with the arithmetic of ``torch.optim.AdamW``, bit for bit
(its single-tensor path: the one torch takes for CPU tensors), without what torch's ``Optimizer``
brings along: its first call imports the compiler stack (``torch._dynamo``, about 2 s of every
training process, a third of a short run), which motive never uses.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch


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
        self.state: dict[torch.nn.Parameter, dict] = {}

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
                self.state[param] = {"step": 0, "exp_avg": torch.zeros_like(param)}
                self.state[param]["exp_avg_sq"] = torch.zeros_like(param)
            state = self.state[param]
            state["step"] += 1
            step, exp_avg, exp_avg_sq = state["step"], state["exp_avg"], state["exp_avg_sq"]
            if self.weight_decay != 0:
                param.mul_(1 - self.lr * self.weight_decay)
            exp_avg.lerp_(grad, 1 - beta1)
            exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            step_size = self.lr / (1 - beta1**step)
            denominator = (exp_avg_sq.sqrt() / (1 - beta2**step) ** 0.5).add_(self.eps)
            param.addcdiv_(exp_avg, denominator, value=-step_size)
