"""Helpers for the demo, the benchmarks and the tests (a private MQTT broker, a client that
records what it receives); the daemon never imports them."""
