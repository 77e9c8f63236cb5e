"""Generated from proto/chainloop/v1 (clients/python/generate.sh); the *_pb2 modules are never edited by hand."""
