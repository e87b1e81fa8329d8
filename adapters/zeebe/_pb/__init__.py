"""Generated protobuf code (make protos). Do not edit."""
