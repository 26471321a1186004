//! payments on the wire.
