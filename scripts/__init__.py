"""The checkout's tools; `python -m scripts.demo` runs the demo (`make demo`)."""
