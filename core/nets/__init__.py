"""The bundled networks (MiniLM, EfficientNet-Lite0), each on ONNX Runtime with a PyTorch fallback."""
