"""The calibration verdicts: what the suite must say of the two peers (their true
deviations from the paper), shared by `test_spec_peers.py` (at seed 0) and
`test_spec_seeds.py` (under ten seeds)."""

# The requirements read at seed 0 only: fixed by construction (shapes and value maps) or
# too costly to repeat (DIS-2; the peers' TRN-1, ten 256x256 steps). Every other
# requirement is read under ten seeds by test_spec_seeds.py, seed 0 among them.
FIXED = {"GEN-1", "DIS-1", "DIS-2", "DAT-1", "DAT-5", "DAT-6"}
PEERS_AT_SEED_0 = FIXED | {"TRN-1"}

# Each expected FAIL: a phrase of its message, and the line of the peer's code that deviates.
TF_TUTORIAL = {
    "GEN-6": (
        "innermost (1x1) layer is normalised",
        "Generator(): the 8th encoder layer is downsample(512, 4), apply_batchnorm=True",
    ),
    "ACT-1": ("0.3 is Keras' default", "downsample(): result.add(tf.keras.layers.LeakyReLU())"),
    "OBJ-1": (
        "the sum without the paper's 1/2",
        "discriminator_loss(): total_disc_loss = real_loss + generated_loss",
    ),
    "OBJ-4": (
        "updated simultaneously",
        "train_step(): both tapes over one forward pass, then both apply_gradients",
    ),
}
JUNYANZ = {
    "GEN-7": (
        "dropout on decoder layers 2-4",
        "UnetGenerator: the num_downs - 5 blocks with use_dropout sit inside the innermost "
        "block, so their dropout follows decoder layers 2-4",
    ),
}
