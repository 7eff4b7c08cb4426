# Entry points for people and CI. `make test` is the README's test command.
SHELL := /bin/bash
NODE ?= node
TEST_FLAGS ?= --test-reporter=spec

# Debian packages the project needs at build, test and image time (the oracle `ostree`
# included: it runs only in tests and benchmarks, never inside the product).
APT_PACKAGES := ostree qemu-system-x86 qemu-utils grub-pc-bin grub2-common debootstrap \
	busybox-static cpio fdisk e2fsprogs attr kmod zstd xz-utils time \
	ostree-tests gnupg libarchive13 liblzma5 \
	ovmf mtools dosfstools sbsigntool efitools openssl grub-common \
	virtinst libvirt-daemon libvirt-clients
# systemd-boot backend: bootctl for its unit tests, and systemd-boot-efi (pulled in) for the sd
# VM scenarios' guest install
APT_PACKAGES += systemd-boot
# Ignition scenarios: ignition-validate (Debian's Ignition 2.14) checks the configs, ssh/ssh-keygen log in as core
APT_PACKAGES += ignition openssh-client
# the update agent's tests and fleet simulation: the FleetLock server's etcd, nginx serving graph and repo
APT_PACKAGES += etcd-server etcd-client
# Butane translator tests: ignition-validate (Debian's Ignition 2.14 checks our output)
APT_PACKAGES += ignition
# apt-ostree (package layering): bwrap for the maintainer-script sandbox; dpkg-scanpackages
# (dpkg-dev) for the tests' local apt repositories
APT_PACKAGES += bubblewrap dpkg-dev
# pull tests and the pull bench: a real web server on 127.0.0.1 (test/common/nginx.ts)
APT_PACKAGES += nginx

.PHONY: all deps deps-apt deps-npm build lint test test-unit test-interop test-upstream vm-test vm-demo bench clean

all: build

deps: deps-apt deps-npm

# Packages such as nginx and etcd-server start their service on install, listening on every
# interface: a policy-rc.d that refuses (exit 101) keeps them stopped while apt runs (the tests
# start their own instances on 127.0.0.1).  An existing policy-rc.d is left as it is.
deps-apt:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:" $$missing; \
		policy=""; \
		if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && policy=ours; fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; status=$$?; \
		if [ "$$policy" = ours ]; then rm -f /usr/sbin/policy-rc.d; fi; \
		exit $$status; \
	fi

deps-npm: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

# tsc, then the bundled launcher of bin/ostree and its start-up snapshot (tools/build-cli.mjs)
build: deps-npm
	npx tsc -p tsconfig.json
	$(NODE) tools/build-cli.mjs

# No import cycle in src/ (type-only imports count; .dependency-cruiser.cjs) and a clean type
# check; both always run, and either failing fails the target.
lint: deps-npm
	@status=0; \
	npx depcruise --config .dependency-cruiser.cjs src || status=1; \
	npx tsc -p tsconfig.json --noEmit || status=1; \
	exit $$status

# Everything: unit tests, interop tests against upstream ostree, upstream's own test scripts, and
# the VM scenarios.
test: build lint test-unit test-interop test-upstream vm-test

test-unit: build
	$(NODE) --test $(TEST_FLAGS) $$(find dist/test -name '*.test.js' -not -path '*/interop/*' | sort)

test-interop: build
	$(NODE) --test $(TEST_FLAGS) $$(find dist/test/interop -name '*.test.js' 2>/dev/null | sort)

# Upstream's test scripts (package ostree-tests) run with upstream's CLI, then with ours as `ostree`;
# one line per script and a summary (test/upstream/run-suite.sh). Fails on a regression of a
# script listed in test/upstream/passing.txt. UPSTREAM_SCRIPTS=test-refs.sh,... runs only those.
UPSTREAM_JOBS ?= 3
comma := ,
test-upstream: build
	bash test/upstream/run-suite.sh -j $(UPSTREAM_JOBS) $(subst $(comma), ,$(UPSTREAM_SCRIPTS))

# What the build, the VM harness, the upstream suite and the benchmarks made: dist/, test-results/, the harness's work directory
# (disk images, sysroots whose deployments carry the immutable bit), the benchmark's output in
# $(BENCH_DIR) (its generated input tree is kept, like the downloads). Needs root when there are
# deployments (chattr -i). The downloads stay: `make distclean` removes those too.
BENCH_DIR ?= /var/tmp/ostree-ts-bench
.PHONY: distclean
clean:
	@bash vm-harness/clean.sh dist test-results "$(VM_WORK_DIR)" \
		$$(find "$(BENCH_DIR)" -mindepth 1 -maxdepth 1 ! -name 'tree-s*' 2>/dev/null)

# Also the downloads: the VM caches (debootstrap tarball, kernel .deb, dracut initramfs), the
# benchmark's generated tree, and node_modules (`make deps` brings them back). A node_modules
# that is a symlink (a shared checkout's) is left alone.
distclean: clean
	@bash vm-harness/clean.sh "$(VM_CACHE_DIR)" "$(BENCH_DIR)"
	@if [ -L node_modules ]; then echo "distclean: node_modules is a symlink to $$(readlink node_modules): left alone"; \
	else bash vm-harness/clean.sh node_modules; fi

-include vm-harness/vm.mk
-include bench/bench.mk

# The update agent's fleet simulation (docs/agent.md): SIM_NODES agents in SIM_PROCS processes
# against one nginx and one etcd on a simulated clock; table on stdout, fleet.svg in SIM_OUT.
SIM_NODES ?= 1000
SIM_PROCS ?= 4
SIM_OUT ?= /var/tmp/ostree-agent-sim
.PHONY: fleet-sim
fleet-sim: build
	$(NODE) dist/bench/agent-sim/main.js --nodes $(SIM_NODES) --procs $(SIM_PROCS) --out $(SIM_OUT)
