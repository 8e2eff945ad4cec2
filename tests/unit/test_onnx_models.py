"""Derived model files are written whole, and choose_runner keeps only checked exports, else falls back loudly."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from core.nets import backend
from core.nets.backend import (
    BackendFallbackWarning,
    LazyNetwork,
    Network,
    cache_dir,
    cached_path,
    choose_runner,
    max_abs_diff,
    write_atomically,
)


def test_cache_dir_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VITRINE_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "vitrine"
    monkeypatch.setenv("VITRINE_CACHE_DIR", str(tmp_path / "mine"))
    assert cached_path("net", "weights-a").parent == tmp_path / "mine"
    assert cached_path("net", "weights-a") != cached_path("net", "weights-b")
    assert cached_path("net", "weights-a").name.startswith("net-")


def test_the_target_appears_only_when_whole(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "model.onnx"

    def write(tmp: Path) -> None:
        tmp.write_bytes(b"half")
        assert not target.exists()
        with tmp.open("ab") as f:
            f.write(b" and the rest")

    assert write_atomically(target, write) == target
    assert target.read_bytes() == b"half and the rest" and list(target.parent.iterdir()) == [target]


def test_a_failed_write_leaves_nothing(tmp_path: Path) -> None:
    def write(tmp: Path) -> None:
        tmp.write_bytes(b"partial")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_atomically(tmp_path / "model.onnx", write)
    assert not list(tmp_path.iterdir())


def test_concurrent_writers_each_finish_a_whole_file(tmp_path: Path) -> None:
    target, both_writing = tmp_path / "model.onnx", threading.Barrier(2)

    def write(tmp: Path) -> None:
        tmp.write_bytes(b"x" * 1000)
        both_writing.wait(timeout=10)  # both temporary files exist at once
        with tmp.open("ab") as f:
            f.write(b"y" * 1000)

    threads = [threading.Thread(target=write_atomically, args=(target, write)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert target.read_bytes() == b"x" * 1000 + b"y" * 1000 and list(tmp_path.iterdir()) == [target]


class FakeNet:
    """A stand-in network: an "export" is a text file holding a scale, "PyTorch" doubles its input."""

    def __init__(self, path: Path, scale: str = "2.0", tolerance: float = 1e-4) -> None:
        self.path, self.scale, self.tolerance = path, scale, tolerance
        self.exports = self.torch_loads = self.sessions = 0

    def export(self, target: Path) -> None:
        self.exports += 1
        target.write_text(self.scale)

    def torch_runner(self) -> Callable[[np.ndarray], np.ndarray]:
        self.torch_loads += 1
        return lambda x: x * 2.0

    def onnx_runner(self, path: Path) -> Callable[[np.ndarray], np.ndarray]:
        self.sessions += 1
        scale = float(path.read_text())  # a corrupt file fails here, as a real session would
        return lambda x: x * scale

    def network(self) -> Network[np.ndarray, np.ndarray]:
        return Network(name="FakeNet", onnx_path=self.path, torch_runner=self.torch_runner, export=self.export,
                       onnx_runner=self.onnx_runner, sample=np.arange(4.0), tolerance=self.tolerance)


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeNet:
    monkeypatch.setattr(backend, "has_onnx", lambda: True)
    return FakeNet(tmp_path / "cache" / "fake.onnx")


def test_onnx_is_exported_once_checked_and_reused(fake: FakeNet) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", BackendFallbackWarning)
        run, name = choose_runner(fake.network(), "auto")
        assert name == "onnxruntime" and run(np.ones(2)).tolist() == [2.0, 2.0]
        assert (fake.exports, fake.torch_loads) == (1, 1) and fake.path.read_text() == "2.0"
        assert choose_runner(fake.network(), "onnxruntime")[1] == "onnxruntime"
    assert (fake.exports, fake.torch_loads) == (1, 1)  # the second load trusts the checked file: no torch at all
    assert list(fake.path.parent.iterdir()) == [fake.path]


@pytest.mark.parametrize(("scale", "why"), [("2.1", "differs from PyTorch by 3.00e-01"), ("nan", "differs"),
                                            ("oops", "could not convert")])
def test_an_export_that_fails_its_check_is_not_kept(fake: FakeNet, scale: str, why: str) -> None:
    fake.scale = scale
    with pytest.warns(BackendFallbackWarning, match=f"FakeNet on ONNX Runtime failed.*{why}.*running on PyTorch"):
        run, name = choose_runner(fake.network(), "auto")
    assert name == "torch" and run(np.ones(1)).tolist() == [2.0]
    assert fake.torch_loads == 1  # the reference built for the check is the fallback too
    assert not fake.path.parent.exists() or not list(fake.path.parent.iterdir())


def test_an_export_error_falls_back_under_auto_but_raises_when_onnx_was_asked_for(
        fake: FakeNet, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(target: Path) -> None:
        raise RuntimeError("exporter exploded")

    monkeypatch.setattr(fake, "export", broken)
    with pytest.warns(BackendFallbackWarning, match="RuntimeError: exporter exploded"):
        assert choose_runner(fake.network(), "auto")[1] == "torch"
    with pytest.raises(RuntimeError, match="exploded"):
        choose_runner(fake.network(), "onnxruntime")


def test_a_corrupt_cached_export_falls_back_and_names_the_file(fake: FakeNet) -> None:
    fake.path.parent.mkdir()
    fake.path.write_text("not a model")
    with pytest.warns(BackendFallbackWarning, match=f"export {fake.path}"):
        run, name = choose_runner(fake.network(), "auto")
    assert name == "torch" and fake.exports == 0 and run(np.ones(1)).tolist() == [2.0]


def test_missing_onnxruntime_warns_under_auto(fake: FakeNet, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backend, "has_onnx", lambda: False)
    with pytest.warns(BackendFallbackWarning, match="FakeNet: onnxruntime/onnx are not installed"):
        assert choose_runner(fake.network(), "auto")[1] == "torch"
    assert fake.exports == fake.sessions == 0


def test_torch_asked_for_touches_no_onnx(fake: FakeNet) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", BackendFallbackWarning)
        assert choose_runner(fake.network(), "torch")[1] == "torch"
    assert fake.exports == fake.sessions == 0 and not fake.path.parent.exists()


def test_lazy_network_loads_once_for_all_threads(fake: FakeNet) -> None:
    calls: list[int] = []

    def network() -> Network[np.ndarray, np.ndarray]:
        calls.append(1)
        return fake.network()

    lazy = LazyNetwork("fake", "auto", network)
    assert not calls  # nothing loads until asked
    threads = [threading.Thread(target=lazy.runner) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and fake.exports == 1 and lazy.backend == "onnxruntime"
    with pytest.raises(ValueError, match="unknown fake backend 'tensorrt'; choose auto, onnxruntime or torch"):
        LazyNetwork("fake", "tensorrt", network)


def test_max_abs_diff_covers_every_output_and_refuses_to_broadcast() -> None:
    a, b = np.zeros((2, 3)), np.zeros(3)
    assert max_abs_diff((a, a + 0.5), (a, a)) == 0.5 and max_abs_diff(a, a) == 0.0
    assert np.isnan(max_abs_diff((a, a + np.nan), (a, a)))  # a NaN never passes as "no drift"
    with pytest.raises(RuntimeError, match="shape"):
        max_abs_diff(a, b)
    with pytest.raises(ValueError):
        max_abs_diff((a, a), (a,))


def test_a_batch_repeating_one_image_runs_the_network_on_it_once(monkeypatch):
    from core.nets.vision import FEATURE_DIM, NUM_CLASSES, VisionBatch, VisionModel

    model = VisionModel()  # lazy: no weights load unless analyse really runs
    seen: list[int] = []

    def analyse(images, batch_size=32):
        seen.append(len(images))
        n = len(images)
        return VisionBatch(np.arange(n * NUM_CLASSES, dtype=np.float32).reshape(n, NUM_CLASSES),
                           np.arange(n * FEATURE_DIM, dtype=np.float32).reshape(n, FEATURE_DIM))

    monkeypatch.setattr(model, "analyse", analyse)
    batch = model.analyse_keyed(["a", "b", "a", "a"], ["img-a", "img-b", "img-a", "img-a"])
    assert seen == [2]  # two distinct images, one forward pass each
    np.testing.assert_array_equal(batch.features[0], batch.features[2])
    assert batch.features.shape == (4, FEATURE_DIM)
    assert not np.array_equal(batch.features[0], batch.features[1])
