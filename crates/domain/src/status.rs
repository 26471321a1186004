//! Status and kind enums with their wire spellings, the manual asset transitions of SPEC §2.3, and
//! the order, subscription and payment transitions of SPEC §2.5, §2.6.2 and §2.7.

macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The wire (and storage) spelling.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            /// Parses the exact wire spelling.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
            /// The allowed spellings joined by `, ` (for error messages).
            pub fn expected() -> String {
                [$($text),+].join(", ")
            }
        }

        /// Serialized as its wire spelling.
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        /// Documented as a string with the wire spellings as its `enum`.
        #[cfg(feature = "schema")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($text),+]))
                    .into()
            }
        }

        #[cfg(feature = "schema")]
        impl utoipa::ToSchema for $name {}
    };
}

wire_enum!(
    /// Product status (SPEC §2.2).
    ProductStatus { Active = "active", Discontinued = "discontinued" }
);
wire_enum!(
    /// Variant status (SPEC §2.2).
    VariantStatus { Active = "active", Inactive = "inactive" }
);
wire_enum!(
    /// Customer status (SPEC §2.4).
    CustomerStatus { Active = "active", Inactive = "inactive" }
);
wire_enum!(
    /// Customer kind (SPEC §2.4).
    CustomerType { Individual = "individual", Business = "business" }
);
wire_enum!(
    /// Business unit status (SPEC §2.1).
    TenantStatus { Active = "active", Inactive = "inactive" }
);
wire_enum!(
    /// Variant grade A–E (SPEC §2.2); input accepted in lowercase, stored uppercase.
    Grade { A = "A", B = "B", C = "C", D = "D", E = "E" }
);
wire_enum!(
    /// API key scope (SPEC §1.2, Recommended): `read` allows GET, `write` everything else.
    KeyScope { Read = "read", Write = "write", All = "all" }
);
wire_enum!(
    /// Asset status (SPEC §2.3).
    AssetStatus {
        /// In stock, may be assigned.
        Available = "available",
        /// Assigned to a subscription.
        RentedOut = "rented_out",
        /// Back from a customer, waiting for inspection.
        Returned = "returned",
        /// Bought by the customer.
        Sold = "sold",
        /// In repair, lost, retired or soft-deleted.
        Unavailable = "unavailable",
    }
);

impl Grade {
    /// Parses a grade case-insensitively (`a` → `A`).
    pub fn parse_lenient(text: &str) -> Option<Grade> {
        Grade::parse(&text.trim().to_ascii_uppercase())
    }
}

impl KeyScope {
    /// Whether a key of this scope may call a method that reads (`GET`) or writes (anything else).
    pub fn allows(self, write: bool) -> bool {
        match self {
            KeyScope::All => true,
            KeyScope::Read => !write,
            KeyScope::Write => write,
        }
    }
}

impl AssetStatus {
    /// Statuses an asset may be created with (SPEC §2.3 createAsset).
    pub fn allowed_on_create(self) -> bool {
        matches!(
            self,
            AssetStatus::Available | AssetStatus::Unavailable | AssetStatus::Returned
        )
    }

    /// Whether an operator may move an asset from `self` to `to` by hand (PUT or DELETE), given
    /// whether it is linked to an active subscription. `rented_out` is never a manual target
    /// (`INVALID_STATUS`); a linked asset's status cannot change (`ASSET_IN_USE`). Same status
    /// is always allowed (no change). SPEC §2.3 transitions.
    pub fn manual_transition(
        self,
        to: AssetStatus,
        linked_to_active: bool,
    ) -> Result<(), &'static str> {
        if to == AssetStatus::RentedOut && self != AssetStatus::RentedOut {
            return Err("INVALID_STATUS");
        }
        if self == to {
            return Ok(());
        }
        if linked_to_active {
            return Err("ASSET_IN_USE");
        }
        if to == AssetStatus::RentedOut {
            return Err("INVALID_STATUS");
        }
        Ok(())
    }
}

