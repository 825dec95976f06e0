"""The main job's data: read it, check it before anything trains, and feed it in batches.

The training images are split once into a training and a validation part (a seeded draw, so a
run's config finds the same split again); the validation accuracy picks `best.safetensors`, and
the test images are only scored, never used to choose.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import chainrule
from chainrule import datasets
from chainrule.apps.errors import UsageError
from chainrule.data import DataLoader, Sampler, Subset
from chainrule.errors import ShapeError
from chainrule.serialization import FileFormatError

IDX_STEMS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


@dataclass
class Data:
    """The three splits and what the models need to know about them."""

    train: Any
    validation: Any
    test: Any
    image_size: int
    num_classes: int
    spec: dict[str, Any]  # how `evaluate` finds the same test images again

    def describe(self) -> str:
        source = "digits (scikit-learn)" if self.spec["source"] == "digits" else self.spec["path"]
        return (
            f"{source}: {len(self.train):,} train / {len(self.validation):,} validation / "
            f"{len(self.test):,} test images, {self.image_size}x{self.image_size}, "
            f"{self.num_classes} classes"
        )


def idx_file(folder: Path, stem: str) -> Path:
    """The file of `stem` in `folder`, under any of the names MNIST's files go by."""
    dotted = stem.replace("-idx", ".idx")
    for name in (stem, stem + ".gz", dotted, dotted + ".gz"):
        if (folder / name).is_file():
            return folder / name
    raise UsageError(f"no IDX file {stem}[.gz] in {folder}")


def _read_split(source: dict[str, Any], split: str, seed: int) -> Any:
    """One split as a TensorDataset; every way the files can be unreadable is a UsageError."""
    if source["source"] == "digits":
        return datasets.load_digits(split=split, seed=seed)
    folder = Path(source["path"])
    if not folder.is_dir():
        raise UsageError(f"data folder {folder} does not exist or is not a folder")
    images_stem, labels_stem = IDX_STEMS[split]
    images, labels = idx_file(folder, images_stem), idx_file(folder, labels_stem)
    try:
        return datasets.load_idx_dataset(images, labels)
    except (FileFormatError, ShapeError, OSError) as error:
        raise UsageError(str(error)) from error


def _check_images(dataset: Any, what: str) -> int:
    """The side of the square images in `dataset`, after checking there are some and they are
    finite."""
    images = dataset.tensors[0]
    if images.shape[0] == 0:
        raise UsageError(f"{what} holds no images")
    height, width = images.shape[-2], images.shape[-1]
    if height != width:
        raise UsageError(f"{what}: the models take square images, these are {height}x{width}")
    if height < 4:
        raise UsageError(f"{what}: images of {height}x{width} are too small (at least 4x4)")
    if not bool(chainrule.isfinite(images).all()):
        raise UsageError(f"{what}: some pixel values are NaN or infinite")
    return height


def _count_classes(train: Any, test: Any, num_classes: int | None, where: str) -> int:
    """The number of classes: `num_classes` if given, else one more than the largest training
    label, refusing labels that make no sense for it (negative, beyond it, or classes that
    never occur, which is what one corrupted label looks like)."""
    train_labels, test_labels = train.tensors[1], test.tensors[1]
    smallest = min(int(train_labels.min()), int(test_labels.min()))
    if smallest < 0:
        raise UsageError(f"{where}: labels must be class numbers 0, 1, ...; found {smallest}")
    if num_classes is not None:
        largest = max(int(train_labels.max()), int(test_labels.max()))
        if largest >= num_classes:
            raise UsageError(
                f"{where}: label {largest} is out of range for --num-classes {num_classes} "
                f"(labels must be 0..{num_classes - 1})"
            )
        return num_classes
    count = int(train_labels.max()) + 1
    present = set(chainrule.unique(train_labels).tolist())
    missing = [c for c in range(count) if c not in present]
    if missing:
        raise UsageError(
            f"{where}: the training labels go up to {count - 1}, but {len(missing)} of the "
            f"classes 0..{count - 1} never occur (the first is {missing[0]}): a corrupted label? "
            f"If these classes are meant to be empty, pass --num-classes {count}"
        )
    largest_test = int(test_labels.max())
    if largest_test >= count:
        raise UsageError(
            f"{where}: test label {largest_test} is not a training class (0..{count - 1}); "
            f"pass --num-classes {largest_test + 1} if that is intended"
        )
    return count


