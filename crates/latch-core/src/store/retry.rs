//! Absorbing optimistic-write conflicts. A whole-record write of a member or organization fails
//! with `Conflict` when another write landed since the read; where Stytch would simply succeed,
//! the service reads again and re-applies its change, a few times, before answering 409.

use super::Store;
use crate::clock::Timestamp;
use crate::error::{CoreError, CoreResult, StoreError};
use crate::model::member::MemberRecord;
use std::future::Future;

/// Tries per operation. Each retry follows a write that did land, so running out takes a burst
/// of writers on one record.
pub const ATTEMPTS: usize = 5;

/// Runs a whole read-modify-write again while it fails with `CoreError::Conflict`; the last
/// conflict is returned (409).
pub async fn on_conflict<T, F, Fut>(mut op: F) -> CoreResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = CoreResult<T>>,
{
    let mut left = ATTEMPTS;
    loop {
        match op().await {
            Err(CoreError::Conflict(_)) if left > 1 => left -= 1,
            other => return other,
        }
    }
}

/// Applies `change` to `member` and writes it (with any change the caller already made to it);
/// if another write came first, re-reads the member and applies `change` to that instead, writing
/// nothing when it already holds the change (so concurrent requests setting the same flag do not
/// keep knocking each other out). On success `member` is the record as stored. For internal
/// writes that set a few fields (activation, verification), never ones that depend on what the
/// request read: a change made to `member` before the call is not re-applied after a conflict.
#[allow(clippy::disallowed_methods)] // a store-level helper, below Ctx
pub async fn modify_member(
    store: &dyn Store,
    member: &mut MemberRecord,
    change: impl Fn(&mut MemberRecord),
) -> CoreResult<()> {
    let mut current = member.clone();
    for attempt in 0..ATTEMPTS {
        let mut next = current.clone();
        change(&mut next);
        if attempt > 0 && next == current {
            *member = current;
            return Ok(());
        }
        next.updated_at = Timestamp::now();
        match store.update_member(&mut next, None).await {
            Ok(()) => {
                *member = next;
                return Ok(());
            }
            Err(StoreError::Conflict) => {
                current = store
                    .member_by_id(&member.project_id, &member.member_id)
                    .await?
                    .ok_or_else(CoreError::member_not_found)?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(CoreError::conflict())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[tokio::test]
    async fn a_conflict_is_retried_and_the_last_one_returned() {
        let calls = Cell::new(0);
        let r: CoreResult<()> = on_conflict(|| async {
            calls.set(calls.get() + 1);
            Err(CoreError::conflict())
        })
        .await;
        assert!(matches!(r, Err(CoreError::Conflict(_))));
        assert_eq!(calls.get(), ATTEMPTS);

        calls.set(0);
        let r = on_conflict(|| async {
            calls.set(calls.get() + 1);
            if calls.get() < 3 {
                Err(CoreError::conflict())
            } else {
                Ok(calls.get())
            }
        })
        .await;
        assert_eq!(r.unwrap(), 3, "succeeds once the race is won");

        calls.set(0);
        let r: CoreResult<()> = on_conflict(|| async {
            calls.set(calls.get() + 1);
            Err(CoreError::member_not_found())
        })
        .await;
        assert!(matches!(r, Err(CoreError::NotFound(_))));
        assert_eq!(calls.get(), 1, "other errors are not retried");
    }
}
