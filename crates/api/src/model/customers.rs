//! customers on the wire.