def split_for_validation(train: Any, fraction: float, seed: int) -> tuple[Any, Any]:
    """(train, validation) Subsets: a seeded draw of `fraction` of the images (rounded up)."""
    count = len(train)
    held_out = math.ceil(count * fraction)
    if held_out >= count:
        raise UsageError(
            f"--val-fraction {fraction} leaves no training images out of {count}; use less"
        )
    order = chainrule.randperm(count, generator=chainrule.Generator().manual_seed(seed)).tolist()
    return Subset(train, sorted(order[held_out:])), Subset(train, sorted(order[:held_out]))


def load_data(
    source: dict[str, Any], seed: int, val_fraction: float, num_classes: int | None = None
) -> Data:
    """Read and check every split before anything trains. `source` is {'source': 'digits'} or
    {'source': 'idx', 'path': folder}."""
    train = _read_split(source, "train", seed)
    test = _read_split(source, "test", seed)
    where = "the digits" if source["source"] == "digits" else source["path"]
    image_size = _check_images(train, f"{where} (train)")
    test_size = _check_images(test, f"{where} (test)")
    if test_size != image_size:
        raise UsageError(
            f"{where}: training images are {image_size}x{image_size} but test images are "
            f"{test_size}x{test_size}"
        )
    classes = _count_classes(train, test, num_classes, where)
    fitted, validation = split_for_validation(train, val_fraction, seed)
    spec = dict(source, seed=seed)
    return Data(fitted, validation, test, image_size, classes, spec)


def load_test_data(spec: dict[str, Any]) -> Any:
    """The test images of a run, from the `data` entry of its config."""
    return _read_split(spec, "test", int(spec.get("seed", 0)))


# ---- batches ---------------------------------------------------------------------------------


class ResumableRandomSampler(Sampler):
    """A new random order of the indices every epoch, drawn from `generator`, that can resume
    in the middle of an epoch.

    `position()` is what a checkpoint needs: the generator state this epoch's order was drawn
    from and how many samples of it were used; `resume(state, used)` makes the next iteration
    draw the same order and skip those samples, so the batches continue exactly.
    """

    def __init__(self, data_source: Any, generator: chainrule.Generator) -> None:
        self.data_source = data_source
        self.generator = generator
        self._epoch_state = generator.get_state()
        self._skip = 0

    def __iter__(self) -> Iterator[int]:
        self._epoch_state = self.generator.get_state()
        order = chainrule.randperm(len(self.data_source), generator=self.generator).tolist()
        skip, self._skip = self._skip, 0
        yield from order[skip:]

    def __len__(self) -> int:
        return len(self.data_source) - self._skip

    def position(self, used: int) -> dict[str, Any]:
        """The checkpoint entry for `used` samples into the current epoch (0: at its end)."""
        state = self._epoch_state if used else self.generator.get_state()
        return {"generator": state, "used": used}

    def resume(self, position: dict[str, Any]) -> None:
        self.generator.set_state(position["generator"])
        self._skip = min(int(position["used"]), len(self.data_source))  # a short last batch


def build_loaders(
    data: Data, batch_size: int, seed: int
) -> tuple[DataLoader, ResumableRandomSampler]:
    """(train loader, its sampler): the one place that decides who sees which training images.
    A distributed run swaps in a sampler that gives each process its share (and resumes it)."""
    sampler = ResumableRandomSampler(data.train, chainrule.Generator().manual_seed(seed))
    # The loader's own generator: each epoch draws its worker seed from it (as PyTorch's does
    # from the default one), which must advance neither stream a checkpoint holds.
    loader_seeds = chainrule.Generator().manual_seed(seed)
    loader = DataLoader(data.train, batch_size=batch_size, sampler=sampler, generator=loader_seeds)
    return loader, sampler
