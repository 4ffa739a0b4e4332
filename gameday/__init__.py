"""gameday: a resilience suite that loads an HA stack, breaks it and measures its SLOs."""

from bedrock.version import __version__

__all__ = ["__version__"]
