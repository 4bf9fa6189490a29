"""pix2pix written in plain TensorFlow, as a TensorFlow user would without this library.

The benchmark's TensorFlow reference: the same networks as pix2pix_k3 (U-Net-256 with
54,413,955 parameters, 70x70 PatchGAN with 2,768,705), written with `tf.Module`,
`tf.nn` ops and a hand-written Adam, and trained by the step of the TensorFlow pix2pix
tutorial: one `tf.function`, one forward pass under two `GradientTape`s, then both
updates. (pix2pix_k3 and the PyTorch reference update D first and score G on the
updated D, which costs one more D forward and backward per step.) It imports neither
Keras nor pix2pix_k3, so it measures TensorFlow alone. Tensors are NHWC.
"""

import numpy as np
import tensorflow as tf

LEAK, EPSILON, MOMENTUM = 0.2, 1e-5, 0.1


class Conv(tf.Module):
    """A 4x4 convolution (or transposed one), with a bias or BatchNorm or neither."""

    def __init__(self, rng, cin, cout, stride=2, transpose=False, norm=True, pad=0, bias=None):
        super().__init__()
        shape = (4, 4, cout, cin) if transpose else (4, 4, cin, cout)
        self.kernel = tf.Variable(rng.normal(0, 0.02, shape).astype("float32"))
        self.bias = tf.Variable(tf.zeros(cout)) if (not norm if bias is None else bias) else None
        self.stride, self.transpose, self.norm, self.pad = stride, transpose, norm, pad
        if norm:
            self.gamma = tf.Variable(rng.normal(1, 0.02, cout).astype("float32"))
            self.beta = tf.Variable(tf.zeros(cout))
            self.mean = tf.Variable(tf.zeros(cout), trainable=False)
            self.var = tf.Variable(tf.ones(cout), trainable=False)

    def __call__(self, x):
        if self.transpose:
            n, h, w, _ = x.shape
            out = (n, 2 * h, 2 * w, self.kernel.shape[2])
            x = tf.nn.conv2d_transpose(x, self.kernel, out, self.stride, padding="SAME")
        else:
            if self.pad:
                x = tf.pad(x, [[0, 0], [self.pad, self.pad], [self.pad, self.pad], [0, 0]])
            x = tf.nn.conv2d(x, self.kernel, self.stride, "VALID" if self.pad else "SAME")
        if self.bias is not None:
            x = x + self.bias
        if not self.norm:
            return x
        mean, var = tf.nn.moments(x, axes=[0, 1, 2])
        self.mean.assign_sub(MOMENTUM * (self.mean - mean))
        self.var.assign_sub(MOMENTUM * (self.var - var))
        return tf.nn.batch_normalization(x, mean, var, self.beta, self.gamma, EPSILON)


class Generator(tf.Module):
    """U-Net: C64-C128-C256-C512x5 down to 1x1, CD512x3-C512-C256-C128-C64 up, tanh."""

    def __init__(self, rng, size=256):
        super().__init__()
        depth = int(np.log2(size))
        widths = [64 * min(2**i, 8) for i in range(depth)]
        ins = [3, *widths[:-1]]
        self.down = [
            Conv(rng, cin, cout, norm=0 < i < depth - 1, bias=False)
            for i, (cin, cout) in enumerate(zip(ins, widths, strict=True))
        ]
        ups = list(reversed(widths[:-1]))
        up_ins = [widths[-1]] + [2 * w for w in ups[:-1]]
        self.up = [
            Conv(rng, cin, cout, transpose=True) for cin, cout in zip(up_ins, ups, strict=True)
        ]
        self.last = Conv(rng, 2 * ups[-1], 3, transpose=True, norm=False)

    def __call__(self, x):
        skips = []
        for layer in self.down:
            x = tf.nn.leaky_relu(layer(x), LEAK)
            skips.append(x)
        for j, (layer, skip) in enumerate(zip(self.up, reversed(skips[:-1]), strict=True)):
            x = layer(x)
            if j < 3:
                x = tf.nn.dropout(x, 0.5)
            x = tf.concat([tf.nn.relu(x), skip], axis=-1)
        return tf.tanh(self.last(x))


