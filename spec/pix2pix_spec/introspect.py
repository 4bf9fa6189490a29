"""The layer list of a real network, derived from the network itself, not typed by hand.

`derive(network, run, role)` runs `run()` (a call that pushes one batch through
`network`) while it watches what executes, in execution order:

- a Keras 3 model or layer (any backend, and `tf.keras`, which is Keras 3 since
  TensorFlow 2.16): every layer's `__call__`, nested models and Sequential blocks
  included; the leaves (layers that call no other layer) are the operations;
- a `torch.nn.Module`: every torch function called (`torch.overrides.TorchFunctionMode`),
  so functional code (`F.leaky_relu(x, 0.2)`, `F.interpolate`) is seen as well as modules.

Each operation is read (a convolution's filters, kernel and stride; a norm's kind; a
dropout rate; an activation) and, where a probe exists, measured by calling it again
on the suite's own arrays: an activation's slope from negative and positive inputs,
dropout's rate from a training-mode pass over ones, a norm's kind from whether one
sample's output depends on another sample (batch) or on other pixels of its own
channel (instance). Where reading and measuring disagree, the measurement is what the
layer does, and the disagreement is kept for the requirement to report.

The operations are then cut into the protocol's blocks: each convolution starts one,
and the norm, dropout and activation executed after it, up to the next convolution,
are its own. That is the order in which they act on its output, so post-activation
blocks (Conv-Norm-ReLU, the paper's Ck) and pre-activation blocks (the authors' PyTorch
U-Net, where each block opens with the activation of the one before) give the same list.
A resize executed before a convolution makes that convolution a resize + convolution.

What it refuses to guess about (`CannotDerive`, with the reason): an object of no
framework it knows; a run in which no convolution executed; a block whose output passes
through an operation it cannot interpret (a custom Keras layer with no sublayers, a
`torch.where`/`maximum`/`clamp`, which can make an activation by hand). Such a network's
layers can still be declared by hand, and the report then says so.

The module imports no framework: Keras or torch is imported only when a network of
theirs is handed over.
"""

import inspect
from dataclasses import dataclass, field
from typing import Any

import numpy as np

SLOPE_INPUTS = np.array([-2.0, -1.0, -0.5, 0.5, 1.0, 2.0], "float32")
DROPOUT_SHAPE = (1, 64, 64, 16)  # 65,536 values: a rate measured to about +-0.005
NORM_SHAPE = (2, 4, 4)  # two samples of 4x4 pixels, with the norm's own channels


class CannotDerive(Exception):
    """The network's layers cannot be derived without guessing; the message says why."""


@dataclass
class Op:
    """One operation executed by the network, as read and as measured."""

    kind: str  # "conv", "transposed", "norm", "dropout", "activation", "resize", "opaque"
    name: str  # what executed: a layer's class or a torch function's name
    filters: int | None = None
    kernel: int | None = None
    stride: int | None = None
    norm: str | None = None  # "batch", "instance", "group", "layer"
    rate: float | None = None
    slope: float | None = None  # an activation's negative slope, as its attributes say
    channels: int | None = None  # the channels of its input (a norm's probe needs them)
    probe: Any = field(default=None, repr=False)  # measures the op; see `measure`
    measured: dict = field(default_factory=dict)


# --- measuring an operation by calling it ------------------------------------------------


def activation_shape(probe):
    """(negative slope, positive slope) of an activation from the suite's inputs, or None
    where the activation is not piecewise linear through 0 (tanh, sigmoid)."""
    out = np.asarray(probe(SLOPE_INPUTS), "float64").reshape(-1)
    ratios = out / SLOPE_INPUTS
    negative, positive = ratios[SLOPE_INPUTS < 0], ratios[SLOPE_INPUTS > 0]
    if np.ptp(negative) > 1e-4 or np.ptp(positive) > 1e-4:
        return None
    return float(negative.mean()), float(positive.mean())


