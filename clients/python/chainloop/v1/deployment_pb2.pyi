from chainloop.v1 import api_token_pb2 as _api_token_pb2
from chainloop.v1 import attestation_pb2 as _attestation_pb2
from chainloop.v1 import policy_pb2 as _policy_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

ARTIFACT_KIND_CONTAINER_IMAGE: ArtifactKind
ARTIFACT_KIND_HELM_CHART: ArtifactKind
ARTIFACT_KIND_UNSPECIFIED: ArtifactKind
DEPLOYMENT_STATUS_DECOMMISSIONED: DeploymentStatus
DEPLOYMENT_STATUS_DEPLOYED: DeploymentStatus
DEPLOYMENT_STATUS_SUPERSEDED: DeploymentStatus
DEPLOYMENT_STATUS_UNSPECIFIED: DeploymentStatus
DESCRIPTOR: _descriptor.FileDescriptor
DIFF_STATE_DIFFERENT: DiffState
DIFF_STATE_ONLY_IN_FROM: DiffState
DIFF_STATE_ONLY_IN_TO: DiffState
DIFF_STATE_SAME: DiffState
DIFF_STATE_UNSPECIFIED: DiffState
RECORD_OUTCOME_ALREADY_DECOMMISSIONED: RecordOutcome
RECORD_OUTCOME_CREATED: RecordOutcome
RECORD_OUTCOME_DECOMMISSIONED: RecordOutcome
RECORD_OUTCOME_HEARTBEAT: RecordOutcome
RECORD_OUTCOME_ROLLED_BACK: RecordOutcome
RECORD_OUTCOME_SUPERSEDED: RecordOutcome
RECORD_OUTCOME_UNSPECIFIED: RecordOutcome
SNAPSHOT_REFUSAL_INVALID_ENTRY: SnapshotRefusal
SNAPSHOT_REFUSAL_NO_EVIDENCE: SnapshotRefusal
SNAPSHOT_REFUSAL_POLICY: SnapshotRefusal
SNAPSHOT_REFUSAL_UNSPECIFIED: SnapshotRefusal
WATCH_EVENT_TYPE_CREATED: WatchEventType
WATCH_EVENT_TYPE_DECOMMISSIONED: WatchEventType
WATCH_EVENT_TYPE_HEARTBEAT: WatchEventType
WATCH_EVENT_TYPE_SNAPSHOT: WatchEventType
WATCH_EVENT_TYPE_SNAPSHOT_END: WatchEventType
WATCH_EVENT_TYPE_STALE: WatchEventType
WATCH_EVENT_TYPE_STALE_TIME_CHANGED: WatchEventType
WATCH_EVENT_TYPE_SUPERSEDED: WatchEventType
WATCH_EVENT_TYPE_UNSPECIFIED: WatchEventType

class Deployment(_message.Message):
    __slots__ = ["artifact_name", "artifact_reference", "artifact_version", "create_time", "decommission_time", "decommissioned_by", "decommissioned_by_snapshot", "deployment_name", "digest", "environment", "id", "kind", "last_seen_time", "logical_environment", "override_reason", "project", "project_version", "recorded_by", "rollback_of_id", "stale", "stale_time", "status", "superseded_by_id", "superseded_time"]
    ARTIFACT_NAME_FIELD_NUMBER: _ClassVar[int]
    ARTIFACT_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    ARTIFACT_VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    DECOMMISSIONED_BY_FIELD_NUMBER: _ClassVar[int]
    DECOMMISSIONED_BY_SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    DECOMMISSION_TIME_FIELD_NUMBER: _ClassVar[int]
    DEPLOYMENT_NAME_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_TIME_FIELD_NUMBER: _ClassVar[int]
    LOGICAL_ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    OVERRIDE_REASON_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    PROJECT_VERSION_FIELD_NUMBER: _ClassVar[int]
    RECORDED_BY_FIELD_NUMBER: _ClassVar[int]
    ROLLBACK_OF_ID_FIELD_NUMBER: _ClassVar[int]
    STALE_FIELD_NUMBER: _ClassVar[int]
    STALE_TIME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SUPERSEDED_BY_ID_FIELD_NUMBER: _ClassVar[int]
    SUPERSEDED_TIME_FIELD_NUMBER: _ClassVar[int]
    artifact_name: str
    artifact_reference: str
    artifact_version: str
    create_time: _timestamp_pb2.Timestamp
    decommission_time: _timestamp_pb2.Timestamp
    decommissioned_by: _api_token_pb2.Actor
    decommissioned_by_snapshot: bool
    deployment_name: str
    digest: str
    environment: str
    id: str
    kind: ArtifactKind
    last_seen_time: _timestamp_pb2.Timestamp
    logical_environment: str
    override_reason: str
    project: str
    project_version: str
    recorded_by: _api_token_pb2.Actor
    rollback_of_id: str
    stale: bool
    stale_time: _timestamp_pb2.Timestamp
    status: DeploymentStatus
    superseded_by_id: str
    superseded_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., environment: _Optional[str] = ..., logical_environment: _Optional[str] = ..., deployment_name: _Optional[str] = ..., kind: _Optional[_Union[ArtifactKind, str]] = ..., digest: _Optional[str] = ..., artifact_name: _Optional[str] = ..., artifact_version: _Optional[str] = ..., artifact_reference: _Optional[str] = ..., status: _Optional[_Union[DeploymentStatus, str]] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., last_seen_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., superseded_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., superseded_by_id: _Optional[str] = ..., decommission_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., recorded_by: _Optional[_Union[_api_token_pb2.Actor, _Mapping]] = ..., decommissioned_by: _Optional[_Union[_api_token_pb2.Actor, _Mapping]] = ..., stale: bool = ..., stale_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., decommissioned_by_snapshot: bool = ..., rollback_of_id: _Optional[str] = ..., project: _Optional[str] = ..., project_version: _Optional[str] = ..., override_reason: _Optional[str] = ...) -> None: ...

