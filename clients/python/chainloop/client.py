"""Connecting to the deployment-tracking server over gRPC with an API token.

    from chainloop.client import Client, connect

    with connect("127.0.0.1:8080", token) as channel:
        api = Client(channel)
        api.environments.ListEnvironments(environment_pb2.ListEnvironmentsRequest())

Every call carries ``authorization: Bearer <token>``. ``secure=False`` (the default) speaks
cleartext HTTP/2 (h2c), as the server does on its own port; put TLS in front of it and pass
``secure=True`` (optionally with ``credentials``) to connect through it.
"""

from __future__ import annotations

import collections
from typing import Any, Callable, Optional

import grpc

from chainloop.v1 import (
    api_token_pb2_grpc,
    artifact_pb2_grpc,
    attestation_pb2_grpc,
    delivery_metrics_pb2_grpc,
    deployment_pb2_grpc,
    environment_pb2_grpc,
    key_pb2_grpc,
    policy_pb2_grpc,
    server_info_pb2_grpc,
    webhook_pb2_grpc,
)

__all__ = ["Client", "connect"]


class _CallDetails(
    collections.namedtuple("_CallDetails", ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression")),
    grpc.ClientCallDetails,
):
    pass


class _BearerToken(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    """Adds the API token to every call's metadata (it never appears anywhere else)."""

    def __init__(self, token: str) -> None:
        self._header = ("authorization", f"Bearer {token}")

    def _details(self, details: grpc.ClientCallDetails) -> grpc.ClientCallDetails:
        metadata = [m for m in (details.metadata or []) if m[0] != "authorization"] + [self._header]
        return _CallDetails(
            details.method,
            details.timeout,
            metadata,
            details.credentials,
            getattr(details, "wait_for_ready", None),
            getattr(details, "compression", None),
        )

    def intercept_unary_unary(self, continuation: Callable[..., Any], details: grpc.ClientCallDetails, request: Any) -> Any:
        return continuation(self._details(details), request)

    def intercept_unary_stream(self, continuation: Callable[..., Any], details: grpc.ClientCallDetails, request: Any) -> Any:
        return continuation(self._details(details), request)

    def intercept_stream_unary(self, continuation: Callable[..., Any], details: grpc.ClientCallDetails, requests: Any) -> Any:
        return continuation(self._details(details), requests)

    def intercept_stream_stream(self, continuation: Callable[..., Any], details: grpc.ClientCallDetails, requests: Any) -> Any:
        return continuation(self._details(details), requests)


def connect(
    target: str,
    token: Optional[str] = None,
    secure: bool = False,
    credentials: Optional[grpc.ChannelCredentials] = None,
) -> grpc.Channel:
    """A channel to ``target`` ("host:port") whose calls carry ``token``; close it (or use it as a context manager) when done."""
    if secure:
        channel = grpc.secure_channel(target, credentials or grpc.ssl_channel_credentials())
    else:
        channel = grpc.insecure_channel(target)
    if token:
        channel = grpc.intercept_channel(channel, _BearerToken(token))
    return channel


class Client:
    """A typed stub for each service, over one channel."""

    def __init__(self, channel: grpc.Channel) -> None:
        self.environments = environment_pb2_grpc.EnvironmentServiceStub(channel)
        self.deployments = deployment_pb2_grpc.DeploymentServiceStub(channel)
        self.delivery_metrics = delivery_metrics_pb2_grpc.DeliveryMetricsServiceStub(channel)
        self.attestations = attestation_pb2_grpc.AttestationServiceStub(channel)
        self.keys = key_pb2_grpc.KeyServiceStub(channel)
        self.artifacts = artifact_pb2_grpc.ArtifactServiceStub(channel)
        self.api_tokens = api_token_pb2_grpc.ApiTokenServiceStub(channel)
        self.server_info = server_info_pb2_grpc.ServerInfoServiceStub(channel)
        self.promotion_policies = policy_pb2_grpc.PromotionPolicyServiceStub(channel)
        self.webhooks = webhook_pb2_grpc.WebhookServiceStub(channel)
