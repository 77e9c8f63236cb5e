from chainloop.v1 import attestation_pb2 as _attestation_pb2
from chainloop.v1 import deployment_pb2 as _deployment_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DescribeArtifactRequest(_message.Message):
    __slots__ = ["digest"]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    digest: str
    def __init__(self, digest: _Optional[str] = ...) -> None: ...

class DescribeArtifactResponse(_message.Message):
    __slots__ = ["deployments", "digest", "evidence", "more_deployments", "more_evidence"]
    DEPLOYMENTS_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    MORE_DEPLOYMENTS_FIELD_NUMBER: _ClassVar[int]
    MORE_EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    deployments: _containers.RepeatedCompositeFieldContainer[_deployment_pb2.Deployment]
    digest: str
    evidence: _containers.RepeatedCompositeFieldContainer[_attestation_pb2.Evidence]
    more_deployments: bool
    more_evidence: bool
    def __init__(self, digest: _Optional[str] = ..., evidence: _Optional[_Iterable[_Union[_attestation_pb2.Evidence, _Mapping]]] = ..., more_evidence: bool = ..., deployments: _Optional[_Iterable[_Union[_deployment_pb2.Deployment, _Mapping]]] = ..., more_deployments: bool = ...) -> None: ...