class DeploymentPlace(_message.Message):
    __slots__ = ["as_of", "environment", "logical_environment"]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    LOGICAL_ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    as_of: _timestamp_pb2.Timestamp
    environment: str
    logical_environment: str
    def __init__(self, environment: _Optional[str] = ..., logical_environment: _Optional[str] = ..., as_of: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class DiffDeploymentsRequest(_message.Message):
    __slots__ = ["differences_only", "from_place", "to_place"]
    DIFFERENCES_ONLY_FIELD_NUMBER: _ClassVar[int]
    FROM_PLACE_FIELD_NUMBER: _ClassVar[int]
    TO_PLACE_FIELD_NUMBER: _ClassVar[int]
    differences_only: bool
    from_place: DeploymentPlace
    to_place: DeploymentPlace
    def __init__(self, from_place: _Optional[_Union[DeploymentPlace, _Mapping]] = ..., to_place: _Optional[_Union[DeploymentPlace, _Mapping]] = ..., differences_only: bool = ...) -> None: ...

class DiffDeploymentsResponse(_message.Message):
    __slots__ = ["different_count", "entries", "identical", "only_in_from_count", "only_in_to_count", "same_count"]
    DIFFERENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    IDENTICAL_FIELD_NUMBER: _ClassVar[int]
    ONLY_IN_FROM_COUNT_FIELD_NUMBER: _ClassVar[int]
    ONLY_IN_TO_COUNT_FIELD_NUMBER: _ClassVar[int]
    SAME_COUNT_FIELD_NUMBER: _ClassVar[int]
    different_count: int
    entries: _containers.RepeatedCompositeFieldContainer[DiffEntry]
    identical: bool
    only_in_from_count: int
    only_in_to_count: int
    same_count: int
    def __init__(self, entries: _Optional[_Iterable[_Union[DiffEntry, _Mapping]]] = ..., same_count: _Optional[int] = ..., different_count: _Optional[int] = ..., only_in_from_count: _Optional[int] = ..., only_in_to_count: _Optional[int] = ..., identical: bool = ...) -> None: ...

class DiffEntry(_message.Message):
    __slots__ = ["deployment_name", "environment", "from_deployment", "kind", "logical_environment", "state", "to_deployment"]
    DEPLOYMENT_NAME_FIELD_NUMBER: _ClassVar[int]
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    FROM_DEPLOYMENT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    LOGICAL_ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    TO_DEPLOYMENT_FIELD_NUMBER: _ClassVar[int]
    deployment_name: str
    environment: str
    from_deployment: Deployment
    kind: ArtifactKind
    logical_environment: str
    state: DiffState
    to_deployment: Deployment
    def __init__(self, environment: _Optional[str] = ..., logical_environment: _Optional[str] = ..., deployment_name: _Optional[str] = ..., kind: _Optional[_Union[ArtifactKind, str]] = ..., state: _Optional[_Union[DiffState, str]] = ..., from_deployment: _Optional[_Union[Deployment, _Mapping]] = ..., to_deployment: _Optional[_Union[Deployment, _Mapping]] = ...) -> None: ...

class GetDeploymentRequest(_message.Message):
    __slots__ = ["id"]
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetDeploymentResponse(_message.Message):
    __slots__ = ["deployment", "evidence"]
    DEPLOYMENT_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    deployment: Deployment
    evidence: _containers.RepeatedCompositeFieldContainer[_attestation_pb2.Evidence]
    def __init__(self, deployment: _Optional[_Union[Deployment, _Mapping]] = ..., evidence: _Optional[_Iterable[_Union[_attestation_pb2.Evidence, _Mapping]]] = ...) -> None: ...

class ListDeploymentsRequest(_message.Message):
    __slots__ = ["as_of", "deployment_name", "digest", "environment", "history", "kind", "logical_environment", "page_size", "page_token", "project", "project_version", "rollbacks_only", "status"]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    DEPLOYMENT_NAME_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    LOGICAL_ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    PROJECT_VERSION_FIELD_NUMBER: _ClassVar[int]
    ROLLBACKS_ONLY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    as_of: _timestamp_pb2.Timestamp
    deployment_name: str
    digest: str
    environment: str
    history: bool
    kind: ArtifactKind
    logical_environment: str
    page_size: int
    page_token: str
    project: str
    project_version: str
    rollbacks_only: bool
    status: DeploymentStatus
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., environment: _Optional[str] = ..., logical_environment: _Optional[str] = ..., deployment_name: _Optional[str] = ..., kind: _Optional[_Union[ArtifactKind, str]] = ..., digest: _Optional[str] = ..., status: _Optional[_Union[DeploymentStatus, str]] = ..., history: bool = ..., project: _Optional[str] = ..., project_version: _Optional[str] = ..., as_of: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., rollbacks_only: bool = ...) -> None: ...

