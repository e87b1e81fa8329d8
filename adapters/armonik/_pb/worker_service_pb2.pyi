from . import objects_pb2 as _objects_pb2
from . import worker_common_pb2 as _worker_common_pb2
from google.protobuf import descriptor as _descriptor
from typing import ClassVar as _ClassVar

DESCRIPTOR: _descriptor.FileDescriptor
