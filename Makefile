.PHONY: bootstrap demo test bench lint inbox

bootstrap:
	@scripts/bootstrap

demo: bootstrap
	.venv/bin/rekey demo

test: bootstrap
	.venv/bin/pytest

bench:
	@scripts/bootstrap --bench
	.venv/bin/python -m benchmarks

lint: bootstrap
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

inbox: bootstrap
	.venv/bin/python -m samples.corpus inbox --out samples/inbox
