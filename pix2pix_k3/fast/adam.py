"""Keras' Adam applied by torch's fused kernel: the torch step's optimizer update.

Measured on a 2-core CPU (256 px, batch 1), Keras' own torch Adam takes about a quarter
of a train step; this is one pass over the weights instead of ten. It runs where the
`torch` forms of `pix2pix_k3.fast` do (torch on a CPU, unless `PIX2PIX_K3_FORMS` says
otherwise); elsewhere, and for any other optimizer or option, Keras applies the update.
"""

import math

import keras
import torch

from pix2pix_k3 import fast, keras_private


def fused_applies(optimizer, grads, variables):
    """Whether `fused_apply` should run: the fast forms are on for these variables' device
    (`pix2pix_k3.fast.form`), and it computes exactly what `optimizer.apply` would.

    That is Keras' own Adam, built, with none of the options the fused kernel does not
    share with it (clipping, weight decay, AMSGrad, EMA, accumulation, loss scaling,
    constraints), float32 variables and a gradient for each.
    """
    return (
        bool(variables)
        and fast.form(variables[0].value) == "torch"
        and hasattr(torch, "_fused_adam_")
        and type(optimizer).__name__ == "Adam"
        and isinstance(optimizer, keras.optimizers.Adam)
        and optimizer.built
        and not optimizer.amsgrad
        and not optimizer.use_ema
        and optimizer.weight_decay is None
        and optimizer.clipnorm is None
        and optimizer.clipvalue is None
        and optimizer.global_clipnorm is None
        and optimizer.gradient_accumulation_steps is None
        and optimizer.loss_scale_factor is None
        and all(g is not None for g in grads)
        and all(
            v.dtype == "float32" and v.constraint is None and not v.overwrite_with_gradient
            for v in variables
        )
    )


def fused_apply(optimizer, grads, variables):
    """Keras' Adam update of `variables` in one pass of torch's fused kernel.

    Keras' own torch Adam makes ten passes over every variable (five of them into
    fresh temporaries), about a quarter of a 256x256 step on a CPU. The update is the
    same: Keras divides by sqrt(v) + eps after scaling the step by sqrt(1 - beta_2^t),
    torch divides by sqrt(v) / sqrt(1 - beta_2^t) + eps, so torch's eps is Keras' eps
    over sqrt(1 - beta_2^t). Momenta, velocities and the step count stay Keras'
    variables, so checkpoints do not change.
    """
    step = int(optimizer.iterations.value) + 1
    momentums, velocities = keras_private.adam_slots(optimizer, variables)
    torch._fused_adam_(
        [v.value for v in variables],
        list(grads),
        [m.value for m in momentums],
        [v.value for v in velocities],
        [],
        [torch.tensor(float(step), device=variables[0].value.device)] * len(variables),
        amsgrad=False,
        lr=float(optimizer.learning_rate),
        beta1=float(optimizer.beta_1),
        beta2=float(optimizer.beta_2),
        weight_decay=0.0,
        eps=float(optimizer.epsilon) / math.sqrt(1 - float(optimizer.beta_2) ** step),
        maximize=False,
    )
    optimizer.iterations.assign_add(1)
