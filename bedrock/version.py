"""The suite's version: recorded in every run.json (`versions.gameday`) and every results.json."""

__version__ = "0.1.0"
