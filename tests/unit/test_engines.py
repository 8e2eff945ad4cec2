"""What both engines share: each distinct input is encoded once however many SKUs share it, and ONNX Runtime
sessions stay within the thread budget a Ray actor is given."""

import numpy as np
import pytest

from core.catalog.store import Store
from core.engines.base import Model, VectorRows
from core.engines.local import LOCAL
from core.nets import backend
from core.nets.encoders import HashEncoder

SKUS = ["A", "B", "C", "D", "E"]
INPUTS = ["red tote", "red tote", "blue vase", "red tote", "blue vase"]  # colour variants sharing one image/text


class CountingEncoder(HashEncoder):
    """HashEncoder that records every batch it is asked to encode."""

    def __init__(self) -> None:
        super().__init__(dim=16)
        self.calls: list[list[str]] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return super().encode(texts)


def _rows() -> VectorRows:
    return VectorRows("vec_t", 16, SKUS, [f"sha-{s}" for s in SKUS], [f"t-{i}" for i in INPUTS], INPUTS, fresh=True)


def test_distinct_inputs_map_every_row_back():
    inputs, positions = _rows().distinct()
    assert inputs == ["red tote", "blue vase"]
    assert [inputs[p] for p in positions] == INPUTS


def test_local_engine_encodes_each_distinct_input_once(tmp_path):
    encoder = CountingEncoder()
    store = Store(str(tmp_path / "db"))
    LOCAL.write_vectors(store, _rows(), Model(encoder.encode, lambda: encoder.encode))

    assert sorted(sum(encoder.calls, [])) == ["blue vase", "red tote"]
    skus, matrix, _ = store.vectors("vec_t")
    stored = dict(zip(skus, matrix, strict=True))
    expected = HashEncoder(dim=16).encode(INPUTS)
    for sku, vector in zip(SKUS, expected, strict=True):
        np.testing.assert_allclose(stored[sku], vector, atol=1e-6)


def test_ray_batches_carry_each_input_once_and_give_one_row_per_sku():
    pytest.importorskip("ray")
    pytest.importorskip("lance_ray")
    from core.engines.ray_engine import _by_input, _Embed

    encoder = CountingEncoder()
    grouped = _by_input(_rows())
    assert grouped["input"].to_pylist() == ["red tote", "blue vase"]
    try:
        out = _Embed(lambda: encoder.encode, 16, threads=1)(grouped)
    finally:
        backend.set_thread_budget(None)
    assert encoder.calls == [["red tote", "blue vase"]]
    by_sku = dict(zip(out["sku"].to_pylist(), out["vector"].to_pylist(), strict=True))
    assert sorted(by_sku) == SKUS
    assert dict(zip(out["sku"].to_pylist(), out["text_sha"].to_pylist(), strict=True)) == {
        s: f"t-{i}" for s, i in zip(SKUS, INPUTS, strict=True)}
    expected = HashEncoder(dim=16).encode(INPUTS)
    for sku, vector in zip(SKUS, expected, strict=True):
        np.testing.assert_allclose(by_sku[sku], vector, atol=1e-6)


@pytest.fixture
def tiny_onnx(tmp_path):
    """A one-node ONNX graph (y = x + x): enough for ONNX Runtime to make a session from."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])
    graph = helper.make_graph([helper.make_node("Add", ["x", "x"], ["y"])], "tiny", [x], [y])
    path = tmp_path / "tiny.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def test_sessions_stay_within_the_thread_budget(tiny_onnx, monkeypatch):
    monkeypatch.setattr(backend.os, "sched_getaffinity", lambda _pid: {0, 1, 2, 3})  # a 4-core node
    try:
        assert backend.cpu_session(tiny_onnx).get_session_options().intra_op_num_threads == 4
        backend.set_thread_budget(1)  # what a Ray actor sharing the node with three others is given
        assert backend.cpu_threads() == 1
        assert backend.cpu_session(tiny_onnx).get_session_options().intra_op_num_threads == 1
        assert backend.cpu_session(tiny_onnx, threads=2).get_session_options().intra_op_num_threads == 1
    finally:
        backend.set_thread_budget(None)
    assert backend.cpu_threads() == 4


def test_a_thread_budget_is_at_least_one():
    with pytest.raises(ValueError, match="at least 1"):
        backend.set_thread_budget(0)
