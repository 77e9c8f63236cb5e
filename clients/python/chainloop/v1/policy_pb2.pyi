from chainloop.v1 import api_token_pb2 as _api_token_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DeletePromotionPolicyRequest(_message.Message):
    __slots__ = ["logical_environment"]
    LOGICAL_ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    logical_environment: str
    def __init__(self, logical_environment: _Optional[str] = ...) -> None: ...

class DeletePromotionPolicyResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class DeployedInRule(_message.Message):
    __slots__ = ["environment", "logical_environment", "soak"]
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    LOGICAL_ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    SOAK_FIELD_NUMBER: _ClassVar[int]
    environment: str
    logical_environment: str
    soak: _duration_pb2.Duration
    def __init__(self, logical_environment: _Optional[str] = ..., environment: _Optional[str] = ..., soak: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class GetPromotionPolicyRequest(_message.Message):
    __slots__ = ["logical_environment"]
    LOGICAL_ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    logical_environment: str
    def __init__(self, logical_environment: _Optional[str] = ...) -> None: ...

class GetPromotionPolicyResponse(_message.Message):
    __slots__ = ["policy"]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    policy: PromotionPolicy
    def __init__(self, policy: _Optional[_Union[PromotionPolicy, _Mapping]] = ...) -> None: ...

class ListPromotionPoliciesRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ListPromotionPoliciesResponse(_message.Message):
    __slots__ = ["policies"]
    POLICIES_FIELD_NUMBER: _ClassVar[int]
    policies: _containers.RepeatedCompositeFieldContainer[PromotionPolicy]
    def __init__(self, policies: _Optional[_Iterable[_Union[PromotionPolicy, _Mapping]]] = ...) -> None: ...

class PolicyViolation(_message.Message):
    __slots__ = ["description", "rule", "subject"]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    description: str
    rule: str
    subject: str
    def __init__(self, rule: _Optional[str] = ..., subject: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class PromotionPolicy(_message.Message):
    __slots__ = ["logical_environment", "require_deployed_in", "require_predicate_types", "require_verified", "require_workflows", "update_time", "updated_by", "version"]
    LOGICAL_ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    REQUIRE_DEPLOYED_IN_FIELD_NUMBER: _ClassVar[int]
    REQUIRE_PREDICATE_TYPES_FIELD_NUMBER: _ClassVar[int]
    REQUIRE_VERIFIED_FIELD_NUMBER: _ClassVar[int]
    REQUIRE_WORKFLOWS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_BY_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    logical_environment: str
    require_deployed_in: _containers.RepeatedCompositeFieldContainer[DeployedInRule]
    require_predicate_types: _containers.RepeatedScalarFieldContainer[str]
    require_verified: bool
    require_workflows: _containers.RepeatedScalarFieldContainer[str]
    update_time: _timestamp_pb2.Timestamp
    updated_by: _api_token_pb2.Actor
    version: int
    def __init__(self, logical_environment: _Optional[str] = ..., require_deployed_in: _Optional[_Iterable[_Union[DeployedInRule, _Mapping]]] = ..., require_workflows: _Optional[_Iterable[str]] = ..., require_predicate_types: _Optional[_Iterable[str]] = ..., require_verified: bool = ..., update_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., updated_by: _Optional[_Union[_api_token_pb2.Actor, _Mapping]] = ..., version: _Optional[int] = ...) -> None: ...

class SetPromotionPolicyRequest(_message.Message):
    __slots__ = ["policy"]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    policy: PromotionPolicy
    def __init__(self, policy: _Optional[_Union[PromotionPolicy, _Mapping]] = ...) -> None: ...

class SetPromotionPolicyResponse(_message.Message):
    __slots__ = ["policy"]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    policy: PromotionPolicy
    def __init__(self, policy: _Optional[_Union[PromotionPolicy, _Mapping]] = ...) -> None: ...
