from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class GetServerInfoRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class GetServerInfoResponse(_message.Message):
    __slots__ = ["api_version", "build_commit", "server_version"]
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    BUILD_COMMIT_FIELD_NUMBER: _ClassVar[int]
    SERVER_VERSION_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    build_commit: str
    server_version: str
    def __init__(self, server_version: _Optional[str] = ..., api_version: _Optional[str] = ..., build_commit: _Optional[str] = ...) -> None: ...