wire_enum!(
    /// Order status (SPEC §2.5).
    OrderStatus {
        /// Created, nothing fulfilled yet.
        Pending = "pending",
        /// Confirmed by an operator (dashboard), nothing fulfilled yet.
        Confirmed = "confirmed",
        /// Some units fulfilled, others remain.
        Partial = "partial",
        /// Every unit fulfilled.
        Fulfilled = "fulfilled",
        /// Cancelled before any fulfilment.
        Cancelled = "cancelled",
    }
);
wire_enum!(
    /// Subscription (rental) status (SPEC §2.6.2).
    SubscriptionStatus {
        /// Running.
        Active = "active",
        /// Cancelled (terminal).
        Cancelled = "cancelled",
        /// Contract served (terminal).
        EndedCompleted = "ended_completed",
        /// Bought out (terminal).
        EndedBuyout = "ended_buyout",
        /// Replaced by an upgrade (terminal).
        EndedUpgrade = "ended_upgrade",
        /// Returned early (terminal).
        EndedEarlyReturn = "ended_early_return",
    }
);
wire_enum!(
    /// Payment status (SPEC §2.7).
    PaymentStatus {
        /// Owed.
        Pending = "pending",
        /// A provider is capturing it.
        Processing = "processing",
        /// Paid (terminal).
        Paid = "paid",
        /// A provider capture failed.
        Failed = "failed",
        /// Cancelled (terminal).
        Cancelled = "cancelled",
    }
);
wire_enum!(
    /// What a payment charges (SPEC §2.7 kinds): stored with every payment, never guessed from
    /// its idempotency key.
    PaymentKind {
        /// A monthly schedule charge (or its pro-rated stub).
        Installment = "installment",
        /// The one-off setup fee of a tier (SPEC §2.5).
        Setup = "setup",
        /// A buyout price.
        Buyout = "buyout",
        /// An early-return fee.
        EarlyReturn = "early_return",
        /// A late fee.
        LateFee = "late_fee",
        /// A manual adjustment.
        Adjustment = "adjustment",
    }
);

wire_enum!(
    /// A lifecycle event in a subscription's history (SPEC §2.6.1 histories, §2.6.2), appended,
    /// never rewritten.
    SubscriptionEventKind {
        /// createSubscription (or the new subscription of an upgrade).
        Created = "created",
        /// extendSubscription or an automatic renewal.
        Extended = "extended",
        /// replaceSubscriptionDevice.
        DeviceReplaced = "device_replaced",
        /// upgradeSubscription ended it.
        Upgraded = "upgraded",
        /// buyoutSubscription.
        BoughtOut = "bought_out",
        /// earlyReturnSubscription while charges remained.
        ReturnedEarly = "returned_early",
        /// Contract served.
        Completed = "completed",
        /// cancelSubscription.
        Cancelled = "cancelled",
    }
);

// The enum's derives come from `wire_enum!`, which does not derive `Default`.
#[allow(clippy::derivable_impls)]
impl Default for PaymentKind {
    fn default() -> Self {
        PaymentKind::Installment
    }
}

impl PaymentKind {
    /// Whether the charge is a contract month (counts in months, remaining values and the
    /// schedule); one-off charges do not (SPEC §2.5 setup fees, §2.6.4).
    pub fn is_contract_month(self) -> bool {
        self == PaymentKind::Installment
    }
}

impl OrderStatus {
    /// Every transition of SPEC §2.5: `pending → confirmed`, `pending/confirmed → partial`,
    /// `pending/confirmed/partial → fulfilled`, `pending/confirmed → cancelled`.
    pub fn can_become(self, to: OrderStatus) -> bool {
        use OrderStatus::*;
        matches!(
            (self, to),
            (Pending, Confirmed)
                | (Pending | Confirmed, Partial)
                | (Pending | Confirmed | Partial, Fulfilled)
                | (Pending | Confirmed, Cancelled)
        )
    }

