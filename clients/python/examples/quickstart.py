# Quick start from Python: an environment, evidence for two versions, a record, the running set,
# and a change seen through a watch while it happens.
#   CHAINLOOP_TARGET=127.0.0.1:8080 CHAINLOOP_TOKEN=clp_… python examples/quickstart.py
import hashlib
import json
import os
import threading

from chainloop.client import Client, connect
from chainloop.v1 import attestation_pb2, deployment_pb2, environment_pb2

with connect(os.environ.get("CHAINLOOP_TARGET", "127.0.0.1:8080"), os.environ["CHAINLOOP_TOKEN"]) as channel:
    api = Client(channel)
    api.environments.CreateEnvironment(environment_pb2.CreateEnvironmentRequest(name="py-east", description="from Python"))

    # A digest must be attested before it can be recorded as deployed.
    v1, v2 = ("sha256:" + hashlib.sha256(f"api-server {v}".encode()).hexdigest() for v in ("v1", "v2"))
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "api-server", "digest": {"sha256": d.removeprefix("sha256:")}} for d in (v1, v2)],
        "predicateType": "https://chainloop.dev/attestation/minimal/v1",
        "predicate": {},
    }
    api.attestations.PushAttestation(
        attestation_pb2.PushAttestationRequest(content=json.dumps(statement).encode(), workflow="build", project="api-server")
    )

    def record(digest):
        return api.deployments.RecordDeployment(
            deployment_pb2.RecordDeploymentRequest(
                environment="py-east",
                logical_environment="production",
                deployment_name="api-server",
                kind=deployment_pb2.ARTIFACT_KIND_CONTAINER_IMAGE,
                digest=digest,
            )
        )

    print(json.dumps({"recorded": deployment_pb2.RecordOutcome.Name(record(v1).outcome)}))
    page = api.deployments.ListDeployments(deployment_pb2.ListDeploymentsRequest(environment="py-east"))
    print(json.dumps({"running": [[d.deployment_name, d.digest] for d in page.deployments]}))

    # The running set first, then every change as it commits: record v2 once the snapshot is in.
    events = api.deployments.WatchDeployments(deployment_pb2.WatchDeploymentsRequest(environment="py-east"), timeout=30)
    for event in events:
        if event.type == deployment_pb2.WATCH_EVENT_TYPE_SNAPSHOT_END:
            threading.Thread(target=record, args=(v2,)).start()
        elif event.type == deployment_pb2.WATCH_EVENT_TYPE_CREATED:
            print(json.dumps({"watched": deployment_pb2.WatchEventType.Name(event.type), "digest": event.deployment.digest}))
            events.cancel()
            break
