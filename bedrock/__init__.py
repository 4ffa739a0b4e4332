"""Layer 0: the error tree, the hardened input loader, safe names. Imports nothing of ours."""
