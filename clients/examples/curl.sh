# Calling the API with curl and buf curl (CHAINLOOP_SERVER, e.g. http://127.0.0.1:8080, and CHAINLOOP_TOKEN set).
# Connect JSON over POST: any method.
curl -sS -H 'Content-Type: application/json' -H "Authorization: Bearer $CHAINLOOP_TOKEN" \
  -d '{"name":"curl-east","description":"from curl"}' \
  "$CHAINLOOP_SERVER/chainloop.v1.EnvironmentService/CreateEnvironment"
# Connect GET: the side-effect-free methods (Get*, List*, DescribeArtifact, DiffDeployments); the request is the message parameter.
curl -sS -H "Authorization: Bearer $CHAINLOOP_TOKEN" \
  "$CHAINLOOP_SERVER/chainloop.v1.EnvironmentService/ListEnvironments?connect=v1&encoding=json&message=%7B%22query%22%3A%22curl%22%7D"
# gRPC without .proto files: buf curl asks the server through reflection (which needs no token).
buf curl --http2-prior-knowledge --list-services "$CHAINLOOP_SERVER"
buf curl --http2-prior-knowledge --protocol grpc -H "Authorization: Bearer $CHAINLOOP_TOKEN" \
  -d '{"query":"curl"}' "$CHAINLOOP_SERVER/chainloop.v1.EnvironmentService/ListEnvironments"
