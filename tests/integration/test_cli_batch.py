"""`vitrine describe --batch` end to end: submit, return, re-run to collect (real SDK, fake server)."""

from core.catalog.ingest import ingest
from core.cli.main import main
from core.lab import open_lab
from core.nets.encoders import HashEncoder
from core.testing.fake_lvlm import FakeLVLMServer
from tests.fakes import png_bytes


def test_batch_submit_then_collect_without_resending(tmp_path, capsys):
    ws = tmp_path / "ws"
    lab = open_lab(ws, encoder=HashEncoder())
    ingest(lab.store, lab.images, [], uploads=[(f"P{i}.png", png_bytes("red") + bytes([i])) for i in range(5)])
    args = ["describe", "--batch", "--provider", "openai", "--model", "gpt-4o-mini", "--api-key", "k",
            "--workspace", str(ws), "--no-wait"]
    with FakeLVLMServer() as srv:
        assert main([*args, "--base-url", srv.base_url_openai]) == 0
        first = capsys.readouterr().out
        assert "estimated cost per 1,000 SKUs" in first and "still processing" in first
        assert main([*args, "--base-url", srv.base_url_openai]) == 0
        second = capsys.readouterr().out
    assert "5 descriptions ingested (0 failed)" in second and "0 new requests" in second
    assert len(lab.store.descriptions()) == 5
