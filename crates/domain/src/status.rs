//! Status and kind enums with their wire spellings, and the manual asset transitions of SPEC §2.3.

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
    fn scopes_split_reads_and_writes() {
        assert!(KeyScope::Read.allows(false));
        assert!(!KeyScope::Read.allows(true));
        assert!(KeyScope::Write.allows(true));
        assert!(KeyScope::All.allows(true) && KeyScope::All.allows(false));
    }
}
