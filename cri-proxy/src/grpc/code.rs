//! gRPC status codes (the `grpc-status` trailer), as in the gRPC spec's `statuscodes.md`.

/// Success.
pub const OK: u32 = 0;
/// The caller cancelled the call.
pub const CANCELLED: u32 = 1;
/// Unknown error; the kubelet maps its message prefixes to typed pull errors.
pub const UNKNOWN: u32 = 2;
/// The client sent an invalid argument.
pub const INVALID_ARGUMENT: u32 = 3;
/// The deadline (`grpc-timeout`) passed before the call completed.
pub const DEADLINE_EXCEEDED: u32 = 4;
/// A requested entity was not found.
pub const NOT_FOUND: u32 = 5;
/// The entity a client tried to create already exists.
pub const ALREADY_EXISTS: u32 = 6;
/// The caller may not execute this operation.
pub const PERMISSION_DENIED: u32 = 7;
/// A resource (here: the message size limit) is exhausted.
pub const RESOURCE_EXHAUSTED: u32 = 8;
/// The system is not in a state required for the operation.
pub const FAILED_PRECONDITION: u32 = 9;
/// The operation was aborted.
pub const ABORTED: u32 = 10;
/// The operation was attempted past the valid range.
pub const OUT_OF_RANGE: u32 = 11;
/// The method is not implemented (or a message was compressed where that is unsupported).
pub const UNIMPLEMENTED: u32 = 12;
/// An internal invariant broke (e.g. malformed gRPC framing).
pub const INTERNAL: u32 = 13;
/// The service is unavailable (e.g. containerd cannot be reached); retrying may help.
pub const UNAVAILABLE: u32 = 14;
/// Unrecoverable data loss.
pub const DATA_LOSS: u32 = 15;
/// The request lacks valid authentication credentials.
pub const UNAUTHENTICATED: u32 = 16;

/// The code a gRPC client derives from a non-200 HTTP status (gRPC spec `http-grpc-status-mapping.md`).
pub fn from_http_status(status: http::StatusCode) -> u32 {
    match status.as_u16() {
        400 => INTERNAL,
        401 => UNAUTHENTICATED,
        403 => PERMISSION_DENIED,
        404 => UNIMPLEMENTED,
        429 | 502..=504 => UNAVAILABLE,
        _ => UNKNOWN,
    }
}