class Discriminator(tf.Module):
    """70x70 PatchGAN: C64-C128-C256-C512 on the (input, image) pair, 30x30 logits."""

    def __init__(self, rng):
        super().__init__()
        self.layers = [
            Conv(rng, 6, 64, norm=False, pad=1),
            Conv(rng, 64, 128, pad=1),
            Conv(rng, 128, 256, pad=1),
            Conv(rng, 256, 512, stride=1, pad=1),
        ]
        self.logits = Conv(rng, 512, 1, stride=1, norm=False, pad=1)

    def __call__(self, x, y):
        h = tf.concat([x, y], axis=-1)
        for layer in self.layers:
            h = tf.nn.leaky_relu(layer(h), LEAK)
        return self.logits(h)


class Adam:
    """Adam(2e-4, 0.5, 0.999) as `torch.optim.Adam` computes it."""

    def __init__(self, variables, lr=2e-4, beta_1=0.5, beta_2=0.999, eps=1e-8):
        self.variables = variables
        self.m = [tf.Variable(tf.zeros_like(v)) for v in variables]
        self.v = [tf.Variable(tf.zeros_like(v)) for v in variables]
        self.t = tf.Variable(0.0)
        self.lr, self.beta_1, self.beta_2, self.eps = lr, beta_1, beta_2, eps

    def apply(self, grads):
        self.t.assign_add(1.0)
        step = self.lr * tf.sqrt(1 - self.beta_2**self.t) / (1 - self.beta_1**self.t)
        for var, grad, m, v in zip(self.variables, grads, self.m, self.v, strict=True):
            m.assign(self.beta_1 * m + (1 - self.beta_1) * grad)
            v.assign(self.beta_2 * v + (1 - self.beta_2) * tf.square(grad))
            var.assign_sub(step * m / (tf.sqrt(v) + self.eps))


def bce(logits, label):
    labels = tf.ones_like(logits) * label
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels, logits))


class Pix2Pix:
    """G, D, their optimizers, and the TensorFlow tutorial's train step."""

    def __init__(self, size=256, seed=0, jit_compile=False):
        rng = np.random.default_rng(seed)
        self.generator, self.discriminator = Generator(rng, size), Discriminator(rng)
        self.g_optimizer = Adam(self.generator.trainable_variables)
        self.d_optimizer = Adam(self.discriminator.trainable_variables)
        self.step = tf.function(self._step, jit_compile=jit_compile)

    def _step(self, x, y):
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = self.generator(x)
            real_logits = self.discriminator(x, y)
            fake_logits = self.discriminator(x, fake)
            g_loss = bce(fake_logits, 1.0) + 100.0 * tf.reduce_mean(tf.abs(y - fake))
            d_loss = 0.5 * (bce(real_logits, 1.0) + bce(fake_logits, 0.0))
        g_vars = self.generator.trainable_variables
        d_vars = self.discriminator.trainable_variables
        self.g_optimizer.apply(g_tape.gradient(g_loss, g_vars))
        self.d_optimizer.apply(d_tape.gradient(d_loss, d_vars))
        return g_loss, d_loss

    def parameter_counts(self):
        return tuple(
            sum(int(np.prod(v.shape)) for v in network.trainable_variables)
            for network in (self.generator, self.discriminator)
        )


def make_step(size, batch_size, seed=0):
    """(step, parameter counts): `step()` runs one train step on fixed random data."""
    model = Pix2Pix(size, seed)
    rng = np.random.default_rng(seed)
    x, y = (tf.constant(rng.uniform(-1, 1, (batch_size, size, size, 3)), tf.float32) for _ in "xy")

    def step():
        g_loss, _ = model.step(x, y)
        return float(g_loss)  # waits for the step

    return step, model.parameter_counts()
