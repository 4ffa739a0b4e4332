"""gameday: a resilience suite that loads an HA stack, breaks it and measures its SLOs."""

__version__ = "0.1.0"
