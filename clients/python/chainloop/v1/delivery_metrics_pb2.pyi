from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
METRICS_BUCKET_DAY: MetricsBucket
METRICS_BUCKET_MONTH: MetricsBucket
METRICS_BUCKET_UNSPECIFIED: MetricsBucket
METRICS_BUCKET_WEEK: MetricsBucket

class DeliveryMetrics(_message.Message):
    __slots__ = ["change_failure_rate", "deployment_count", "deployments_per_day", "end_time", "failed_count", "lead_time_count", "lead_time_median", "lead_time_p90", "restored_count", "rollback_count", "start_time", "time_to_restore_median", "time_to_restore_p90"]
    CHANGE_FAILURE_RATE_FIELD_NUMBER: _ClassVar[int]
    DEPLOYMENTS_PER_DAY_FIELD_NUMBER: _ClassVar[int]
    DEPLOYMENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    FAILED_COUNT_FIELD_NUMBER: _ClassVar[int]
    LEAD_TIME_COUNT_FIELD_NUMBER: _ClassVar[int]
    LEAD_TIME_MEDIAN_FIELD_NUMBER: _ClassVar[int]
    LEAD_TIME_P90_FIELD_NUMBER: _ClassVar[int]
    RESTORED_COUNT_FIELD_NUMBER: _ClassVar[int]
    ROLLBACK_COUNT_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    TIME_TO_RESTORE_MEDIAN_FIELD_NUMBER: _ClassVar[int]
    TIME_TO_RESTORE_P90_FIELD_NUMBER: _ClassVar[int]
    change_failure_rate: float
    deployment_count: int
    deployments_per_day: float
    end_time: _timestamp_pb2.Timestamp
    failed_count: int
    lead_time_count: int
    lead_time_median: _duration_pb2.Duration
    lead_time_p90: _duration_pb2.Duration
    restored_count: int
    rollback_count: int
    start_time: _timestamp_pb2.Timestamp
    time_to_restore_median: _duration_pb2.Duration
    time_to_restore_p90: _duration_pb2.Duration
    def __init__(self, start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., deployment_count: _Optional[int] = ..., deployments_per_day: _Optional[float] = ..., lead_time_count: _Optional[int] = ..., lead_time_median: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., lead_time_p90: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., failed_count: _Optional[int] = ..., change_failure_rate: _Optional[float] = ..., rollback_count: _Optional[int] = ..., restored_count: _Optional[int] = ..., time_to_restore_median: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., time_to_restore_p90: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class GetDeliveryMetricsRequest(_message.Message):
    __slots__ = ["bucket", "end_time", "environment", "failure_window", "logical_environment", "project", "start_time"]
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    FAILURE_WINDOW_FIELD_NUMBER: _ClassVar[int]
    LOGICAL_ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    bucket: MetricsBucket
    end_time: _timestamp_pb2.Timestamp
    environment: str
    failure_window: _duration_pb2.Duration
    logical_environment: str
    project: str
    start_time: _timestamp_pb2.Timestamp
    def __init__(self, logical_environment: _Optional[str] = ..., environment: _Optional[str] = ..., project: _Optional[str] = ..., start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., bucket: _Optional[_Union[MetricsBucket, str]] = ..., failure_window: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class GetDeliveryMetricsResponse(_message.Message):
    __slots__ = ["bucket", "buckets", "failure_window", "total"]
    BUCKETS_FIELD_NUMBER: _ClassVar[int]
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    FAILURE_WINDOW_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    bucket: MetricsBucket
    buckets: _containers.RepeatedCompositeFieldContainer[DeliveryMetrics]
    failure_window: _duration_pb2.Duration
    total: DeliveryMetrics
    def __init__(self, total: _Optional[_Union[DeliveryMetrics, _Mapping]] = ..., buckets: _Optional[_Iterable[_Union[DeliveryMetrics, _Mapping]]] = ..., bucket: _Optional[_Union[MetricsBucket, str]] = ..., failure_window: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class MetricsBucket(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
