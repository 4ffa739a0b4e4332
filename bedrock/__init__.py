"""The base layer (layer 0): the error tree, the hardened input loader, safe names, the daemon
base, the Prometheus client, the version, the histogram codec and the run folder's records
(`runfolder/`: one writer and one reader per file, the event kinds).

Everything may import it; it imports nothing of ours above it.
"""
