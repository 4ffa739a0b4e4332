"""The run folder (docs/run-folder.md): one typed record, one writer and one reader per file.

Each file of the contract has exactly one module here, and only that module names the
file (tests/unit/test_runfolder_owners.py checks it):

| file | module | writer | reader |
|---|---|---|---|
| `run.json` | `run` | `write_run` | `read_run` |
| `events.jsonl` | `events` | `record_event`, `append_event`, `EventLog`, `copy_events` | `read_events`, `tail` |
| `probes.jsonl` | `probes` | `ProbeWriter` | `read_probes`, `tail` |
| `ledger.jsonl` | `ledger` | `LedgerWriter` | `read_ledger`, `acknowledged`, `last_seq`, `tail` |
| `requests/*.jsonl` | `requests` | `RequestsWriter` | `read_requests` |
| `readback.json` | `readback` | `write_readback` | `read_readback` |

`jsonl` holds the byte-level rules they share (one write per line, whole documents by
rename; NaN, infinities, bad bytes and deep nesting refused with file and line). The
histogram codec of `requests/` is `bedrock.histograms`.
"""