def dropped_fraction(probe):
    """The fraction of a training-mode pass over ones that the op sets to zero."""
    out = np.asarray(probe(np.ones(DROPOUT_SHAPE, "float32"), True))
    return float(np.mean(out == 0))


def norm_kind(probe, channels):
    """ "batch" if one sample's training-mode output depends on another sample of the
    batch, "instance" if on other pixels of its own channel only, "group" if on other
    channels too, "none" if on nothing but itself."""
    rng = np.random.default_rng(0)
    shape = (*NORM_SHAPE, channels)
    x = rng.normal(size=shape).astype("float32")
    base = np.asarray(probe(x, True), "float64")
    other = x.copy()
    other[1] = rng.normal(size=shape[1:])
    if np.abs(np.asarray(probe(other, True))[0] - base[0]).max() > 1e-5:
        return "batch"
    poked = x.copy()
    poked[0, 0, 0, 0] += 3.0
    change = np.abs(np.asarray(probe(poked, True), "float64") - base)[0]
    change[0, 0, 0] = 0.0
    if change[..., 1:].max() > 1e-5:
        return "group"
    return "instance" if change.max() > 1e-5 else "none"


def measure(op):
    """Fill `op.measured` from its probe: what the operation does, not what it says."""
    if op.probe is None:
        return op
    try:
        if op.kind == "activation":
            shape = activation_shape(op.probe)
            if shape is not None:
                op.measured["slope"], op.measured["positive"] = shape
        elif op.kind == "dropout":
            op.measured["rate"] = dropped_fraction(op.probe)
        elif op.kind == "norm" and op.channels:
            op.measured["norm"] = norm_kind(op.probe, op.channels)
    except Exception as error:  # a probe that cannot run leaves the reading alone
        op.measured["error"] = repr(error)
    return op


# --- Keras 3 ---------------------------------------------------------------------------


def framework_of(network):
    """ "keras" or "torch", from the classes the network is an instance of."""
    modules = [klass.__module__ for klass in type(network).__mro__]
    if any(m == "keras" or m.startswith("keras.") for m in modules):
        return "keras"
    if any(m.startswith("tf_keras") for m in modules):
        raise CannotDerive(
            f"{type(network).__name__} is a Keras 2 (tf_keras) model; derivation reads Keras 3 "
            "and torch models: declare its layers by hand"
        )
    if any(m.startswith("torch.nn") for m in modules):
        return "torch"
    raise CannotDerive(
        f"a {type(network).__module__}.{type(network).__name__} is neither a Keras 3 model nor "
        "a torch.nn.Module: hand the suite the network itself, or declare its layers by hand"
    )


def keras_trace(run):
    """(leaf layer, its input's shape) for each leaf layer called while `run()` runs, in
    call order."""
    from keras.src.layers.layer import Layer

    original, calls, stack = Layer.__call__, [], []

    def watched(layer, *args, **kwargs):
        entry = [layer, True, getattr(args[0], "shape", None) if args else None]
        if stack:
            stack[-1][1] = False
        calls.append(entry)
        stack.append(entry)
        try:
            return original(layer, *args, **kwargs)
        finally:
            stack.pop()

    Layer.__call__ = watched
    try:
        run()
    finally:
        Layer.__call__ = original
    return [(layer, shape) for layer, leaf, shape in calls if leaf]


STRUCTURAL_KERAS = {
    "InputLayer", "ZeroPadding2D", "Cropping2D", "Concatenate", "Add", "Reshape", "Identity",
    "Flatten", "Permute", "Average", "Subtract", "Multiply",
}  # fmt: skip


def keras_numpy(tensor):
    import keras

    return keras.ops.convert_to_numpy(tensor)


def keras_state_kept(layer, call):
    """Call, then put the layer's variables back (a training-mode BatchNorm call moves
    its running statistics; measuring must not)."""
    saved = [keras_numpy(variable) for variable in layer.variables]
    try:
        return call()
    finally:
        for variable, value in zip(layer.variables, saved, strict=True):
            variable.assign(value)


