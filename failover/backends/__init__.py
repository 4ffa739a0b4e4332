"""Backends behind the controller's four interfaces (see base.py)."""