    /// cancelOrder: the status after it, or the error code (`ALREADY_CANCELLED`,
    /// `ORDER_NOT_CANCELLABLE` once a subscription exists).
    pub fn cancel(self) -> Result<OrderStatus, &'static str> {
        match self {
            OrderStatus::Cancelled => Err("ALREADY_CANCELLED"),
            s if s.can_become(OrderStatus::Cancelled) => Ok(OrderStatus::Cancelled),
            _ => Err("ORDER_NOT_CANCELLABLE"),
        }
    }

    /// Whether a unit may be fulfilled now, or the error code of createSubscription
    /// (`ORDER_NOT_CONFIRMED` for a cancelled order, `ITEM_FULLY_FULFILLED` for a fulfilled one).
    pub fn check_fulfilment(self) -> Result<(), &'static str> {
        match self {
            OrderStatus::Cancelled => Err("ORDER_NOT_CONFIRMED"),
            OrderStatus::Fulfilled => Err("ITEM_FULLY_FULFILLED"),
            _ => Ok(()),
        }
    }

    /// The status after one more unit is fulfilled: `fulfilled` when `rented` (after this one)
    /// reaches `total`, else `partial`.
    pub fn after_fulfilment(rented: i64, total: i64) -> OrderStatus {
        if rented >= total {
            OrderStatus::Fulfilled
        } else {
            OrderStatus::Partial
        }
    }
}

impl SubscriptionStatus {
    /// Whether the status is terminal (`cancelled` or `ended_*`).
    pub fn is_terminal(self) -> bool {
        self != SubscriptionStatus::Active
    }

    /// Every transition of SPEC §2.6.2: only an `active` subscription changes, to any ending
    /// status or `cancelled`; terminal statuses never change.
    pub fn can_become(self, to: SubscriptionStatus) -> bool {
        self == SubscriptionStatus::Active && to != SubscriptionStatus::Active
    }
}

impl PaymentStatus {
    /// Every transition of SPEC §2.7: `pending → processing`, `pending/failed/processing →
    /// paid`, `processing → failed`, `failed → processing`, `pending/failed → cancelled`.
    pub fn can_become(self, to: PaymentStatus) -> bool {
        use PaymentStatus::*;
        matches!(
            (self, to),
            (Pending, Processing)
                | (Pending | Failed | Processing, Paid)
                | (Processing, Failed)
                | (Failed, Processing)
                | (Pending | Failed, Cancelled)
        )
    }