def keras_layer_probe(layer):
    import keras

    def probe(values, training=False):
        tensor = keras.ops.convert_to_tensor(values)
        return keras_numpy(keras_state_kept(layer, lambda: layer(tensor, training=training)))

    return probe


def keras_function_probe(function):
    import keras

    return lambda values, training=False: keras_numpy(function(keras.ops.convert_to_tensor(values)))


def keras_ops(layer, shape):
    """The Op(s) one leaf Keras layer stands for, called on an input of `shape`."""
    import keras

    channels = int(shape[-1]) if shape is not None and shape[-1] is not None else None

    name = type(layer).__name__
    layers = keras.layers
    if isinstance(layer, (layers.Conv2D, layers.Conv2DTranspose)):
        transposed = isinstance(layer, layers.Conv2DTranspose)
        ops = [
            Op("transposed" if transposed else "conv", name, filters=int(layer.filters),
               kernel=int(layer.kernel_size[0]), stride=int(layer.strides[0]))
        ]  # fmt: skip
        activation = getattr(layer, "activation", None)
        if activation is not None and activation is not keras.activations.linear:
            ops.append(
                Op("activation", getattr(activation, "__name__", str(activation)),
                   probe=keras_function_probe(activation))
            )  # fmt: skip
        return ops
    if isinstance(layer, (layers.BatchNormalization, layers.LayerNormalization)):
        kind = "batch" if isinstance(layer, layers.BatchNormalization) else "layer"
        return [Op("norm", name, norm=kind, channels=channels, probe=keras_layer_probe(layer))]
    if isinstance(layer, layers.GroupNormalization):
        kind = "instance" if layer.groups in (-1, channels) else "group"
        return [Op("norm", name, norm=kind, channels=channels, probe=keras_layer_probe(layer))]
    if isinstance(layer, (layers.Dropout, layers.SpatialDropout2D)):
        return [Op("dropout", name, rate=float(layer.rate), probe=keras_layer_probe(layer))]
    if isinstance(layer, (layers.LeakyReLU, layers.ReLU)):
        slope = float(getattr(layer, "negative_slope", 0.0))
        return [Op("activation", name, slope=slope, probe=keras_layer_probe(layer))]
    if isinstance(layer, (layers.Activation, layers.PReLU, layers.ELU, layers.Softmax)):
        return [Op("activation", name, probe=keras_layer_probe(layer))]
    if isinstance(layer, (layers.UpSampling2D, layers.Resizing)):
        return [Op("resize", name)]
    if name in STRUCTURAL_KERAS:
        return []
    return [Op("opaque", f"Keras layer {name} ({layer.name!r})")]


def keras_operations(network, run):
    return [op for layer, shape in keras_trace(run) for op in keras_ops(layer, shape)]


# --- torch -------------------------------------------------------------------------------

TORCH_ACTIVATIONS = {
    "relu", "relu_", "leaky_relu", "leaky_relu_", "prelu", "rrelu", "elu", "selu", "celu",
    "gelu", "silu", "mish", "tanh", "sigmoid", "hardtanh", "relu6", "softplus", "hardswish",
}  # fmt: skip
TORCH_NORMS = {
    "batch_norm": "batch", "instance_norm": "instance", "layer_norm": "layer",
    "group_norm": "group",
}  # fmt: skip
TORCH_DROPOUTS = {"dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
                  "feature_alpha_dropout"}  # fmt: skip
TORCH_RESIZES = {"interpolate", "upsample", "upsample_nearest", "upsample_bilinear",
                 "pixel_shuffle"}  # fmt: skip
# Element-wise functions that can build an activation by hand: the slope is not readable.
TORCH_OPAQUE = {"maximum", "minimum", "where", "clamp", "clamp_", "clip", "threshold",
                "threshold_", "max", "min", "fmax", "fmin"}  # fmt: skip


def bound(function, args, kwargs):
    """{parameter: value} of a recorded Python-level torch call, or None for builtins."""
    try:
        return inspect.signature(function).bind(*args, **kwargs).arguments
    except (TypeError, ValueError):
        return None


