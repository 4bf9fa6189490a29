"""The course's exercises: what a student writes, checked against the paper.

One check per exercise (`check_jitter`, `check_unet`, `check_receptive_field`,
`check_patchgan`, `check_losses`, `check_train_step`, `check_planted_bugs`) runs the
specification suite's requirements for that stage on the student's code, compares
numbers with reference values, prints what it found in the student's terms and returns
the `Report`. The checks need the specification suite (`pip install -e ./spec` from a
clone of pix2pix_k3); the exercises are in `tutorials/exercises/`, and the course guide
is docs/course.md.
"""

from .checks import (
    check_jitter,
    check_losses,
    check_patchgan,
    check_planted_bugs,
    check_receptive_field,
    check_train_step,
    check_unet,
)
from .models import Models

__all__ = [
    "Models",
    "check_jitter",
    "check_losses",
    "check_patchgan",
    "check_planted_bugs",
    "check_receptive_field",
    "check_train_step",
    "check_unet",
]
