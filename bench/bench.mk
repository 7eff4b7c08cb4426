# `make bench`: upstream /usr/bin/ostree vs ours, every operation on every tree shape (small,
# mixed, real) on tmpfs and on a loop-mounted ext4; see bench/run.ts for the variables.
# `make bench-quick`: the same at BENCH_SCALE=0.05 (a few minutes).
.PHONY: bench bench-quick

bench: build
	$(NODE) dist/bench/run.js

bench-quick: build
	BENCH_SCALE=$${BENCH_SCALE:-0.05} $(NODE) dist/bench/run.js
