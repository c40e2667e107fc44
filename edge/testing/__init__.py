"""Helpers for the demo, the benchmark and the tests (a private MQTT broker); the daemon
never imports them."""
