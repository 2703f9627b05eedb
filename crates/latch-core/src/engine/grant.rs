//! The capability to write on a caller's behalf. A `Grant` has no public constructor: the
//! caller's checks in `actor` make one, and the engine makes one for the writes it does on its own
//! account. Writes that change what a member, organization or session may do take a `&Grant`, so a
//! use case that skips its authorization check does not compile (tests/layers.rs keeps those
//! families from reaching the store's writes directly).

/// Proof that an authorization check passed.
#[derive(Debug)]
pub struct Grant {
    _checked: (),
}

impl Grant {
    /// Made by `actor::Caller`'s checks, and by the engine for its own writes: provisioning by JIT
    /// or discovery, activating a member at login, locking after failures.
    pub(in crate::engine) fn engine() -> Self {
        Grant { _checked: () }
    }
}