def torch_probe(function, args, kwargs):
    """Replays a recorded call on the suite's arrays (NHWC in, NHWC out), with copies of
    any running statistics so that measuring changes nothing."""
    import torch

    arguments = bound(function, args, kwargs)

    def probe(values, training=False):
        values = np.asarray(values, "float32")
        tensor = torch.from_numpy(
            values.transpose(0, 3, 1, 2).copy() if values.ndim == 4 else values.copy()
        )
        with torch.no_grad():
            if arguments is None:  # a builtin activation: the input is all it takes
                out = function(tensor)
            else:
                call = dict(arguments)
                first = next(iter(call))
                call[first] = tensor
                for name in ("running_mean", "running_var"):
                    if isinstance(call.get(name), torch.Tensor):
                        call[name] = call[name].clone()
                if "training" in inspect.signature(function).parameters:
                    call["training"] = training
                if "inplace" in call:
                    call["inplace"] = False
                out = function(**call)
        out = out.detach().numpy()
        return out.transpose(0, 2, 3, 1) if out.ndim == 4 else out

    return probe


def torch_conv(name, args, kwargs):
    arguments = dict(zip(("input", "weight", "bias", "stride"), args, strict=False))
    arguments.update(kwargs)
    weight = arguments["weight"]
    stride = arguments.get("stride", 1)
    stride = int(stride[0] if isinstance(stride, (tuple, list)) else stride)
    if name == "conv2d":
        return Op("conv", name, filters=int(weight.shape[0]), kernel=int(weight.shape[-1]),
                  stride=stride)  # fmt: skip
    groups = int(arguments.get("groups", 1) if len(args) < 7 else args[6])
    return Op("transposed", name, filters=int(weight.shape[1]) * groups,
              kernel=int(weight.shape[-1]), stride=stride)  # fmt: skip


def torch_op(function, args, kwargs):
    """The Op a recorded torch call stands for, or None for one that does not matter
    here (shapes, concatenation, padding, arithmetic)."""
    name = getattr(function, "__name__", str(function))
    if name in ("conv2d", "conv_transpose2d"):
        return torch_conv(name, args, kwargs)
    if name in TORCH_NORMS:
        kind = TORCH_NORMS[name]
        if name == "group_norm":
            groups = (bound(function, args, kwargs) or {}).get("num_groups")
            kind = "instance" if groups == args[0].shape[1] else "group"
        return Op("norm", name, norm=kind, channels=int(args[0].shape[1]),
                  probe=torch_probe(function, args, kwargs))  # fmt: skip
    if name in TORCH_DROPOUTS:
        rate = (bound(function, args, kwargs) or {}).get("p", 0.5)
        return Op("dropout", name, rate=float(rate),
                  probe=torch_probe(function, args, kwargs))  # fmt: skip
    if name in TORCH_ACTIVATIONS:
        slope = None
        if name.startswith("leaky_relu"):
            slope = float((bound(function, args, kwargs) or {}).get("negative_slope", 0.01))
        elif name.startswith("relu"):
            slope = 0.0
        return Op("activation", name, slope=slope,
                  probe=torch_probe(function, args, kwargs))  # fmt: skip
    if name in TORCH_RESIZES or name.startswith("upsample"):
        return Op("resize", name)
    if name in TORCH_OPAQUE:
        return Op("opaque", f"torch.{name}")
    return None


