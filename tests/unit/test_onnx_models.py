"""Writing a derived model file: never half a file under the real name, whoever writes at the same time."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from core.nets.backend import cache_dir, cached_path, write_atomically


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