    /// markPaymentPaid: the error code when it is not allowed (`ALREADY_PAID`,
    /// `PAYMENT_CANCELLED`).
    pub fn mark_paid(self) -> Result<PaymentStatus, &'static str> {
        match self {
            PaymentStatus::Paid => Err("ALREADY_PAID"),
            PaymentStatus::Cancelled => Err("PAYMENT_CANCELLED"),
            s if s.can_become(PaymentStatus::Paid) => Ok(PaymentStatus::Paid),
            _ => Err("PAYMENT_CANCELLED"),
        }
    }

    /// cancelPayment: the error code when it is not allowed (`ALREADY_PAID`,
    /// `ALREADY_CANCELLED`, `PAYMENT_PROCESSING`).
    pub fn cancel(self) -> Result<PaymentStatus, &'static str> {
        match self {
            PaymentStatus::Paid => Err("ALREADY_PAID"),
            PaymentStatus::Cancelled => Err("ALREADY_CANCELLED"),
            PaymentStatus::Processing => Err("PAYMENT_PROCESSING"),
            s if s.can_become(PaymentStatus::Cancelled) => Ok(PaymentStatus::Cancelled),
            _ => Err("PAYMENT_PROCESSING"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_spellings_round_trip() {
        for s in AssetStatus::ALL {
            assert_eq!(AssetStatus::parse(s.as_str()), Some(*s));
        }
        assert_eq!(AssetStatus::parse("Rented Out"), None);
        assert_eq!(Grade::parse_lenient(" b "), Some(Grade::B));
        assert_eq!(Grade::parse_lenient("F"), None);
    }

    #[test]
    fn manual_asset_transitions_follow_the_spec() {
        use AssetStatus::*;
        assert_eq!(
            Available.manual_transition(RentedOut, false),
            Err("INVALID_STATUS")
        );
        assert_eq!(
            Returned.manual_transition(RentedOut, false),
            Err("INVALID_STATUS")
        );
        assert_eq!(
            RentedOut.manual_transition(Available, true),
            Err("ASSET_IN_USE")
        );
        assert_eq!(RentedOut.manual_transition(Returned, false), Ok(()));
        assert_eq!(Available.manual_transition(Sold, false), Ok(()));
        assert_eq!(Unavailable.manual_transition(Available, false), Ok(()));
        assert_eq!(RentedOut.manual_transition(RentedOut, true), Ok(()));
    }

    #[test]
    fn order_transitions_follow_the_spec() {
        use OrderStatus::*;
        let allowed: Vec<_> = OrderStatus::ALL
            .iter()
            .flat_map(|a| OrderStatus::ALL.iter().map(move |b| (*a, *b)))
            .filter(|(a, b)| a.can_become(*b))
            .collect();
        assert_eq!(
            allowed,
            vec![
                (Pending, Confirmed),
                (Pending, Partial),
                (Pending, Fulfilled),
                (Pending, Cancelled),
                (Confirmed, Partial),
                (Confirmed, Fulfilled),
                (Confirmed, Cancelled),
                (Partial, Fulfilled),
            ]
        );
        assert_eq!(Pending.cancel(), Ok(Cancelled));
        assert_eq!(Confirmed.cancel(), Ok(Cancelled));
        assert_eq!(Cancelled.cancel(), Err("ALREADY_CANCELLED"));
        assert_eq!(Partial.cancel(), Err("ORDER_NOT_CANCELLABLE"));
        assert_eq!(Fulfilled.cancel(), Err("ORDER_NOT_CANCELLABLE"));
        assert_eq!(Cancelled.check_fulfilment(), Err("ORDER_NOT_CONFIRMED"));
        assert_eq!(Fulfilled.check_fulfilment(), Err("ITEM_FULLY_FULFILLED"));
        assert_eq!(Partial.check_fulfilment(), Ok(()));
        assert_eq!(OrderStatus::after_fulfilment(1, 2), Partial);
        assert_eq!(OrderStatus::after_fulfilment(2, 2), Fulfilled);
    }

    #[test]
    fn subscription_and_payment_transitions_follow_the_spec() {
        use SubscriptionStatus as S;
        for to in S::ALL {
            assert_eq!(S::Active.can_become(*to), *to != S::Active);
            for from in S::ALL.iter().filter(|s| s.is_terminal()) {
                assert!(!from.can_become(*to), "{from:?} -> {to:?}");
            }
        }
        use PaymentStatus::*;
        assert_eq!(Pending.mark_paid(), Ok(Paid));
        assert_eq!(Failed.mark_paid(), Ok(Paid));
        assert_eq!(Processing.mark_paid(), Ok(Paid));
        assert_eq!(Paid.mark_paid(), Err("ALREADY_PAID"));
        assert_eq!(Cancelled.mark_paid(), Err("PAYMENT_CANCELLED"));
        assert_eq!(Pending.cancel(), Ok(Cancelled));
        assert_eq!(Failed.cancel(), Ok(Cancelled));
        assert_eq!(Paid.cancel(), Err("ALREADY_PAID"));
        assert_eq!(Cancelled.cancel(), Err("ALREADY_CANCELLED"));
        assert_eq!(Processing.cancel(), Err("PAYMENT_PROCESSING"));
        for to in PaymentStatus::ALL {
            assert!(!Paid.can_become(*to) && !Cancelled.can_become(*to));
        }
        assert!(PaymentKind::Installment.is_contract_month());
        assert!(!PaymentKind::Setup.is_contract_month());
        assert_eq!(
            PaymentKind::parse("early_return"),
            Some(PaymentKind::EarlyReturn)
        );
    }

    #[test]
    fn scopes_split_reads_and_writes() {
        assert!(KeyScope::Read.allows(false));
        assert!(!KeyScope::Read.allows(true));
        assert!(KeyScope::Write.allows(true));
        assert!(KeyScope::All.allows(true) && KeyScope::All.allows(false));
    }
}
