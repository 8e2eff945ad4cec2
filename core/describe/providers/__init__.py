"""The built-in describer providers: offline tagger, OpenAI-compatible, Anthropic."""
