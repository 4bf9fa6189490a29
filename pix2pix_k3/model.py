"""`Pix2Pix`: a generator and a discriminator trained by `model.fit`.

One train step follows the PyTorch reference's order (section 3.3 of the paper,
"we alternate between one gradient descent step on D, then one step on G"):

1. fake = G(x) with dropout on;
2. D step on (x, y) labelled real and (x, stop_gradient(fake)) labelled fake;
3. G step on the non-saturating GAN loss of the *updated* D on (x, fake), plus
   lambda_l1 * |y - fake|, back-propagated through the same forward pass of G.

The losses and metrics live here once, in `keras.ops`; only the gradient and update
mechanics differ per backend, in `pix2pix_k3/steps/{jax,tensorflow,torch}.py`.
"""

import keras
from keras import ops

from pix2pix_k3 import losses, paper
from pix2pix_k3.blocks import PACKAGE, Ck
from pix2pix_k3.discriminator import patchgan_discriminator
from pix2pix_k3.generator import unet_generator
from pix2pix_k3.paper import (
    ADAM_BETA_1,
    ADAM_BETA_2,
    ADAM_LEARNING_RATE,
    BASE_WIDTH,
    DROPOUT,
    GAN_MODES,
    HALVE_D_LOSS,
    IMAGE_SIZE,
    INFERENCE_MODES,
    LAMBDA_L1,
    PATCH,
)
from pix2pix_k3.steps import step_module


def default_optimizer(learning_rate=ADAM_LEARNING_RATE, beta_1=ADAM_BETA_1):
    """Adam with the paper's settings (learning rate 2e-4, beta_1 0.5, beta_2 0.999);
    `fit`'s `--lr` and `--beta1` change the first two."""
    return keras.optimizers.Adam(learning_rate=learning_rate, beta_1=beta_1, beta_2=ADAM_BETA_2)


class OptimizerPair:
    """The generator's and the discriminator's optimizers, seen by Keras as one.

    Keras' trainers know one `model.optimizer`. On JAX the trainer threads exactly
    `model.optimizer.variables` through its jitted step and writes them back after each
    epoch, so both optimizers' state must be visible there: this object lists the G
    optimizer's variables, then the D optimizer's. Each optimizer is built on its own
    network's weights; the train steps find each one's slice by variable identity.

    Why not Keras' own `keras.optimizers.MultiOptimizer` (Keras 3.15.1, file
    keras/src/optimizers/multi_optimizer.py), which also lists its optimizers' variables:

    - its `apply` takes gradients for every variable it was built on or none ("Gradients
      must match trainable variables one-to-one", line 345). pix2pix applies D's
      gradients, then G's, in two updates a step (section 3.3 of the paper); zero
      gradients for the other network would still move it, through Adam's momentum;
    - it refuses a `LossScaleOptimizer` inside (lines 121 and 261), and one around it
      would share a single loss scale between the two networks, whose gradients
      overflow at different times under `mixed_float16`;
    - it counts an `apply` as an iteration (line 365), two a step here;
    - (not in the way) its `learning_rate` raises (line 300), but Keras' learning-rate
      callbacks set each of its `.optimizers` instead.

    `tests/test_optimizer_pair.py` fails when Keras lifts the first two.
    """

    def __init__(self, g_optimizer, d_optimizer, generator, discriminator):
        self.g_optimizer = g_optimizer
        self.d_optimizer = d_optimizer
        self._pairs = [(g_optimizer, generator)]
        if d_optimizer is not None:
            self._pairs.append((d_optimizer, discriminator))

    @property
    def variables(self):
        return [v for optimizer, _ in self._pairs for v in optimizer.variables]

    @property
    def built(self):
        return all(optimizer.built for optimizer, _ in self._pairs)

    def build(self, var_list=None):
        """Build each optimizer on its own network (`var_list` is the union; unused)."""
        for optimizer, network in self._pairs:
            if not optimizer.built:
                optimizer.build(network.trainable_variables)

    @property
    def iterations(self):
        """Train steps taken: the generator optimizer's count."""
        return self.g_optimizer.iterations

    @property
    def learning_rate(self):
        return self.g_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        """Set both learning rates (what Keras' learning-rate callbacks do)."""
        for optimizer, _ in self._pairs:
            optimizer.learning_rate = value