class ListDeploymentsResponse(_message.Message):
    __slots__ = ["deployments", "next_page_token"]
    DEPLOYMENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    deployments: _containers.RepeatedCompositeFieldContainer[Deployment]
    next_page_token: str
    def __init__(self, deployments: _Optional[_Iterable[_Union[Deployment, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class RecordDeploymentRequest(_message.Message):
    __slots__ = ["artifact_name", "artifact_reference", "artifact_version", "deployment_name", "digest", "environment", "kind", "logical_environment", "override_reason", "status", "validate_only"]
    ARTIFACT_NAME_FIELD_NUMBER: _ClassVar[int]
    ARTIFACT_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    ARTIFACT_VERSION_FIELD_NUMBER: _ClassVar[int]
    DEPLOYMENT_NAME_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    LOGICAL_ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    OVERRIDE_REASON_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    artifact_name: str
    artifact_reference: str
    artifact_version: str
    deployment_name: str
    digest: str
    environment: str
    kind: ArtifactKind
    logical_environment: str
    override_reason: str
    status: DeploymentStatus
    validate_only: bool
    def __init__(self, environment: _Optional[str] = ..., logical_environment: _Optional[str] = ..., deployment_name: _Optional[str] = ..., kind: _Optional[_Union[ArtifactKind, str]] = ..., digest: _Optional[str] = ..., artifact_name: _Optional[str] = ..., artifact_version: _Optional[str] = ..., artifact_reference: _Optional[str] = ..., status: _Optional[_Union[DeploymentStatus, str]] = ..., override_reason: _Optional[str] = ..., validate_only: bool = ...) -> None: ...

class RecordDeploymentResponse(_message.Message):
    __slots__ = ["deployment", "outcome", "policy_overridden", "policy_violations", "superseded_deployment_id"]
    DEPLOYMENT_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    POLICY_OVERRIDDEN_FIELD_NUMBER: _ClassVar[int]
    POLICY_VIOLATIONS_FIELD_NUMBER: _ClassVar[int]
    SUPERSEDED_DEPLOYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    deployment: Deployment
    outcome: RecordOutcome
    policy_overridden: bool
    policy_violations: _containers.RepeatedCompositeFieldContainer[_policy_pb2.PolicyViolation]
    superseded_deployment_id: str
    def __init__(self, deployment: _Optional[_Union[Deployment, _Mapping]] = ..., outcome: _Optional[_Union[RecordOutcome, str]] = ..., superseded_deployment_id: _Optional[str] = ..., policy_violations: _Optional[_Iterable[_Union[_policy_pb2.PolicyViolation, _Mapping]]] = ..., policy_overridden: bool = ...) -> None: ...

class ReportSnapshotRequest(_message.Message):
    __slots__ = ["all_or_nothing", "decommission_missing", "entries", "environment", "logical_environment", "validate_only"]
    ALL_OR_NOTHING_FIELD_NUMBER: _ClassVar[int]
    DECOMMISSION_MISSING_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    LOGICAL_ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    all_or_nothing: bool
    decommission_missing: bool
    entries: _containers.RepeatedCompositeFieldContainer[SnapshotEntry]
    environment: str
    logical_environment: str
    validate_only: bool
    def __init__(self, environment: _Optional[str] = ..., logical_environment: _Optional[str] = ..., entries: _Optional[_Iterable[_Union[SnapshotEntry, _Mapping]]] = ..., decommission_missing: bool = ..., all_or_nothing: bool = ..., validate_only: bool = ...) -> None: ...

class ReportSnapshotResponse(_message.Message):
    __slots__ = ["applied", "decommission_skipped_reason", "decommissioned", "results"]
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    DECOMMISSIONED_FIELD_NUMBER: _ClassVar[int]
    DECOMMISSION_SKIPPED_REASON_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    applied: bool
    decommission_skipped_reason: str
    decommissioned: _containers.RepeatedCompositeFieldContainer[Deployment]
    results: _containers.RepeatedCompositeFieldContainer[SnapshotEntryResult]
    def __init__(self, results: _Optional[_Iterable[_Union[SnapshotEntryResult, _Mapping]]] = ..., decommissioned: _Optional[_Iterable[_Union[Deployment, _Mapping]]] = ..., applied: bool = ..., decommission_skipped_reason: _Optional[str] = ...) -> None: ...

class SnapshotEntry(_message.Message):
    __slots__ = ["artifact_name", "artifact_reference", "artifact_version", "deployment_name", "digest", "kind"]
    ARTIFACT_NAME_FIELD_NUMBER: _ClassVar[int]
    ARTIFACT_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    ARTIFACT_VERSION_FIELD_NUMBER: _ClassVar[int]
    DEPLOYMENT_NAME_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    artifact_name: str
    artifact_reference: str
    artifact_version: str
    deployment_name: str
    digest: str
    kind: ArtifactKind
    def __init__(self, deployment_name: _Optional[str] = ..., kind: _Optional[_Union[ArtifactKind, str]] = ..., digest: _Optional[str] = ..., artifact_name: _Optional[str] = ..., artifact_version: _Optional[str] = ..., artifact_reference: _Optional[str] = ...) -> None: ...

class SnapshotEntryResult(_message.Message):
    __slots__ = ["deployment_id", "deployment_name", "digest", "index", "kind", "message", "outcome", "refusal", "superseded_deployment_id"]
    DEPLOYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    DEPLOYMENT_NAME_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    REFUSAL_FIELD_NUMBER: _ClassVar[int]
    SUPERSEDED_DEPLOYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    deployment_id: str
    deployment_name: str
    digest: str
    index: int
    kind: ArtifactKind
    message: str
    outcome: RecordOutcome
    refusal: SnapshotRefusal
    superseded_deployment_id: str
    def __init__(self, index: _Optional[int] = ..., deployment_name: _Optional[str] = ..., kind: _Optional[_Union[ArtifactKind, str]] = ..., digest: _Optional[str] = ..., outcome: _Optional[_Union[RecordOutcome, str]] = ..., deployment_id: _Optional[str] = ..., superseded_deployment_id: _Optional[str] = ..., refusal: _Optional[_Union[SnapshotRefusal, str]] = ..., message: _Optional[str] = ...) -> None: ...

class WatchDeploymentsRequest(_message.Message):
    __slots__ = ["deployment_name", "digest", "environment", "kind", "logical_environment", "project", "project_version"]
    DEPLOYMENT_NAME_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    LOGICAL_ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    PROJECT_VERSION_FIELD_NUMBER: _ClassVar[int]
    deployment_name: str
    digest: str
    environment: str
    kind: ArtifactKind
    logical_environment: str
    project: str
    project_version: str
    def __init__(self, environment: _Optional[str] = ..., logical_environment: _Optional[str] = ..., deployment_name: _Optional[str] = ..., kind: _Optional[_Union[ArtifactKind, str]] = ..., digest: _Optional[str] = ..., project: _Optional[str] = ..., project_version: _Optional[str] = ...) -> None: ...

class WatchDeploymentsResponse(_message.Message):
    __slots__ = ["deployment", "event_time", "type"]
    DEPLOYMENT_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    deployment: Deployment
    event_time: _timestamp_pb2.Timestamp
    type: WatchEventType
    def __init__(self, type: _Optional[_Union[WatchEventType, str]] = ..., deployment: _Optional[_Union[Deployment, _Mapping]] = ..., event_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ArtifactKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class DeploymentStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class RecordOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class WatchEventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class SnapshotRefusal(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class DiffState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
