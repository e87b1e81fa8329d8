from . import objects_pb2 as _objects_pb2
from . import results_common_pb2 as _results_common_pb2
from google.protobuf import descriptor as _descriptor
from typing import ClassVar as _ClassVar

DESCRIPTOR: _descriptor.FileDescriptor
