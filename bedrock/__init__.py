"""The base layer (layer 0): the error tree, the hardened input loader, safe names, the daemon base.

Everything may import it; it imports nothing of ours above it.
"""
