# `make bench`: upstream /usr/bin/ostree vs ours on the same generated tree (see bench/run.ts).
# BENCH_SCALE=0.1 for a quick run; BENCH_TREE=/usr for a real tree; BENCH_RUNS, BENCH_OPS, BENCH_DIR.
# `make bench-layering` (part of `make bench`): apt-ostree install tcpdump on a 30k-file base (bench/layering.ts).
.PHONY: bench bench-quick bench-layering

bench: build
	$(NODE) dist/bench/run.js
	$(NODE) dist/bench/layering.js

bench-layering: build
	$(NODE) dist/bench/layering.js

bench-quick: build
	BENCH_SCALE=$${BENCH_SCALE:-0.05} $(NODE) dist/bench/run.js
