//! subscriptions on the wire.
