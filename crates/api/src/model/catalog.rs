//! catalog on the wire.
