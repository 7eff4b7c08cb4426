# `make bench`: upstream /usr/bin/ostree vs ours, every operation on every tree shape (small,
# mixed, real) on tmpfs and on a loop-mounted ext4; see bench/run.ts for the variables.
# `make bench-quick`: the same at BENCH_SCALE=0.05 (a few minutes).
# `make bench-layering` (part of `make bench`): apt-ostree install tcpdump on a 30k-file base (bench/layering.ts).
.PHONY: bench bench-quick bench-layering

bench: build
	$(NODE) dist/bench/run.js
	$(NODE) dist/bench/layering.js
	$(NODE) dist/bench/pull.js

bench-layering: build
	$(NODE) dist/bench/layering.js

bench-quick: build
	BENCH_SCALE=$${BENCH_SCALE:-0.05} $(NODE) dist/bench/run.js

# Pulls from nginx on 127.0.0.1, ours vs upstream (bench/pull.ts): full, 1% update, static delta.
.PHONY: bench-pull
bench-pull: build
	$(NODE) dist/bench/pull.js
