"""The suite's self-test: a reference pix2pix in plain PyTorch, and deliberately broken
copies of it, one known deviation each (`python -m pix2pix_spec --self-test`).

It runs from the installed package, without the repository: the reference must pass
every requirement and each mutant must fail the requirement that describes it, with a
message that names the deviation. It needs torch and pillow (`pip install
"pix2pix-spec[self-test]"`).
"""
