"""Describing images: the Describer protocol, provider registry, prompts, prices, keys and describe runs."""
