.PHONY: bootstrap demo test test-fast bench calibrate lint inbox

bootstrap:
	@scripts/bootstrap

demo: bootstrap
	.venv/bin/rekey demo

test: bootstrap
	.venv/bin/pytest

test-fast: bootstrap
	.venv/bin/pytest -m "not slow"

bench:
	@scripts/bootstrap --bench
	.venv/bin/python -m benchmarks

calibrate:
	@scripts/bootstrap --bench
	.venv/bin/python -m benchmarks.calibrate

lint: bootstrap
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

inbox: bootstrap
	.venv/bin/python -m samples.corpus inbox --out samples/inbox
