"""Night-to-night trend: a history store of finished runs/suites and the `gameday trend` page."""
