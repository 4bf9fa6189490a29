"""What the requirement tests share: conversions of adapters' answers, the paper's
formulas in float64, the suite's own test images, and a lossless PNG writer."""

import math
import struct
import zlib

import numpy as np

LAMBDA_L1 = 100.0  # section 4: "we use lambda = 100"
D_LOSS_SCALE = 0.5  # section 3.3: "we divide the objective by 2 while optimizing D"
LEAKY_SLOPE = 0.2  # appendix 6.1: "All ReLUs in the encoder are leaky, with slope 0.2"
LOAD_SIZE, CROP_SIZE = 286, 256  # section 6.2: "resizing the 256x256 input images to 286x286
# and then randomly cropping back to size 256x256"


# --- adapters' answers -------------------------------------------------------------------


def array(value):
    """An adapter's return value as a float64 NumPy array."""
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().numpy()
    elif hasattr(value, "numpy") and not isinstance(value, np.ndarray):  # a TF tensor
        value = value.numpy()
    return np.asarray(value, dtype="float64")


def scalar(value):
    return float(array(value).reshape(()))


def patch_map(outputs):
    """D's outputs as (N, h, w): one value per patch."""
    outputs = array(outputs)
    if outputs.ndim == 4 and outputs.shape[-1] == 1:
        outputs = outputs[..., 0]
    if outputs.ndim != 3:
        raise AssertionError(
            f"the discriminator returned shape {outputs.shape}; the protocol asks for "
            "(N, h, w) or (N, h, w, 1), one output per patch"
        )
    return outputs


def to_logits(outputs, kind):
    """Logits from D's outputs, whichever the adapter declares (LSGAN scores stay scores)."""
    if kind != "probabilities":
        return outputs
    clipped = np.clip(outputs, 1e-7, 1 - 1e-7)
    return np.log(clipped) - np.log1p(-clipped)


def from_logits(logits, kind):
    """What the adapter's loss functions take, from logits."""
    return 1 / (1 + np.exp(-logits)) if kind == "probabilities" else logits


def unit_range(image):
    """An image from uint8 or [-1, 1] floats to floats in [0, 1], for comparisons."""
    image = np.asarray(image) if not hasattr(image, "detach") else array(image)
    if image.dtype == np.uint8:
        return image.astype("float64") / 255
    return (array(image) + 1) / 2


def same(a, b, atol=1e-5):
    """Two arrays of one shape that agree to `atol`."""
    a, b = array(a), array(b)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=0, atol=atol))


# --- the paper's formulas ----------------------------------------------------------------


def bce(logits, label):
    """Mean binary cross-entropy of sigmoid(logits) against a constant label (stable)."""
    logits = np.asarray(logits, dtype="float64")
    return float(
        np.mean(np.maximum(logits, 0) - logits * label + np.log1p(np.exp(-np.abs(logits))))
    )


def saturating(logits):
    """G's minimax loss, mean log(1 - D): what the non-saturating loss replaces."""
    return -bce(logits, 0.0)


def paper_d_loss(real, fake):
    return D_LOSS_SCALE * (bce(real, 1.0) + bce(fake, 0.0))


def paper_g_loss(fake_outputs, generated, target):
    return bce(fake_outputs, 1.0) + LAMBDA_L1 * float(np.mean(np.abs(target - generated)))


def lsgan_d_loss(real, fake):
    """D's least-squares objective (LSGAN), halved as the paper halves its own."""
    return 0.5 * float(np.mean((real - 1) ** 2) + np.mean(fake**2))


def d_variants(real, fake):
    """D's loss as the known mistakes and variants compute it."""
    total = bce(real, 1.0) + bce(fake, 0.0)
    return {
        "the sum without the paper's 1/2": total,
        "swapped labels (real as 0, fake as 1)": 0.5 * (bce(real, 0.0) + bce(fake, 1.0)),
        "least squares (LSGAN), halved": lsgan_d_loss(real, fake),
        "least squares (LSGAN), not halved": np.mean((real - 1) ** 2) + np.mean(fake**2),
    }


def g_variants(fake, generated, target):
    """G's loss as the known mistakes and variants compute it."""
    l1 = float(np.mean(np.abs(target - generated)))
    l2 = float(np.mean((target - generated) ** 2))
    gan = bce(fake, 1.0)
    variants = {
        "L2 instead of L1": gan + LAMBDA_L1 * l2,
        "the saturating loss log(1 - D)": saturating(fake) + LAMBDA_L1 * l1,
        "labels inverted (fakes labelled fake)": bce(fake, 0.0) + LAMBDA_L1 * l1,
        "the L1 term alone": LAMBDA_L1 * l1,
        "the GAN term alone": gan,
        "least squares (LSGAN)": float(np.mean((fake - 1) ** 2)) + LAMBDA_L1 * l1,
        "L1 summed over pixels instead of averaged": gan
        + LAMBDA_L1 * float(np.sum(np.abs(target - generated))),
    }
    for weight in (1.0, 10.0):
        variants[f"lambda = {weight:g} instead of 100"] = gan + weight * l1
    return variants


def close(a, b, rtol=1e-4, atol=1e-5):
    return math.isclose(a, b, rel_tol=rtol, abs_tol=atol)


def matches(measured, candidates, rtol=1e-4, atol=1e-5):
    """The names of the candidate values that `measured` equals."""
    return [name for name, value in candidates.items() if close(measured, value, rtol, atol)]


def which(measured, candidates, rtol=1e-4, atol=1e-5):
    found = matches(measured, candidates, rtol, atol)
    return f" It matches: {', '.join(found)}." if found else ""


# --- the suite's test images ---------------------------------------------------------------


def random_images(size, count=1, channels=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, (count, size, size, channels)).astype("float32")


def ramp(size):
    """uint8 (size, size, 3): red and green rise left to right, blue top to bottom;
    reveals a crop's offset, its scale and mirroring."""
    columns = np.linspace(0, 255, size)[None, :, None]
    rows = np.linspace(0, 255, size)[:, None, None]
    image = np.concatenate(
        [np.broadcast_to(columns, (size, size, 1))] * 2 + [np.broadcast_to(rows, (size, size, 1))],
        axis=-1,
    )
    return image.round().astype(np.uint8)


def write_png(path, image):
    """Write a uint8 (H, W, 3) image as a lossless PNG, with nothing but zlib."""
    image = np.ascontiguousarray(image, dtype=np.uint8)
    height, width, channels = image.shape
    if channels != 3:
        raise ValueError(f"write_png takes RGB images, not {channels} channels")
    rows = b"".join(b"\x00" + image[row].tobytes() for row in range(height))

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
    png += chunk(b"IDAT", zlib.compress(rows, 6)) + chunk(b"IEND", b"")
    with open(path, "wb") as file:
        file.write(png)
    return path
