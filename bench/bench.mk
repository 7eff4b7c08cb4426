# `make bench`: upstream /usr/bin/ostree vs ours on the same generated tree (see bench/run.ts).
# BENCH_SCALE=0.1 for a quick run; BENCH_TREE=/usr for a real tree; BENCH_RUNS, BENCH_OPS, BENCH_DIR.
.PHONY: bench bench-quick

bench: build
	$(NODE) dist/bench/run.js
	$(NODE) dist/bench/pull.js

bench-quick: build
	BENCH_SCALE=$${BENCH_SCALE:-0.05} $(NODE) dist/bench/run.js

# Pulls from nginx on 127.0.0.1, ours vs upstream (bench/pull.ts): full, 1% update, static delta.
.PHONY: bench-pull
bench-pull: build
	$(NODE) dist/bench/pull.js
