"""The tests' own plumbing (`no_tensorflow`, the --forbid-tensorflow plugin) and the tests of
what the tests share with the demo and the benchmarks, which lives in `benchmarks/support/`."""
