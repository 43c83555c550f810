# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TINY   := models/tiny-llama

LLAMA  := $(VENV)/.llama-cpp

.PHONY: venv demo test test-fast fuzz lint bench bench-peers clean llama-cpp

venv: $(STAMP)

# torch is installed first, pinned, so that nothing later pulls a CUDA build.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[train,eval,dev,provider,trackers,export]'
	touch $(STAMP)

# llama.cpp for the GGUF checks: built from source once per machine (pip caches the
# wheel, so a new venv installs it in seconds). Best effort: where it cannot build,
# the tests that need it skip with the reason. FTC_SKIP_LLAMA_CPP=1 skips the attempt.
llama-cpp: $(LLAMA)

$(LLAMA): $(STAMP)
	@if [ -n "$$FTC_SKIP_LLAMA_CPP" ]; then echo "llama-cpp-python: skipped (FTC_SKIP_LLAMA_CPP)"; \
	elif CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) CMAKE_ARGS="-DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF" \
	     $(BIN)/pip install --quiet -e '.[llama]' > $(VENV)/llama-cpp-build.log 2>&1; then \
	  echo "llama-cpp-python: installed"; \
	else echo "llama-cpp-python did not build (see $(VENV)/llama-cpp-build.log); its tests" \
	  "skip. To retry: rm $(LLAMA) && make llama-cpp"; fi
	@touch $(LLAMA)

$(TINY)/config.json: $(STAMP)
	$(BIN)/ftc init-tiny-model $(TINY)

demo: $(STAMP) $(TINY)/config.json
	$(BIN)/ftc run recipes/quickstart.yaml

test: $(STAMP) $(LLAMA)
	$(BIN)/python -m pytest -q -ra

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow and not distributed"

# The property tests at full size: 10,000 hostile recipes and 10,000 data sets
# (make test runs them with 200 examples each; the seed is fixed either way).
fuzz: $(STAMP)
	FTC_FUZZ_EXAMPLES=10000 $(BIN)/python -m pytest -q -m fuzz -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check ftc tests benchmarks
	$(BIN)/ftc lint recipes/*.yaml

bench: $(STAMP)
	$(BIN)/python -m benchmarks

# Peers measured, not quoted: axolotl in its own venv (CPU torch pinned first, so
# nothing pulls a CUDA build), then the compiler benchmark times its config
# validation beside `ftc lint` (without this venv the peer column says "not measured").
PEERS       := .venv-peers
PEERS_STAMP := $(PEERS)/.installed

$(PEERS_STAMP):
	$(PYTHON) -m venv $(PEERS)
	$(PEERS)/bin/pip install --quiet --upgrade pip
	$(PEERS)/bin/pip install --quiet torch==2.13.0
	$(PEERS)/bin/pip install --quiet axolotl==0.19.0
	touch $(PEERS_STAMP)

bench-peers: $(STAMP) $(PEERS_STAMP)
	$(BIN)/python -m benchmarks compiler

clean:
	rm -rf build runs .pytest_cache $(PEERS)
