"""Reading pairs from disk: layouts, direction, the channel rule, and bad input."""

import numpy as np
import pytest
from PIL import Image

from pix2pix_k3.data.images import DataError, find_pairs, read_image, read_pair


def save(path, array, mode=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array, mode).save(path)
    return path


def side_by_side(tmp_path, name="1.png", height=8, width=6):
    """An A|B image whose left half is all 10 and right half all 200."""
    image = np.zeros((height, 2 * width, 3), np.uint8)
    image[:, :width], image[:, width:] = 10, 200
    return save(tmp_path / name, image)


def test_side_by_side_split_and_direction(tmp_path):
    (source,) = find_pairs(side_by_side(tmp_path).parent)
    x, y = read_pair(source, "AtoB")
    assert (x.shape, y.shape) == ((8, 6, 3), (8, 6, 3))
    assert (x.min(), x.max(), y.min(), y.max()) == (10, 10, 200, 200)
    x, y = read_pair(source, "BtoA")
    assert (x.max(), y.max()) == (200, 10)


def test_a_b_folders_are_matched_by_name(tmp_path):
    for name, value in (("x", 1), ("y", 2)):
        save(tmp_path / "A" / f"{name}.png", np.full((4, 4, 3), value, np.uint8))
        save(tmp_path / "B" / f"{name}.jpg", np.full((4, 4, 3), 100 + value, np.uint8))
    pairs = find_pairs(tmp_path)
    assert [(a.name, b.name) for a, b in pairs] == [("x.png", "x.jpg"), ("y.png", "y.jpg")]
    x, y = read_pair(pairs[1], "BtoA")
    assert x.mean() == pytest.approx(102, abs=2) and y.max() == 2


@pytest.mark.parametrize(
    ("array", "mode", "channels", "expected"),
    [
        (np.full((2, 2), 7, np.uint8), "L", 3, [7, 7, 7]),
        (np.full((2, 2, 3), 9, np.uint8), "RGB", 1, [9]),
        (np.full((2, 2, 4), 50, np.uint8), "RGBA", 3, [50, 50, 50]),
        (np.full((2, 2), 65535, np.uint16), None, 1, [255]),
        (np.full((2, 2), 257 * 100, np.uint16), None, 3, [100, 100, 100]),
    ],
    ids=["gray->rgb", "rgb->gray", "rgba->rgb", "16bit-white", "16bit->rgb"],
)
def test_the_channel_rule(tmp_path, array, mode, channels, expected):
    path = save(tmp_path / "image.png", array, mode)
    image = read_image(path, channels)
    assert image.dtype == np.uint8 and image.shape == (2, 2, channels)
    np.testing.assert_array_equal(image[0, 0], expected)


def test_palette_images_are_expanded(tmp_path):
    palette = Image.new("P", (2, 2), 1)
    palette.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    palette.save(tmp_path / "p.png")
    np.testing.assert_array_equal(read_image(tmp_path / "p.png", 3)[0, 0], [255, 0, 0])


def test_non_image_files_are_ignored(tmp_path):
    side_by_side(tmp_path)
    (tmp_path / "notes.txt").write_text("not an image")
    assert [source[0].name for source in find_pairs(tmp_path)] == ["1.png"]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing", "no such folder"),
        (lambda p: p, "no images found"),
        (
            lambda p: (p / "bad.jpg").write_bytes(b"\xff\xd8 not really") and p,
            "bad.jpg: cannot be read",
        ),
        (lambda p: save(p / "odd.png", np.zeros((4, 7, 3), np.uint8)).parent, "width 7 is odd"),
    ],
    ids=["missing-folder", "empty-folder", "corrupt-file", "odd-width"],
)
def test_bad_input_is_named_with_what_to_do(tmp_path, make, message):
    with pytest.raises(DataError, match=message):
        for source in find_pairs(make(tmp_path)):
            read_pair(source)


def test_a_truncated_image_is_named(tmp_path):
    path = side_by_side(tmp_path, "cut.png", 64, 64)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(DataError, match="cut.png: cannot be read"):
        read_pair(find_pairs(tmp_path)[0])


def test_a_b_name_mismatch_lists_the_odd_ones_out(tmp_path):
    save(tmp_path / "A" / "1.png", np.zeros((4, 4, 3), np.uint8))
    save(tmp_path / "B" / "2.png", np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(DataError, match=r"Only in A/: \['1'\]; only in B/: \['2'\]"):
        find_pairs(tmp_path)


def test_a_b_size_mismatch_names_both_files(tmp_path):
    save(tmp_path / "A" / "1.png", np.zeros((4, 4, 3), np.uint8))
    save(tmp_path / "B" / "1.png", np.zeros((4, 6, 3), np.uint8))
    with pytest.raises(DataError, match=r"1.png is 4x4 but .*1.png is 6x4"):
        read_pair(find_pairs(tmp_path)[0])
