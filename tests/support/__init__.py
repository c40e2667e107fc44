"""What the tests, the demo and the benchmarks share and the installed package leaves out: a
private MQTT broker (`broker`) and a client that records what it receives (`watcher`). The
daemon never imports them; `scripts/demo.py` and `benchmarks/` import them from the checkout."""
