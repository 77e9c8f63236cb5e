from chainloop.v1 import api_token_pb2 as _api_token_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

ARTIFACT_ROLE_MATERIAL: ArtifactRole
ARTIFACT_ROLE_SUBJECT: ArtifactRole
ARTIFACT_ROLE_UNSPECIFIED: ArtifactRole
ATTESTATION_FORMAT_DSSE_ENVELOPE: AttestationFormat
ATTESTATION_FORMAT_IN_TOTO_STATEMENT: AttestationFormat
ATTESTATION_FORMAT_UNSPECIFIED: AttestationFormat
DESCRIPTOR: _descriptor.FileDescriptor

class Attestation(_message.Message):
    __slots__ = ["create_time", "format", "id", "material_count", "predicate_type", "project", "project_version", "pushed_by", "size_bytes", "statement_type", "subjects", "verified", "verified_key_fingerprint", "verified_key_name", "workflow"]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    MATERIAL_COUNT_FIELD_NUMBER: _ClassVar[int]
    PREDICATE_TYPE_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    PROJECT_VERSION_FIELD_NUMBER: _ClassVar[int]
    PUSHED_BY_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    STATEMENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SUBJECTS_FIELD_NUMBER: _ClassVar[int]
    VERIFIED_FIELD_NUMBER: _ClassVar[int]
    VERIFIED_KEY_FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    VERIFIED_KEY_NAME_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_FIELD_NUMBER: _ClassVar[int]
    create_time: _timestamp_pb2.Timestamp
    format: AttestationFormat
    id: str
    material_count: int
    predicate_type: str
    project: str
    project_version: str
    pushed_by: _api_token_pb2.Actor
    size_bytes: int
    statement_type: str
    subjects: _containers.RepeatedCompositeFieldContainer[AttestedArtifact]
    verified: bool
    verified_key_fingerprint: str
    verified_key_name: str
    workflow: str
    def __init__(self, id: _Optional[str] = ..., workflow: _Optional[str] = ..., project: _Optional[str] = ..., project_version: _Optional[str] = ..., format: _Optional[_Union[AttestationFormat, str]] = ..., statement_type: _Optional[str] = ..., predicate_type: _Optional[str] = ..., verified: bool = ..., verified_key_fingerprint: _Optional[str] = ..., verified_key_name: _Optional[str] = ..., subjects: _Optional[_Iterable[_Union[AttestedArtifact, _Mapping]]] = ..., material_count: _Optional[int] = ..., size_bytes: _Optional[int] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., pushed_by: _Optional[_Union[_api_token_pb2.Actor, _Mapping]] = ...) -> None: ...

class AttestedArtifact(_message.Message):
    __slots__ = ["digest", "name", "role"]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    digest: str
    name: str
    role: ArtifactRole
    def __init__(self, digest: _Optional[str] = ..., name: _Optional[str] = ..., role: _Optional[_Union[ArtifactRole, str]] = ...) -> None: ...

class Evidence(_message.Message):
    __slots__ = ["attestation_id", "create_time", "name", "predicate_type", "project", "project_version", "role", "verified", "workflow"]
    ATTESTATION_ID_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PREDICATE_TYPE_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    PROJECT_VERSION_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    VERIFIED_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_FIELD_NUMBER: _ClassVar[int]
    attestation_id: str
    create_time: _timestamp_pb2.Timestamp
    name: str
    predicate_type: str
    project: str
    project_version: str
    role: ArtifactRole
    verified: bool
    workflow: str
    def __init__(self, attestation_id: _Optional[str] = ..., role: _Optional[_Union[ArtifactRole, str]] = ..., name: _Optional[str] = ..., workflow: _Optional[str] = ..., project: _Optional[str] = ..., project_version: _Optional[str] = ..., predicate_type: _Optional[str] = ..., verified: bool = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetAttestationRequest(_message.Message):
    __slots__ = ["id"]
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetAttestationResponse(_message.Message):
    __slots__ = ["attestation", "content"]
    ATTESTATION_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    attestation: Attestation
    content: bytes
    def __init__(self, attestation: _Optional[_Union[Attestation, _Mapping]] = ..., content: _Optional[bytes] = ...) -> None: ...

class ListAttestationsRequest(_message.Message):
    __slots__ = ["digest", "page_size", "page_token", "project", "project_version", "workflow"]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    PROJECT_VERSION_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_FIELD_NUMBER: _ClassVar[int]
    digest: str
    page_size: int
    page_token: str
    project: str
    project_version: str
    workflow: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., digest: _Optional[str] = ..., workflow: _Optional[str] = ..., project: _Optional[str] = ..., project_version: _Optional[str] = ...) -> None: ...

class ListAttestationsResponse(_message.Message):
    __slots__ = ["attestations", "next_page_token"]
    ATTESTATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    attestations: _containers.RepeatedCompositeFieldContainer[Attestation]
    next_page_token: str
    def __init__(self, attestations: _Optional[_Iterable[_Union[Attestation, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class PushAttestationRequest(_message.Message):
    __slots__ = ["content", "project", "project_version", "workflow"]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    PROJECT_VERSION_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_FIELD_NUMBER: _ClassVar[int]
    content: bytes
    project: str
    project_version: str
    workflow: str
    def __init__(self, content: _Optional[bytes] = ..., workflow: _Optional[str] = ..., project: _Optional[str] = ..., project_version: _Optional[str] = ...) -> None: ...

class PushAttestationResponse(_message.Message):
    __slots__ = ["attestation", "created"]
    ATTESTATION_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    attestation: Attestation
    created: bool
    def __init__(self, attestation: _Optional[_Union[Attestation, _Mapping]] = ..., created: bool = ...) -> None: ...

class AttestationFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class ArtifactRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
