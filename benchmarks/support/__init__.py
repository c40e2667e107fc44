"""What the benchmarks, the demo and the tests share, left out of the installed package:
a private MQTT broker (`broker`), a client that records what it receives (`watcher`),
headless Chromium (`chromium`) and made-up results (`results`). The daemon never imports
them; `scripts/demo.py`, `benchmarks/` and `tests/` import them from the checkout."""
