//! Identifiers: `<prefix>_<random>` with a lowercase alphanumeric body (SPEC §1.5, Recommended).
//!
//! The body is 10 base-36 characters of the creation time in milliseconds followed by 10 random
//! base-36 characters, so ids sort by creation time and are never reused.

use rand::Rng;

const ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";

/// Id prefixes of SPEC §1.5.
pub mod prefix {
    /// Products.
    pub const PRODUCT: &str = "prod";
    /// Variants.
    pub const VARIANT: &str = "var";
    /// Customers.
    pub const CUSTOMER: &str = "cust";
    /// Orders.
    pub const ORDER: &str = "ord";
    /// Subscriptions (rentals).
    pub const SUBSCRIPTION: &str = "sub";
    /// Payments.
    pub const PAYMENT: &str = "pay";
    /// Billing groups.
    pub const BILLING_GROUP: &str = "bg";
    /// Files.
    pub const FILE: &str = "file";
    /// Business units (tenants).
    pub const TENANT: &str = "bu";
    /// API keys (the key id, not the secret).
    pub const API_KEY: &str = "key";
    /// Subscription history events.
    pub const EVENT: &str = "evt";
    /// Webhook endpoints.
    pub const WEBHOOK_ENDPOINT: &str = "ep";
    /// Webhook events (messages of the outbox).
    pub const WEBHOOK_EVENT: &str = "msg";
    /// Webhook deliveries (one event to one endpoint).
    pub const WEBHOOK_DELIVERY: &str = "dlv";
}

/// Generates a new id `<prefix>_<10 time chars><10 random chars>` for the given creation time
/// (milliseconds since the Unix epoch).
pub fn new_id(prefix: &str, now_millis: i64) -> String {
    let mut out = String::with_capacity(prefix.len() + 21);
    out.push_str(prefix);
    out.push('_');
    push_base36(&mut out, now_millis.max(0) as u64, 10);
    let mut rng = rand::rng();
    for _ in 0..10 {
        out.push(ALPHABET[rng.random_range(0..36)] as char);
    }
    out
}

/// `n` new ids created together (a payment schedule, the webhook events of one transaction) that
/// sort in the order generated: the same time and random part followed by a base-36 sequence of
/// 3 characters, up to 46 656 ids. A larger batch takes as many more characters of the random
/// part as its sequence needs, so every id of a batch stays distinct and of the same length.
pub fn new_ids(prefix: &str, now_millis: i64, n: usize) -> Vec<String> {
    let width = sequence_width(n);
    let base = new_id(prefix, now_millis);
    let stem = &base[..base.len() - width];
    (0..n)
        .map(|i| {
            let mut id = stem.to_string();
            push_base36(&mut id, i as u64, width);
            id
        })
        .collect()
}

/// Base-36 digits that number `n` ids from 0: at least 3, at most the 10 of the random part.
fn sequence_width(n: usize) -> usize {
    let mut width = 3;
    let mut capacity: u64 = 36 * 36 * 36;
    while width < 10 && capacity < n as u64 {
        width += 1;
        capacity = capacity.saturating_mul(36);
    }
    width
}

/// A random lowercase alphanumeric string of `len` characters (secrets, test names).
pub fn random_token(len: usize) -> String {
    let mut out = vec![0; len];
    fill_token(&mut out);
    // Every byte is an ASCII letter or digit.
    out.into_iter().map(char::from).collect()
}

/// Fills `out` with random lowercase alphanumeric ASCII characters, as [`random_token`] makes
/// them, without allocating (request ids).
pub fn fill_token(out: &mut [u8]) {
    let mut rng = rand::rng();
    for b in out {
        *b = ALPHABET[rng.random_range(0..36)];
    }
}

fn push_base36(out: &mut String, mut v: u64, width: usize) {
    let mut buf = vec![b'0'; width];
    for slot in buf.iter_mut().rev() {
        *slot = ALPHABET[(v % 36) as usize];
        v /= 36;
    }
    out.push_str(std::str::from_utf8(&buf).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_prefixed_lowercase_and_time_ordered() {
        let a = new_id(prefix::PRODUCT, 1_700_000_000_000);
        let b = new_id(prefix::PRODUCT, 1_700_000_000_001);
        assert!(a.starts_with("prod_"));
        assert_eq!(a.len(), 5 + 20);
        assert!(
            a[5..]
                .chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase())
        );
        assert!(a < b);
    }

    #[test]
    fn batch_ids_sort_in_generation_order() {
        let ids = new_ids(prefix::PAYMENT, 1_700_000_000_000, 40);
        assert_eq!(ids.len(), 40);
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        assert!(ids.iter().all(|i| i.starts_with("pay_") && i.len() == 24));
    }

    #[test]
    fn a_batch_beyond_three_sequence_characters_stays_distinct_and_ordered() {
        assert_eq!(sequence_width(0), 3);
        assert_eq!(sequence_width(46_656), 3);
        assert_eq!(sequence_width(46_657), 4);
        assert_eq!(sequence_width(36usize.pow(4) + 1), 5);
        let n = 46_656 + 1_000;
        let ids = new_ids(prefix::WEBHOOK_EVENT, 1_700_000_000_000, n);
        assert_eq!(ids.len(), n);
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "sorted, hence distinct"
        );
        assert!(ids.iter().all(|i| i.len() == ids[0].len()));
        assert_eq!(ids[0].len(), new_id(prefix::WEBHOOK_EVENT, 0).len());
    }
}