@keras.saving.register_keras_serializable(package=PACKAGE)
class Pix2Pix(keras.Model):
    """pix2pix: a conditional GAN with an L1 term, trained with `fit`.

    Args:
        generator: a `keras.Model` from `unet_generator` (or any image-to-image model).
        discriminator: a `keras.Model` from `patchgan_discriminator`; conditional (two
            inputs) for `cgan` objectives, unconditional (one input) for `gan` ones,
            None for `l1`.
        objective: `l1+cgan` (the paper's), `l1+gan`, `cgan`, `gan` or `l1`, or its parsed
            `paper.Objective`.
        lambda_l1: weight of the L1 term (100 in the paper).
        gan_mode: `vanilla` (the paper's cross-entropy) or `lsgan`.
        halve_d_loss: divide D's objective by 2, as the paper does.

    `fit(x, y)` takes input images x and targets y in [-1, 1] (NHWC) and logs `g_loss`,
    `g_gan`, `g_l1` and, with a GAN term, `d_loss`, `d_real_acc`, `d_fake_acc` (the
    fraction of real and of generated patches that D classifies correctly).

    Example:
        >>> import numpy as np
        >>> x, y = np.random.default_rng(0).uniform(-1, 1, (2, 2, 64, 64, 3)).astype("float32")
        >>> model = build_pix2pix(image_size=64)
        >>> model.compile()
        >>> history = model.fit(x, y, batch_size=1, epochs=1, verbose=0)
        >>> sorted(history.history)
        ['d_fake_acc', 'd_loss', 'd_real_acc', 'g_gan', 'g_l1', 'g_loss']
        >>> keras.ops.shape(model.translate(x[:1]))
        (1, 64, 64, 3)
    """

    def __init__(
        self,
        generator,
        discriminator=None,
        objective="l1+cgan",
        lambda_l1=LAMBDA_L1,
        gan_mode="vanilla",
        halve_d_loss=HALVE_D_LOSS,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.loss_terms = paper.objective(objective)
        if gan_mode not in GAN_MODES:
            raise ValueError(f"gan_mode={gan_mode!r} is not one of {', '.join(GAN_MODES)}.")
        _check_discriminator(self.loss_terms, discriminator)
        self.generator = generator
        self.discriminator = discriminator if self.loss_terms.uses_gan else None
        self.lambda_l1 = float(lambda_l1)
        self.gan_mode = gan_mode
        self.halve_d_loss = bool(halve_d_loss)
        names = ["g_loss", "g_gan", "g_l1"]
        if self.loss_terms.uses_gan:
            names += ["d_loss", "d_real_acc", "d_fake_acc"]
        self.trackers = [keras.metrics.Mean(name=name) for name in names]
        self.g_optimizer = self.d_optimizer = None
        self.built = True

    @property
    def metrics(self):
        return list(self.trackers)

    def compile(self, g_optimizer=None, d_optimizer=None, **kwargs):
        """Set the two optimizers (default: Adam(2e-4, beta_1=0.5) each).

        Other keyword arguments (`jit_compile`, `run_eagerly`, `steps_per_execution`)
        go to `keras.Model.compile`; a `loss` or `optimizer` there is refused, since the
        objective is fixed by the constructor and the optimizers by this call.
        """
        for refused in ("optimizer", "loss", "metrics"):
            if kwargs.get(refused) is not None:
                raise ValueError(
                    f"Pix2Pix.compile() does not take {refused}=; use g_optimizer=/d_optimizer= "
                    "and the constructor's objective=, lambda_l1=, gan_mode= instead."
                )
            kwargs.pop(refused, None)
        self.g_optimizer = with_loss_scaling(g_optimizer or default_optimizer(), self.dtype_policy)
        self.d_optimizer = None
        if self.loss_terms.uses_gan:
            d_optimizer = d_optimizer or default_optimizer()
            self.d_optimizer = with_loss_scaling(d_optimizer, self.dtype_policy)
        super().compile(optimizer=None, **kwargs)
        self.optimizer = OptimizerPair(
            self.g_optimizer, self.d_optimizer, self.generator, self.discriminator
        )
        # The networks are built, so the optimizers can be too: a model saved before
        # any training then stores (and reloads) their full state.
        self.optimizer.build()

    def get_compile_config(self):
        if self.g_optimizer is None:
            return None
        serialize = keras.saving.serialize_keras_object
        return {
            "g_optimizer": serialize(self.g_optimizer),
            "d_optimizer": serialize(self.d_optimizer) if self.d_optimizer else None,
        }

    def compile_from_config(self, config):
        deserialize = keras.saving.deserialize_keras_object
        self.compile(
            g_optimizer=deserialize(config["g_optimizer"]),
            d_optimizer=deserialize(config["d_optimizer"]) if config.get("d_optimizer") else None,
        )

    def call(self, inputs, training=False):
        return ops.cast(self.generator(inputs, training=training), "float32")

    def translate(self, images, mode="paper"):
        """Generate images, with the test-time behaviour chosen explicitly.

        `mode="paper"` (the default, as in the paper, its PyTorch reference and the
        TensorFlow tutorial) keeps dropout on and normalises with the statistics of the
        test batch; BatchNorm's moving averages are left untouched. `mode="eval"` is the
        usual deterministic inference: no dropout, moving averages (what `predict` does).
        """
        if mode not in INFERENCE_MODES:
            raise ValueError(f"mode={mode!r} is not one of {', '.join(INFERENCE_MODES)}.")
        if mode == "eval":
            return self(images, training=False)
        statistics = batchnorm_statistics(self.generator)
        saved = [ops.copy(v.value) for v in statistics]
        outputs = self(images, training=True)
        for variable, value in zip(statistics, saved, strict=True):
            variable.assign(value)
        return outputs

    # --- the objective, shared by every backend's step -----------------------------

    def discriminator_inputs(self, inputs, images):
        """D's view of a pair: `[input, image]` for a cGAN, the image alone for a GAN."""
        return [inputs, images] if self.loss_terms.conditional else images

    def discriminator_terms(self, real_logits, fake_logits):
        """D's loss and its real/fake patch accuracies, in float32 whatever the policy."""
        real_logits, fake_logits = float32(real_logits), float32(fake_logits)
        d_loss, _, _ = losses.discriminator_loss(
            real_logits, fake_logits, self.gan_mode, halve=self.halve_d_loss
        )
        threshold = 0.0 if self.gan_mode == "vanilla" else 0.5
        return {
            "d_loss": d_loss,
            "d_real_acc": ops.mean(ops.cast(real_logits > threshold, "float32")),
            "d_fake_acc": ops.mean(ops.cast(fake_logits <= threshold, "float32")),
        }

    def generator_terms(self, fake_logits, fake, target):
        """G's total loss and its unweighted GAN and L1 parts, in float32."""
        fake_logits, fake, target = float32(fake_logits), float32(fake), float32(target)
        g_loss, g_gan, g_l1 = losses.generator_loss(
            fake_logits,
            fake,
            target,
            lambda_l1=self.lambda_l1,
            gan_mode=self.gan_mode,
            uses_gan=self.loss_terms.uses_gan,
            uses_l1=self.loss_terms.uses_l1,
        )
        return {"g_loss": g_loss, "g_gan": g_gan, "g_l1": g_l1}

    def evaluation_terms(self, inputs, targets):
        """Every logged loss on a batch, networks in inference mode, nothing updated."""
        fake = self.generator(inputs, training=False)
        terms, fake_logits = {}, None
        if self.loss_terms.uses_gan:
            d = self.discriminator
            real_logits = d(self.discriminator_inputs(inputs, targets), training=False)
            fake_logits = d(self.discriminator_inputs(inputs, fake), training=False)
            terms.update(self.discriminator_terms(real_logits, fake_logits))
        terms.update(self.generator_terms(fake_logits, fake, targets))
        return terms

    def record(self, terms):
        """Update the metric trackers with this step's terms; return the logs."""
        for tracker in self.trackers:
            tracker.update_state(terms[tracker.name])
        return {tracker.name: tracker.result() for tracker in self.trackers}

    # --- backend-specific mechanics --------------------------------------------------

    def train_step(self, *args):
        return step_module().train_step(self, *args)

    def test_step(self, *args):
        return step_module().test_step(self, *args)

    # --- saving ----------------------------------------------------------------------

    def get_config(self):
        serialize = keras.saving.serialize_keras_object
        config = super().get_config()
        config.update(
            generator=serialize(self.generator),
            discriminator=serialize(self.discriminator) if self.discriminator else None,
            objective=self.loss_terms.name,
            lambda_l1=self.lambda_l1,
            gan_mode=self.gan_mode,
            halve_d_loss=self.halve_d_loss,
        )
        return config

    @classmethod
    def from_config(cls, config):
        deserialize = keras.saving.deserialize_keras_object
        config = dict(config)
        config["generator"] = deserialize(config["generator"])
        if config.get("discriminator"):
            config["discriminator"] = deserialize(config["discriminator"])
        return cls(**config)


def float32(tensor):
    """`tensor` in float32 (None stays None): losses are summed in full precision."""
    return None if tensor is None else ops.cast(tensor, "float32")


def with_loss_scaling(optimizer, policy):
    """`optimizer` wrapped in Keras' dynamic loss scaling under `mixed_float16`.

    float16 gradients underflow to zero below 6e-8; the steps multiply each loss by the
    scale (`optimizer.scale_loss`) and the wrapper divides the gradients back, skipping
    the update and lowering the scale when they overflow. bfloat16 has float32's range
    and needs none.
    """
    if policy.name != "mixed_float16":
        return optimizer
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return optimizer
    return keras.optimizers.LossScaleOptimizer(optimizer)


def _check_discriminator(loss_terms, discriminator):
    """Refuse a discriminator that cannot serve the objective, before any training."""
    if not loss_terms.uses_gan:
        return
    if discriminator is None:
        raise ValueError(f"objective={loss_terms.name!r} needs a discriminator; got None.")
    two_inputs = len(discriminator.inputs) == 2
    if two_inputs != loss_terms.conditional:
        wanted = (
            "a conditional discriminator (two inputs: input, image)"
            if loss_terms.conditional
            else "an unconditional discriminator (one input: the image)"
        )
        raise ValueError(
            f"objective={loss_terms.name!r} needs {wanted}, but {discriminator.name!r} takes "
            f"{len(discriminator.inputs)} input(s). Build it with "
            f"patchgan_discriminator(conditional={loss_terms.conditional})."
        )


def batchnorm_statistics(model):
    """The moving mean and variance variables of every BatchNorm in a model's Ck blocks."""
    return [
        variable
        for layer in model.layers
        if isinstance(layer, Ck) and isinstance(layer.norm_layer, keras.layers.BatchNormalization)
        for variable in (layer.norm_layer.moving_mean, layer.norm_layer.moving_variance)
    ]


def build_pix2pix(
    image_size=IMAGE_SIZE,
    in_channels=3,
    out_channels=3,
    objective="l1+cgan",
    receptive_field=PATCH,
    ngf=BASE_WIDTH,
    ndf=BASE_WIDTH,
    norm="batch",
    skips=True,
    dropout=DROPOUT,
    lambda_l1=LAMBDA_L1,
    gan_mode="vanilla",
):
    """The paper's model in one call: U-Net generator, PatchGAN matched to `objective`.

    Example:
        >>> model = build_pix2pix(image_size=64, receptive_field=16, objective="l1+gan")
        >>> len(model.discriminator.inputs)  # unconditional: D sees the image alone
        1
    """
    terms = paper.objective(objective)
    generator = unet_generator(
        image_size, in_channels, out_channels, ngf=ngf, norm=norm, skips=skips, dropout=dropout
    )
    discriminator = None
    if terms.uses_gan:
        discriminator = patchgan_discriminator(
            receptive_field,
            in_channels,
            out_channels,
            ndf=ndf,
            norm=norm,
            conditional=terms.conditional,
            image_size=image_size,
        )
    return Pix2Pix(generator, discriminator, terms, lambda_l1=lambda_l1, gan_mode=gan_mode)
