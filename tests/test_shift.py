"""The wild robustness pipeline (uim_utils.shift), offline: label maps, subsets, the data
check, the four classifiers on a lab fixture, the array preprocessing of a wild CLIP, and a
fast failure without internet."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pytest
import torch

from uim_utils import finetune as ft
from uim_utils import shift
from uim_utils.models import ArrayPreprocess, array_preprocess, create_lab_model, lab_to_tensor
from uim_utils.offline import OfflineError
from uim_utils.world import ConceptWorld, WorldConfig


def test_stl_labels_map_to_the_shared_cifar_classes():
    keep, mapped = shift.stl_to_cifar(np.arange(10))
    assert keep.tolist() == [True] * 7 + [False] + [True] * 2  # no monkey in CIFAR-10
    assert [shift.CIFAR10_CLASSES[c] for c in mapped] == [
        "airplane", "bird", "automobile", "cat", "deer", "dog", "horse", "ship", "truck"]


def test_per_class_subset_takes_at_most_n_of_each_class_repeatably():
    labels = np.repeat([0, 1, 2], [5, 2, 9])
    idx = shift.per_class_subset(labels, 3, seed=1)
    assert np.bincount(labels[idx]).tolist() == [3, 2, 3] and np.all(np.diff(idx) > 0)
    assert np.array_equal(idx, shift.per_class_subset(labels, 3, seed=1))
    with pytest.raises(ValueError, match="n_per_class must be an integer"):
        shift.per_class_subset(labels, 0, seed=1)


@pytest.fixture(scope="module")
def data():
    world = ConceptWorld(WorldConfig(n_concepts=4, seed=0))
    train = world.sample(8, "photo", seed=1)
    return shift.ShiftData(tuple(world.classnames), *train, *world.sample(5, "photo", seed=2),
                           *world.sample(5, "sketch", seed=3))


def test_shift_data_refuses_bad_sets(data):
    with pytest.raises(ValueError, match=r"ood_y must be in \[0, 3\], got 0..7"):
        replace(data, ood_y=np.r_[data.ood_y[:-1], 7])
    with pytest.raises(ValueError, match="classnames must name at least 2 classes"):
        replace(data, classnames=("cat",))
    with pytest.raises(ValueError, match="uint8"):
        replace(data, id_x=data.id_x.astype(np.float32))


def test_wild_pipeline_scores_the_four_classifiers(data):
    lm = create_lab_model("uim-tiny", seed=0)
    config = ft.FinetuneConfig(epochs=2, batch_size=8, warmup_steps=0, lr=1e-3)
    table = shift.wild_pipeline(lm, data, config, alphas=(0.5,))
    assert table["method"].tolist() == ["zero-shot", "linear probe", "WiSE-FT", "fine-tuned"]
    assert table[["id", "ood"]].apply(lambda c: c.between(0, 1)).all().all()
    zs = ft.ImageClassifier.zero_shot(lm, list(data.classnames))
    tuned = ft.finetune(zs, data.train_x, data.train_y, config)
    for method, clf in (("zero-shot", zs), ("fine-tuned", tuned)):
        row = table.set_index("method").loc[method]
        assert row["id"] == (ft.predict(clf, data.id_x) == data.id_y).mean()
        assert row["ood"] == (ft.predict(clf, data.ood_x) == data.ood_y).mean()
    with pytest.raises(ValueError, match=r"alphas must be in \[0, 1\], got \(1.5,\)"):
        shift.wild_pipeline(lm, data, config, alphas=(1.5,))


def test_array_preprocess_resizes_and_normalises_like_a_wild_clip():
    images = np.full((2, 32, 32, 3), 255, np.uint8)
    x = ArrayPreprocess(16, (0.5, 0.5, 0.5), (0.25, 0.25, 0.25))(images)
    assert x.shape == (2, 3, 16, 16) and torch.allclose(x, torch.full_like(x, 2.0))
    with pytest.raises(ValueError, match="expected uint8 images"):
        ArrayPreprocess(16, (0.5,) * 3, (0.25,) * 3)(images.astype(np.float32))
    lm = create_lab_model("uim-tiny", seed=0)
    assert array_preprocess(lm) is lab_to_tensor  # a lab model takes the lab's arrays
    wild = replace(lm, preprocess=lambda img: img)  # as if loaded with open_clip's transform
    pre = array_preprocess(wild)
    assert isinstance(pre, ArrayPreprocess) and pre.size == 32
    assert pre(images).shape == (2, 3, 32, 32)


def test_the_download_fails_fast_offline(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.monotonic()
    with pytest.raises(OfflineError, match="Downloading CIFAR-10 and STL-10"):
        shift.load_cifar_stl(tmp_path)
    assert time.monotonic() - start < 10
