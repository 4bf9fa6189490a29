"""The layer lists the requirements grade (GEN-6 to GEN-9, ACT-1, DIS-5).

Derived from the adapter's own network wherever `pix2pix_spec.introspect` can read it
(Keras 3, tf.keras, torch): the suite builds the network with the adapter, runs one
batch through the adapter's `run_generator` / `run_discriminator`, and reads what
executed. A list the adapter writes by hand (`generator_layers`,
`discriminator_layers`) is graded only where derivation is impossible, and every row
graded from it says "declared, not derived". Where both exist they must agree: a
declaration that contradicts the network is itself a FAIL, with both values. A declared
block may hand over its operations as callables (`activation_probe`, `dropout_probe`,
`norm_probe`): the suite measures them as it measures a network's, and the measured
value replaces the declared one, a contradiction again a FAIL.
"""

import math

import pytest

from pix2pix_spec.introspect import (
    DROPOUT_TOLERANCE,
    CannotDerive,
    activation_shape,
    derive,
    dropped_fraction,
    norm_kind,
)

COMPARED = ("part", "filters", "norm", "dropout", "slope", "upsampling")


class Layers:
    """One network's graded layer list, where it came from, and the conflicts found:
    {field: [messages]} between what an operation says and what it does, or between the
    adapter's declaration and the network."""

    def __init__(self, rows, source, reason=""):
        self.rows, self.source, self.reason = rows, source, reason
        self.conflicts = {}

    def conflict(self, name, message):
        self.conflicts.setdefault(name, []).append(message)

    def graded(self, ident, fields, note):
        """The rows, for requirement `ident` grading `fields`: FAIL on a conflict in one
        of them, and a note where the rows are declared."""
        if self.source == "declared":
            note(f"declared, not derived: {self.reason}")
        problems = [message for name in fields for message in self.conflicts.get(name, [])]
        assert not problems, (
            f"{ident}: what the adapter or a layer says contradicts what the network does: "
            + "; ".join(problems)
        )
        return self.rows


def equal(a, b):
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=0, abs_tol=1e-4)
    return a == b


def compare(layers, declared, role):
    """Note every field of the adapter's declaration that the derived rows contradict."""
    if len(declared) != len(layers.rows):
        layers.conflict(
            "filters",
            f"the adapter declares {len(declared)} {role} blocks, the network runs "
            f"{len(layers.rows)}",
        )
        return
    for number, (said, found) in enumerate(zip(declared, layers.rows, strict=True), 1):
        for name in COMPARED:
            if name in said and name in found and not equal(said[name], found[name]):
                layers.conflict(
                    name,
                    f"{role} block {number} ({found['filters']} filters): the adapter declares "
                    f"{name} {said[name]!r}, the network has {found[name]!r}",
                )


def measured_probes(row):
    """{field: value} measured through a declared block's probes (see generator_layers)."""
    found = {}
    if callable(row.get("activation_probe")):
        shape = activation_shape(row["activation_probe"])
        linear = shape is not None and abs(shape[1] - 1.0) <= 1e-4
        found["slope"] = round(shape[0], 6) if linear else None
    if callable(row.get("dropout_probe")):
        found["dropout"] = round(dropped_fraction(row["dropout_probe"]), 3)
    if callable(row.get("norm_probe")) and row.get("filters"):
        found["norm"] = norm_kind(row["norm_probe"], row["filters"])
    return found


def agree(name, said, measured):
    if name == "dropout" and isinstance(said, (int, float)):
        return abs(said - measured) <= DROPOUT_TOLERANCE
    return equal(said, measured)


def probed(layers, role):
    """`layers` (declared) with every probed field measured: the measured value is
    graded, and a declared one it contradicts is a conflict."""
    names = set()
    for number, row in enumerate(layers.rows, 1):
        found = measured_probes(row)
        names.update(found)
        for name, measured in found.items():
            if name in row and agree(name, row[name], measured):
                continue  # a measured rate within its counting error keeps the declared one
            if name in row:
                layers.conflict(
                    name,
                    f"{role} block {number}: the adapter declares {name} {row[name]!r}, "
                    f"its {name} probe measures {measured!r}",
                )
            row[name] = measured
        for probe in ("activation_probe", "dropout_probe", "norm_probe"):
            row.pop(probe, None)
    if names:
        layers.reason += f"; {', '.join(sorted(names))} measured through the adapter's probes"
    return layers


def network_layers(impl, role, network, run):
    """`Layers` of `network`, built by the adapter; `run()` pushes one batch through it."""
    method = f"{role}_layers"
    declared = None
    if method in impl.capabilities:
        declared = [dict(layer) for layer in getattr(impl, method)(network)]
    try:
        rows = derive(network, run, role)
    except CannotDerive as error:
        if declared is None:
            pytest.skip(
                f"the {role}'s layers cannot be derived ({error}), and the adapter declares "
                f"none ({method})"
            )
        return probed(Layers(declared, "declared", str(error)), role)
    layers = Layers(rows, "derived")
    for number, row in enumerate(rows, 1):
        for name, message in row.get("disagreements", {}).items():
            layers.conflict(name, f"{role} block {number}: {message}")
    if declared is not None:
        compare(layers, declared, role)
    return layers
