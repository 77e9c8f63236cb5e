#!/usr/bin/env bash
# Regenerates the Python stubs of the API (chainloop/v1/*_pb2.py, *_pb2.pyi, *_pb2_grpc.py, in
# protoc's standard layout) from proto/chainloop/v1 with the system protoc and grpc_python_plugin
# (Debian: protobuf-compiler, protobuf-compiler-grpc). `npm run generate` runs it; CI fails when
# it changes anything (the generated files are committed, never edited by hand).
# grpc/health is not generated: it would shadow grpcio's own `grpc` package; the standard
# grpcio-health-checking package speaks to the server's health service.
set -euo pipefail
cd "$(dirname "$0")"
for tool in protoc grpc_python_plugin; do
  if ! command -v "$tool" >/dev/null; then
    echo "clients/python/generate.sh needs $tool: apt-get install protobuf-compiler protobuf-compiler-grpc" >&2
    exit 1
  fi
done
rm -f chainloop/v1/*_pb2.py chainloop/v1/*_pb2.pyi chainloop/v1/*_pb2_grpc.py
protoc -I ../../proto \
  --python_out=. --pyi_out=. --grpc_python_out=. \
  --plugin=protoc-gen-grpc_python="$(command -v grpc_python_plugin)" \
  ../../proto/chainloop/v1/*.proto
