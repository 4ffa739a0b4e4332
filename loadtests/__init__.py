"""Load generation for gameday: Locust scenarios, the open-model mode, the write ledger, probes.

Layout:
- `stages`     pure data: the seed's scenarios, the profiles that scale them, the rate curves;
- `openmodel`  pure arrival-rate scheduler (which requests are due, which are late);
- `recorder`   per-second, per-endpoint HdrHistograms written to `requests/<writer-id>.jsonl`;
- `histograms` reading and merging those files (percentiles, counts);
- `users`      the Locust users (imports locust: only ever imported inside a Locust process);
- `scenarios/` one locustfile per scenario, runnable with plain `locust -f`;
- `runner`     start/stop a Locust run in its own process (the orchestration's entry point);
- `probes`     the entry-point prober (its own process, httpx);
- `safety`     target-host allowlist and run bounds.

Nothing here imports locust at package import time (gevent monkey-patching trap, DESIGN.md).
"""
