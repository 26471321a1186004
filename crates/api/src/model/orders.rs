//! orders on the wire.