def torch_operations(network, run):
    from torch.overrides import TorchFunctionMode

    ops = []

    class Watch(TorchFunctionMode):
        def __torch_function__(self, function, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            op = torch_op(function, args, kwargs)
            if op is not None:
                ops.append(op)
            return function(*args, **kwargs)

    with Watch():
        run()
    return ops


# --- from operations to the protocol's blocks ------------------------------------------


def operations(network, run):
    """Every Op that `run()` executed in `network`, in order, each measured."""
    framework = framework_of(network)
    found = (keras_operations if framework == "keras" else torch_operations)(network, run)
    return [measure(op) for op in found]


def cut(ops):
    """[(convolution Op, resized before it, [Ops after it up to the next convolution])]."""
    blocks, resized = [], False
    for op in ops:
        if op.kind in ("conv", "transposed"):
            blocks.append((op, resized, []))
            resized = False
        elif op.kind == "resize":
            resized = True
        elif blocks:
            blocks[-1][2].append(op)
    return blocks


DROPOUT_TOLERANCE = 0.02  # a measured rate is a count over 65,536 values


def disagree(layer, name, message):
    layer.setdefault("disagreements", {})[name] = message


def dropout_rate(op, layer):
    """The read rate where the measurement agrees with it, else the measured one."""
    measured = op.measured.get("rate")
    if measured is None:
        return op.rate
    if op.rate is not None and abs(measured - op.rate) <= DROPOUT_TOLERANCE:
        return op.rate
    if op.rate is not None:
        disagree(layer, "dropout", f"{op.name} says rate {op.rate:g} but drops {measured:.3f}")
    return round(measured, 3)


def slope_of(op, layer):
    """An activation's negative slope as measured, or None for one that is not a (leaky)
    ReLU (tanh, sigmoid); the read slope only where the probe could not run."""
    if op.probe is None or "error" in op.measured:
        return op.slope
    if "slope" not in op.measured or abs(op.measured["positive"] - 1.0) > 1e-4:
        return None
    measured = round(op.measured["slope"], 6)
    if op.slope is not None and abs(op.slope - measured) > 1e-4:
        disagree(layer, "slope", f"{op.name} says slope {op.slope:g} but computes {measured:g}")
    return measured


def norm_of(op, layer):
    measured = op.measured.get("norm")
    if measured is not None and measured != op.norm:
        disagree(
            layer, "norm", f"{op.name} reads as {op.norm} normalisation but behaves as {measured}"
        )
        return measured
    return op.norm


def block_dict(conv, resized, after, role, number):
    opaque = [op.name for op in after if op.kind == "opaque"]
    if opaque:
        raise CannotDerive(
            f"the output of {role} convolution {number} ({conv.name}, {conv.filters} filters) "
            f"passes through {opaque[0]}, which the derivation does not interpret (it can be an "
            "activation written by hand): declare this network's layers by hand, or use the "
            "framework's own layer or function for it"
        )
    norms = [op for op in after if op.kind == "norm"]
    dropouts = [op for op in after if op.kind == "dropout"]
    activations = [op for op in after if op.kind == "activation"]
    layer = {"filters": conv.filters, "kernel": conv.kernel, "stride": conv.stride,
             "norm": "none", "dropout": 0.0, "slope": None, "activation": None,
             "source": "derived"}  # fmt: skip
    if norms:
        layer["norm"] = norm_of(norms[0], layer)
    if dropouts:
        layer["dropout"] = dropout_rate(dropouts[0], layer)
    if activations:
        layer["activation"] = activations[0].name
        layer["slope"] = slope_of(activations[0], layer)
    if conv.kind == "transposed" or resized:
        layer["part"] = "decoder"
        layer["upsampling"] = "transposed" if conv.kind == "transposed" else "resize"
    else:
        layer["part"] = "encoder"
    return layer


def derive(network, run, role="generator"):
    """The protocol's layer list of `network` (a Keras 3 model or a torch.nn.Module),
    from what `run()` executes: one dict per convolution block, input to output, without
    the last (output) convolution. `role` ("generator" or "discriminator") only names the
    network in messages. Each dict carries "source": "derived", and "disagreements"
    ({field: message}) where an operation's attributes and its measured behaviour differ.
    Raises CannotDerive."""
    found = operations(network, run)
    blocks = cut(found)
    if not blocks:
        raise CannotDerive(
            f"no convolution executed while the {role} ran ({type(network).__name__}): the "
            "network handed over is not the one that runs, or it runs compiled"
        )
    layers = [block_dict(*block, role, i + 1) for i, block in enumerate(blocks)]
    return layers[:-1]
