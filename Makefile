# bnconv: the two commands a newcomer needs are `make demo` and `make test`.
# `make docs` builds the DocC catalog (Sources/BNConv/BNConv.docc).
SWIFT ?= swift
VENV ?= $(HOME)/.cache/bnconv/venv
PY := $(VENV)/bin/python
EXAMPLE ?= Tests/Fixtures/keras/mini_resnet/keras2.h5
DEMO_OUT ?= $(or $(TMPDIR),/tmp)/bnconv-demo

DOCS_SCRATCH ?= .build-docs

.PHONY: deps build release test docs demo fixtures venv interop bench fuzz gen-protos check-protos clean

deps:            ## install missing Debian packages (idempotent)
	@tools/deps

# A target importing a module it does not depend on is an error even when that module is already
# built (docs/architecture.md).
IMPORT_CHECK := --explicit-target-dependency-import-check error

build: deps
	$(SWIFT) build $(IMPORT_CHECK)

release: deps    ## the self-contained release binary .build/release/bnconv (tools/release)
	SWIFT=$(SWIFT) tools/release

test: deps       ## build and run every test
	tools/gen-protos --check
	$(SWIFT) build --build-tests $(IMPORT_CHECK)
	$(SWIFT) test --skip-build

docs: deps       ## build the DocC catalog (Sources/BNConv/BNConv.docc) over every layer BNConv re-exports (tools/docs); any DocC warning fails
	SWIFT=$(SWIFT) DOCS_SCRATCH=$(DOCS_SCRATCH) tools/docs

demo: release    ## inspect, fold and verify the example model shipped in the repo
	@mkdir -p $(DEMO_OUT)
	.build/release/bnconv inspect $(EXAMPLE)
	@echo
	.build/release/bnconv fold $(EXAMPLE) -o $(DEMO_OUT)/mini_resnet.folded.h5
	@echo
	.build/release/bnconv verify $(EXAMPLE) $(DEMO_OUT)/mini_resnet.folded.h5

venv: $(VENV)/.ok
$(VENV)/.ok: tools/fixtures/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q -r tools/fixtures/requirements.txt
	touch $@

fixtures: venv   ## regenerate Tests/Fixtures with real Keras/TensorFlow/onnx (needs the venv, ~2.3 GB)
	$(PY) tools/fixtures/make_fixtures.py --out Tests/Fixtures
	$(PY) tools/fixtures/make_onnx_fixtures.py --out Tests/Fixtures/onnx

interop: venv release  ## load bnconv's outputs in the real frameworks and compare; run the onnx node tests
	$(PY) tools/interop/run_interop.py --bnconv .build/release/bnconv --fixtures Tests/Fixtures
	VENV=$(VENV) tools/conformance/fetch_onnx_node_tests
	$(PY) tools/conformance/onnx_node_tests.py --bnconv .build/release/bnconv --quiet
	VENV=$(VENV) tools/interop/fetch_real_models
	$(PY) tools/interop/real_models.py --bnconv .build/release/bnconv
	$(PY) tools/interop/efficientnet.py --bnconv .build/release/bnconv
	$(PY) tools/interop/mobilenetv3.py --bnconv .build/release/bnconv
	$(PY) tools/interop/tf_checkpoints.py --bnconv .build/release/bnconv

bench: venv release    ## side-by-side timings against the real frameworks (not a test)
	tools/bench/run .build/release/bnconv $(PY)

fuzz: deps       ## libFuzzer + ASan on the readers, FUZZ_SECONDS (60) per target; not part of `make test` (docs/robustness.md)
	tools/fuzz

gen-protos:
	tools/gen-protos

check-protos:
	tools/gen-protos --check

clean:
	rm -rf .build
