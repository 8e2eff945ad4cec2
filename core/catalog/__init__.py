"""The catalogue: items and images in the store, how they get in, interaction logs, table history."""
