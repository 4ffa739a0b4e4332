"""The base layer: what every package may import; it imports nothing of ours above it."""
