"""What the benchmarks, the demo and the tests share, left out of the installed package:
a private MQTT broker (`broker`), a client that records what it receives (`watcher`),
headless Chromium (`chromium`) and made-up results (`results`). The daemon never imports
them; the demo (`python -m scripts.demo`), `benchmarks/` and `tests/` import them from
the checkout."""
