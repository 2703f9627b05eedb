//! Sessions, signing keys, passwords, intermediate sessions, reset tokens, attempt counters,
//! organization roles, magic links and email updates, on `fixtures::seed`'s records.

use latch_core::clock::Timestamp;
use latch_core::model::credentials::{IntermediateRecord, PasswordRecord, ResetTokenRecord};
use latch_core::model::links::{EmailUpdateRecord, LinkPurpose, MagicLinkRecord};
use latch_core::model::member::RetiredEmail;
use latch_core::model::session::{AuthFactor, SessionKey, SessionRecord};
use latch_core::rbac::{Permission, PolicyRole};
use latch_core::store::prelude::*;
use latch_core::store::Expiring;
use latch_core::token::keyring::SigningKeyRecord;
use latch_testkit::fixtures::{otp_record, seeded_member as member};
use latch_testkit::on_each_seeded_engine as on_each_engine;
use serde_json::json;

fn session(id: &str, token_hash: &str, expires: i64) -> SessionRecord {
    let mut claims = serde_json::Map::new();
    claims.insert("tier".into(), json!("gold"));
    SessionRecord {
        project_id: "pa".into(),
        member_session_id: id.into(),
        organization_id: "org-1".into(),
        member_id: "m-1".into(),
        token_hash: token_hash.into(),
        started_at: Timestamp(1_000),
        last_accessed_at: Timestamp(1_000),
        expires_at: Timestamp(expires),
        factors: vec![AuthFactor::password(Timestamp(1_000))],
        custom_claims: claims,
    }
}

#[tokio::test]
async fn sessions_round_trip_list_revoke_and_purge() {
    on_each_engine(|s| async move {
        let live = session("s-1", "h1", 10_000);
        s.insert_session(&live).await.unwrap();
        s.insert_session(&session("s-2", "h2", 5_000)).await.unwrap();
        assert_eq!(
            s.session_by_token_hash(&"pa".into(), "h1").await.unwrap().as_ref(),
            Some(&live)
        );
        assert!(
            s.session_by_token_hash(&"pb".into(), "h1").await.unwrap().is_none(),
            "tenant isolation"
        );
        assert_eq!(
            s.session_by_id(&"pa".into(), "s-1").await.unwrap().as_ref(),
            Some(&live)
        );
        let ids = |v: Vec<SessionRecord>| v.into_iter().map(|x| x.member_session_id).collect::<Vec<_>>();
        assert_eq!(
            ids(s
                .live_sessions(&"pa".into(), &"m-1".into(), Timestamp(6_000))
                .await
                .unwrap()),
            vec!["s-1"]
        );
        let mut extended = live.clone();
        extended.expires_at = Timestamp(20_000);
        extended
            .factors
            .push(AuthFactor::email_otp("e-1", "a@acme.test", Timestamp(2_000)));
        s.update_session(&extended).await.unwrap();
        assert_eq!(s.session_by_id(&"pa".into(), "s-1").await.unwrap().unwrap(), extended);
        assert_eq!(s.count_live_sessions(Timestamp(6_000)).await.unwrap(), 1);
        assert_eq!(
            s.purge_expired(Expiring::MemberSessions, Timestamp(6_000), 100)
                .await
                .unwrap(),
            1
        );
        assert!(s.delete_session(&"pa".into(), "s-1").await.unwrap());
        assert!(!s.delete_session(&"pa".into(), "s-1").await.unwrap());
        s.insert_session(&session("s-3", "h3", 10_000)).await.unwrap();
        assert_eq!(s.delete_member_sessions(&"pa".into(), &"m-1".into()).await.unwrap(), 1);
        // Token digests are unique.
        s.insert_session(&session("s-4", "dup", 10_000)).await.unwrap();
        assert!(s.insert_session(&session("s-5", "dup", 10_000)).await.is_err());
    })
    .await;
}

#[tokio::test]
async fn expired_records_are_purged_in_batches_and_live_ones_kept() {
    on_each_engine(|s| async move {
        for i in 0..5 {
            s.insert_session(&session(&format!("old-{i}"), &format!("oh{i}"), 5_000))
                .await
                .unwrap();
        }
        s.insert_session(&session("live", "lh", 10_000)).await.unwrap();
        let purge = |kind| {
            let s = s.clone();
            async move { s.purge_expired(kind, Timestamp(5_000), 2).await.unwrap() }
        };
        let batches = [
            purge(Expiring::MemberSessions).await,
            purge(Expiring::MemberSessions).await,
            purge(Expiring::MemberSessions).await,
            purge(Expiring::MemberSessions).await,
        ];
        assert_eq!(batches, [2, 2, 1, 0], "at most one batch per call");
        assert!(s.session_by_id(&"pa".into(), "live").await.unwrap().is_some());
        assert_eq!(s.count_live_sessions(Timestamp(5_000)).await.unwrap(), 1);

        let otp =
            |id: &str, recipient: &str, expires: i64| otp_record("pa", "org-1", id, recipient, Timestamp(expires));
        s.replace_otp(&otp("o-old", "a@acme.test", 4_000)).await.unwrap();
        s.replace_otp(&otp("o-live", "b@acme.test", 9_000)).await.unwrap();
        assert_eq!(purge(Expiring::OtpCodes).await, 1);
        assert!(s
            .otp_for(&"pa".into(), "org-1", "email", "b@acme.test")
            .await
            .unwrap()
            .is_some());

        s.insert_reset_token(&ResetTokenRecord {
            token_hash: "t-old".into(),
            project_id: "pa".into(),
            organization_id: "org-1".into(),
            member_id: "m-1".into(),
            email: "a@acme.test".into(),
            code_challenge: None,
            created_at: Timestamp(1),
            expires_at: Timestamp(5_000),
        })
        .await
        .unwrap();
        assert_eq!(purge(Expiring::PasswordResetTokens).await, 1);
        assert!(s.reset_token(&"pa".into(), "t-old").await.unwrap().is_none());
        assert_eq!(purge(Expiring::IntermediateSessions).await, 0);
    })
    .await;
}

#[tokio::test]
async fn session_with_member_reads_both_in_one_query() {
    on_each_engine(|s| async move {
        let live = session("s-1", "h1", 10_000);
        s.insert_session(&live).await.unwrap();
        let member = s.member_by_id(&"pa".into(), &"m-1".into()).await.unwrap().unwrap();
        for key in [SessionKey::TokenHash("h1".into()), SessionKey::Id("s-1".into())] {
            let found = s.session_with_member(&"pa".into(), &key).await.unwrap().unwrap();
            assert_eq!(found.session, live);
            assert_eq!(found.member, member);
            assert!(!found.member_has_retired_emails);
            assert!(
                s.session_with_member(&"pb".into(), &key).await.unwrap().is_none(),
                "tenant isolation"
            );
        }
        assert!(s
            .session_with_member(&"pa".into(), &SessionKey::TokenHash("nope".into()))
            .await
            .unwrap()
            .is_none());

        let mut renamed = member.clone();
        renamed.email = "new@acme.test".into();
        let retired = RetiredEmail {
            email_id: "e-old".into(),
            email_address: member.email.clone(),
            member_id: "m-1".into(),
        };
        s.update_member(&mut renamed, Some(&retired)).await.unwrap();
        let found = s
            .session_with_member(&"pa".into(), &SessionKey::Id("s-1".into()))
            .await
            .unwrap()
            .unwrap();
        assert!(found.member_has_retired_emails);
        assert_eq!(found.member.email, "new@acme.test");
    })
    .await;
}

#[tokio::test]
async fn signing_keys_rotate() {
    on_each_engine(|s| async move {
        let key = |kid: &str, at: i64| SigningKeyRecord {
            kid: kid.into(),
            project_id: "pa".into(),
            private_pkcs8: String::from("c2VjcmV0").into(),
            created_at: Timestamp(at),
            retired_at: None,
            revoked_at: None,
        };
        s.insert_signing_key(&key("k1", 1)).await.unwrap();
        s.insert_signing_key(&key("k2", 2)).await.unwrap();
        s.retire_signing_keys(&"pa".into(), "k2", Timestamp(3)).await.unwrap();
        let mut keys = s.signing_keys(&"pa".into()).await.unwrap();
        keys.sort_by(|a, b| a.kid.cmp(&b.kid));
        assert_eq!(keys[0].retired_at, Some(Timestamp(3)));
        assert_eq!(keys[1].retired_at, None);
        assert!(s.signing_keys(&"pb".into()).await.unwrap().is_empty());
    })
    .await;
}

/// The `kid` in a JWT's header.
fn kid_of(jwt: &str) -> String {
    use base64::Engine;
    let header = jwt.split('.').next().unwrap();
    let header: serde_json::Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    header["kid"].as_str().unwrap().to_string()
}

/// Two nodes (keyrings with their own caches) on one database and one manual clock: after a
/// rotation on one, every JWT either signs carries a `kid` that both publish, at every moment from
/// the rotation until the old key leaves the JWKS; both switch to the new key at the same time.
#[tokio::test]
async fn a_rotated_key_is_published_by_every_node_before_any_signs_with_it() {
    use latch_core::clock::{Clock, ManualClock};
    use latch_core::cpu::{CpuPool, Priority};
    use latch_core::token::keyring::{Keyring, CACHE_TTL_MS, PREPUBLISH_MS, PUBLISH_RETIRED_MS};
    use std::sync::Arc;
    on_each_engine(|s| async move {
        let clock = Arc::new(ManualClock::new(Timestamp(1_700_000_000_000)));
        let store: Arc<dyn Store> = Arc::new(s.clone());
        let cpu = CpuPool::with_priority(1, Priority::Normal);
        let nodes = [
            Keyring::new(store.clone(), clock.clone(), cpu.clone()),
            Keyring::new(store.clone(), clock.clone(), cpu),
        ];
        let claims = || json!({"sub": "member-1"});
        let kids = |jwks: Vec<latch_core::token::keyring::Jwk>| jwks.into_iter().map(|k| k.kid).collect::<Vec<_>>();
        // Every JWT either node signs now verifies against the JWKS of both; the kids signed.
        let check = |step: &'static str| {
            let nodes = &nodes;
            async move {
                let mut signed = Vec::new();
                for signer in nodes {
                    let kid = kid_of(&signer.sign(&"pa".into(), claims()).await.unwrap());
                    for publisher in nodes {
                        let published = kids(publisher.jwks(&"pa".into()).await.unwrap());
                        assert!(published.contains(&kid), "{step}: {kid} not in {published:?}");
                        assert!(
                            publisher.public_key(&"pa".into(), &kid).await.unwrap().is_some(),
                            "{step}"
                        );
                    }
                    signed.push(kid);
                }
                signed
            }
        };
        let first = check("first key").await;
        assert_eq!(first[0], first[1], "both sign with the first key");
        let old = first[0].clone();

        clock.advance_millis(1_000);
        let rotated = nodes[0]
            .rotate(&"pa".into(), std::time::Duration::from_millis(PREPUBLISH_MS as u64))
            .await
            .unwrap();
        assert_eq!(rotated.signs_from, Timestamp(clock.now().millis() + PREPUBLISH_MS));
        // Until the switch, both still sign with the old key, whatever their caches hold.
        let mut waited = 0;
        while clock.now() < rotated.signs_from {
            assert_eq!(check("pre-publication").await, [old.clone(), old.clone()]);
            if waited > CACHE_TTL_MS {
                for node in &nodes {
                    assert!(kids(node.jwks(&"pa".into()).await.unwrap()).contains(&rotated.kid));
                }
            }
            clock.advance_millis(2_500);
            waited += 2_500;
        }
        assert_eq!(check("switched").await, [rotated.kid.clone(), rotated.kid.clone()]);

        // The old key stays published until every JWT it signed has expired, then leaves the JWKS
        // (while still verifying expired-but-genuine JWTs server-side).
        clock.advance_millis(PUBLISH_RETIRED_MS - 3_000);
        for node in &nodes {
            assert!(kids(node.jwks(&"pa".into()).await.unwrap()).contains(&old));
        }
        clock.advance_millis(3_000 + CACHE_TTL_MS);
        for node in &nodes {
            assert_eq!(kids(node.jwks(&"pa".into()).await.unwrap()), vec![rotated.kid.clone()]);
            assert!(node.public_key(&"pa".into(), &old).await.unwrap().is_some());
        }
    })
    .await;
}

#[tokio::test]
async fn passwords_reset_tokens_and_require_reset() {
    on_each_engine(|s| async move {
        let mut m = member();
        m.member_password_id = "pw-1".into();
        m.email_verified = true;
        let pw = PasswordRecord {
            member_password_id: "pw-1".into(),
            project_id: "pa".into(),
            member_id: "m-1".into(),
            hash: "{\"scheme\":\"argon2\",\"phc\":\"x\"}".into(),
            require_reset: false,
            created_at: Timestamp(1),
            updated_at: Timestamp(1),
        };
        s.save_password(&mut m, &pw).await.unwrap();
        assert_eq!(
            s.password_of(&"pa".into(), &"m-1".into()).await.unwrap().as_ref(),
            Some(&pw)
        );
        let stored = s.member_by_id(&"pa".into(), &"m-1".into()).await.unwrap().unwrap();
        assert_eq!(stored.member_password_id, "pw-1");
        assert!(stored.email_verified);
        assert_eq!(
            s.member_by_password_id(&"pa".into(), &"org-1".into(), "pw-1")
                .await
                .unwrap()
                .unwrap()
                .member_id,
            "m-1"
        );
        // Saving again replaces the one password a member has.
        let pw2 = PasswordRecord {
            member_password_id: "pw-2".into(),
            ..pw.clone()
        };
        m.member_password_id = "pw-2".into();
        s.save_password(&mut m, &pw2).await.unwrap();
        assert_eq!(
            s.password_of(&"pa".into(), &"m-1".into())
                .await
                .unwrap()
                .unwrap()
                .member_password_id,
            "pw-2"
        );
        assert!(s.require_password_reset(&"pa".into(), &"m-1".into()).await.unwrap());
        assert!(
            s.password_of(&"pa".into(), &"m-1".into())
                .await
                .unwrap()
                .unwrap()
                .require_reset
        );
        assert!(
            !s.require_password_reset(&"pb".into(), &"m-1".into()).await.unwrap(),
            "tenant isolation"
        );

        let token = |hash: &str| ResetTokenRecord {
            token_hash: hash.into(),
            project_id: "pa".into(),
            organization_id: "org-1".into(),
            member_id: "m-1".into(),
            email: "a@acme.test".into(),
            code_challenge: Some("c".into()),
            created_at: Timestamp(1),
            expires_at: Timestamp(100),
        };
        s.insert_reset_token(&token("t1")).await.unwrap();
        s.insert_reset_token(&token("t2")).await.unwrap();
        assert!(
            s.reset_token(&"pa".into(), "t1").await.unwrap().is_none(),
            "a new token replaces the old one"
        );
        assert_eq!(s.reset_token(&"pa".into(), "t2").await.unwrap(), Some(token("t2")));
        assert!(s.take_reset_token(&"pa".into(), "t2").await.unwrap());
        assert!(!s.take_reset_token(&"pa".into(), "t2").await.unwrap(), "single use");
        assert_eq!(
            s.members_with_email(&"pa".into(), "a@acme.test").await.unwrap().len(),
            1
        );
        s.delete_password(&"pa".into(), &"m-1".into()).await.unwrap();
        assert!(s.password_of(&"pa".into(), &"m-1".into()).await.unwrap().is_none());
    })
    .await;
}

#[tokio::test]
async fn intermediate_sessions_are_consumed_once() {
    on_each_engine(|s| async move {
        let ist = IntermediateRecord {
            ist_id: "i-1".into(),
            project_id: "pa".into(),
            token_hash: "ih".into(),
            organization_id: None,
            member_id: None,
            email: "a@acme.test".into(),
            // Factor times are kept to the second, as the API carries them.
            factors: vec![AuthFactor::email_otp("e", "a@acme.test", Timestamp(1_000))],
            created_at: Timestamp(1),
            expires_at: Timestamp(100),
        };
        s.insert_intermediate(&ist).await.unwrap();
        let mut bound = ist.clone();
        bound.organization_id = Some("org-1".into());
        bound.member_id = Some("m-1".into());
        bound.factors.push(AuthFactor::password(Timestamp(2_000)));
        s.update_intermediate(&bound).await.unwrap();
        assert_eq!(
            s.intermediate_by_token_hash(&"pa".into(), "ih").await.unwrap(),
            Some(bound)
        );
        assert!(s
            .intermediate_by_token_hash(&"pb".into(), "ih")
            .await
            .unwrap()
            .is_none());
        assert!(s.delete_intermediate(&"pa".into(), "i-1").await.unwrap());
        assert!(!s.delete_intermediate(&"pa".into(), "i-1").await.unwrap());
        s.insert_intermediate(&IntermediateRecord {
            ist_id: "i-2".into(),
            token_hash: "ih2".into(),
            ..ist
        })
        .await
        .unwrap();
        assert_eq!(
            s.purge_expired(Expiring::IntermediateSessions, Timestamp(100), 100)
                .await
                .unwrap(),
            1
        );
    })
    .await;
}

#[tokio::test]
async fn attempt_counters_use_fixed_windows() {
    on_each_engine(|s| async move {
        let w = Timestamp(0);
        assert_eq!(s.bump_attempts("pw", "k", w, Timestamp(10)).await.unwrap(), 1);
        assert_eq!(s.bump_attempts("pw", "k", w, Timestamp(11)).await.unwrap(), 2);
        assert_eq!(s.attempts("pw", "k", w).await.unwrap(), 2);
        assert_eq!(s.attempts("pw", "other", w).await.unwrap(), 0);
        // A window that started before `window_start` restarts at one.
        assert_eq!(
            s.bump_attempts("pw", "k", Timestamp(50), Timestamp(60)).await.unwrap(),
            1
        );
        assert_eq!(s.attempts("pw", "k", Timestamp(50)).await.unwrap(), 1);
        s.clear_attempts("pw", "k").await.unwrap();
        assert_eq!(s.attempts("pw", "k", w).await.unwrap(), 0);
    })
    .await;
}

#[tokio::test]
async fn a_refund_takes_back_one_attempt_and_never_goes_below_zero() {
    on_each_engine(|s| async move {
        let w = Timestamp(0);
        for t in 1..=3 {
            s.bump_attempts("totp", "m", w, Timestamp(t)).await.unwrap();
        }
        s.refund_attempt("totp", "m").await.unwrap();
        assert_eq!(s.attempts("totp", "m", w).await.unwrap(), 2);
        for _ in 0..5 {
            s.refund_attempt("totp", "m").await.unwrap();
        }
        assert_eq!(s.attempts("totp", "m", w).await.unwrap(), 0);
        // No row yet: nothing to take back, and no error.
        s.refund_attempt("totp", "nobody").await.unwrap();
        assert_eq!(s.bump_attempts("totp", "m", w, Timestamp(9)).await.unwrap(), 1);
    })
    .await;
}

#[tokio::test]
async fn concurrent_attempts_are_all_counted() {
    on_each_engine(|s| async move {
        let mut tasks = Vec::new();
        for i in 0..20 {
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                s.bump_attempts("pw", "race", Timestamp(0), Timestamp(i)).await.unwrap()
            }));
        }
        let mut seen: Vec<i64> = Vec::new();
        for t in tasks {
            seen.push(t.await.unwrap());
        }
        seen.sort();
        assert_eq!(seen, (1..=20).collect::<Vec<_>>(), "each failure counted exactly once");
    })
    .await;
}

#[tokio::test]
async fn organization_roles_round_trip() {
    on_each_engine(|s| async move {
        assert!(s.org_roles(&"pa".into(), &"org-1".into()).await.unwrap().is_empty());
        let roles = vec![PolicyRole {
            role_id: "org-reader".into(),
            description: "reads".into(),
            permissions: vec![Permission {
                resource_id: "documents".into(),
                actions: vec!["read".into()],
            }],
        }];
        s.set_org_roles(&"pa".into(), &"org-1".into(), &roles).await.unwrap();
        s.set_org_roles(&"pa".into(), &"org-1".into(), &roles).await.unwrap();
        assert_eq!(s.org_roles(&"pa".into(), &"org-1".into()).await.unwrap(), roles);
    })
    .await;
}

#[tokio::test]
async fn one_live_otp_per_recipient_counted_and_single_use() {
    use latch_core::model::credentials::OtpRecord;
    on_each_engine(|s| async move {
        let otp = |id: &str| OtpRecord {
            member_id: Some("m-1".into()),
            superseded: vec!["s:h".into()],
            ..otp_record("pa", "org-1", id, "a@acme.test", Timestamp(100))
        };
        s.replace_otp(&otp("o1")).await.unwrap();
        s.replace_otp(&otp("o2")).await.unwrap();
        let live = s
            .otp_for(&"pa".into(), "org-1", "email", "a@acme.test")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(live, otp("o2"), "sending replaces the earlier code");
        assert!(s
            .otp_for(&"pb".into(), "org-1", "email", "a@acme.test")
            .await
            .unwrap()
            .is_none());
        assert!(
            s.otp_for(&"pa".into(), "discovery", "email", "a@acme.test")
                .await
                .unwrap()
                .is_none(),
            "scopes are separate"
        );
        assert_eq!(s.otp_attempt(&"pa".into(), "o2", 2).await.unwrap(), Some(1));
        assert_eq!(s.otp_attempt(&"pa".into(), "o2", 2).await.unwrap(), Some(2));
        assert_eq!(
            s.otp_attempt(&"pa".into(), "o2", 2).await.unwrap(),
            None,
            "no attempt past the maximum"
        );
        assert!(s.delete_otp(&"pa".into(), "o2").await.unwrap());
        assert!(!s.delete_otp(&"pa".into(), "o2").await.unwrap(), "single use");
    })
    .await;
}

#[tokio::test]
async fn concurrent_otp_attempts_never_pass_the_maximum() {
    on_each_engine(|s| async move {
        s.replace_otp(&otp_record("pa", "org-1", "race", "r@acme.test", Timestamp(100)))
            .await
            .unwrap();
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                s.otp_attempt(&"pa".into(), "race", 5).await.unwrap()
            }));
        }
        let mut taken: Vec<i64> = Vec::new();
        for t in tasks {
            taken.extend(t.await.unwrap());
        }
        taken.sort();
        assert_eq!(taken, vec![1, 2, 3, 4, 5], "exactly five attempts, each once");
        assert_eq!(s.otp_attempt(&"pa".into(), "gone", 5).await.unwrap(), None);
    })
    .await;
}

#[tokio::test]
async fn totp_steps_are_used_once_and_recovery_codes_once() {
    use latch_core::model::credentials::{RecoveryCodeRecord, TotpRecord};
    on_each_engine(|s| async move {
        let reg = TotpRecord {
            totp_id: "t-1".into(),
            project_id: "pa".into(),
            member_id: "m-1".into(),
            secret: "JBSWY3DPEHPK3PXP".into(),
            active: false,
            last_used_step: 0,
            created_at: Timestamp(1),
            expires_at: Timestamp(100),
        };
        let code = |id: &str| RecoveryCodeRecord {
            code_id: id.into(),
            project_id: "pa".into(),
            member_id: "m-1".into(),
            code_hash: format!("h-{id}"),
            code: Some(format!("code-{id}")),
            hint: "ab12".into(),
            used: false,
            created_at: Timestamp(1),
        };
        s.save_totp(&reg, &[code("c1"), code("c2")]).await.unwrap();
        assert_eq!(s.totp_of(&"pa".into(), &"m-1".into()).await.unwrap(), Some(reg.clone()));
        assert!(s.totp_of(&"pb".into(), &"m-1".into()).await.unwrap().is_none());
        assert!(s.use_totp_step(&"pa".into(), "t-1", 50).await.unwrap());
        assert!(
            !s.use_totp_step(&"pa".into(), "t-1", 50).await.unwrap(),
            "the same step twice"
        );
        assert!(
            !s.use_totp_step(&"pa".into(), "t-1", 49).await.unwrap(),
            "an older step"
        );
        assert!(
            s.totp_of(&"pa".into(), &"m-1".into()).await.unwrap().unwrap().active,
            "first use activates"
        );
        assert!(s.use_recovery_code(&"pa".into(), "c1").await.unwrap());
        assert!(!s.use_recovery_code(&"pa".into(), "c1").await.unwrap());
        let codes = s.recovery_codes(&"pa".into(), &"m-1".into()).await.unwrap();
        assert_eq!(codes.iter().filter(|c| !c.used).count(), 1);
        s.replace_recovery_codes(&"pa".into(), &"m-1".into(), &[code("c3")])
            .await
            .unwrap();
        assert_eq!(
            s.recovery_codes(&"pa".into(), &"m-1".into()).await.unwrap(),
            vec![code("c3")]
        );
        // Saving a new registration replaces the old one and its codes.
        s.save_totp(
            &TotpRecord {
                totp_id: "t-2".into(),
                ..reg
            },
            &[],
        )
        .await
        .unwrap();
        assert_eq!(
            s.totp_of(&"pa".into(), &"m-1".into()).await.unwrap().unwrap().totp_id,
            "t-2"
        );
        assert!(s.recovery_codes(&"pa".into(), &"m-1".into()).await.unwrap().is_empty());
        s.delete_totp(&"pa".into(), &"m-1".into()).await.unwrap();
        assert!(s.totp_of(&"pa".into(), &"m-1".into()).await.unwrap().is_none());
    })
    .await;
}

#[tokio::test]
async fn outbox_messages_are_purged_by_creation_time() {
    on_each_engine(|s| async move {
        let message = |id: &str, created: i64| latch_testkit::fixtures::message("pa", id, Timestamp(created));
        for (id, created) in [("m-old-1", 1_000), ("m-old-2", 5_000), ("m-new", 5_001)] {
            s.insert_message(&message(id, created)).await.unwrap();
        }
        assert_eq!(
            s.purge_expired(Expiring::OutboxMessages, Timestamp(5_000), 1)
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            s.purge_expired(Expiring::OutboxMessages, Timestamp(5_000), 10)
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            s.purge_expired(Expiring::OutboxMessages, Timestamp(5_000), 10)
                .await
                .unwrap(),
            0
        );
        let left: Vec<String> = s
            .list_messages(&"pa".into(), None, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.message_id)
            .collect();
        assert_eq!(left, ["m-new"]);
    })
    .await;
}

#[tokio::test]
async fn methods_keyed_by_a_record_id_touch_nothing_in_another_project() {
    use latch_core::model::credentials::{RecoveryCodeRecord, TotpRecord};
    on_each_engine(|s| async move {
        // Organization roles: another project neither reads nor replaces them.
        let roles = vec![PolicyRole {
            role_id: "org-reader".into(),
            description: "reads".into(),
            permissions: vec![],
        }];
        s.set_org_roles(&"pa".into(), &"org-1".into(), &roles).await.unwrap();
        assert!(s.org_roles(&"pb".into(), &"org-1".into()).await.unwrap().is_empty());
        s.set_org_roles(&"pb".into(), &"org-1".into(), &[]).await.unwrap();
        assert_eq!(s.org_roles(&"pa".into(), &"org-1".into()).await.unwrap(), roles);

        // OTP attempts and use.
        s.replace_otp(&otp_record("pa", "org-1", "o1", "a@acme.test", Timestamp(100)))
            .await
            .unwrap();
        assert_eq!(s.otp_attempt(&"pb".into(), "o1", 5).await.unwrap(), None);
        assert!(!s.delete_otp(&"pb".into(), "o1").await.unwrap());
        let otp = s
            .otp_for(&"pa".into(), "org-1", "email", "a@acme.test")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(otp.attempts, 0, "no attempt taken from another project");

        // TOTP steps and recovery codes.
        let reg = TotpRecord {
            totp_id: "t-1".into(),
            project_id: "pa".into(),
            member_id: "m-1".into(),
            secret: "JBSWY3DPEHPK3PXP".into(),
            active: false,
            last_used_step: 0,
            created_at: Timestamp(1),
            expires_at: Timestamp(100),
        };
        let code = RecoveryCodeRecord {
            code_id: "c1".into(),
            project_id: "pa".into(),
            member_id: "m-1".into(),
            code_hash: "h-c1".into(),
            code: None,
            hint: "ab12".into(),
            used: false,
            created_at: Timestamp(1),
        };
        s.save_totp(&reg, std::slice::from_ref(&code)).await.unwrap();
        assert!(!s.use_totp_step(&"pb".into(), "t-1", 50).await.unwrap());
        assert!(!s.use_recovery_code(&"pb".into(), "c1").await.unwrap());
        assert_eq!(s.totp_of(&"pa".into(), &"m-1".into()).await.unwrap(), Some(reg));
        assert_eq!(s.recovery_codes(&"pa".into(), &"m-1".into()).await.unwrap(), vec![code]);
        // The owning project still can.
        assert!(s.use_totp_step(&"pa".into(), "t-1", 50).await.unwrap());
        assert!(s.use_recovery_code(&"pa".into(), "c1").await.unwrap());
        assert_eq!(s.otp_attempt(&"pa".into(), "o1", 5).await.unwrap(), Some(1));
        assert!(s.delete_otp(&"pa".into(), "o1").await.unwrap());
    })
    .await;
}

#[tokio::test]
async fn a_session_touch_moves_only_the_access_time_and_only_forward() {
    on_each_engine(|s| async move {
        let read = session("s-1", "h1", 10_000);
        s.insert_session(&read).await.unwrap();
        // An MFA step adds a factor after a plain check read the session; the check's touch
        // must not write the old factors back.
        let mut stepped = read.clone();
        stepped.factors.push(AuthFactor::password(Timestamp(5_000)));
        s.update_session(&stepped).await.unwrap();
        s.touch_session(&"pa".into(), "s-1", Timestamp(2_000)).await.unwrap();
        let stored = s.session_by_id(&"pa".into(), "s-1").await.unwrap().unwrap();
        assert_eq!(stored.factors, stepped.factors);
        assert_eq!(stored.last_accessed_at, Timestamp(2_000));
        s.touch_session(&"pa".into(), "s-1", Timestamp(1_200)).await.unwrap();
        s.touch_session(&"pb".into(), "s-1", Timestamp(9_000)).await.unwrap();
        assert_eq!(
            s.session_by_id(&"pa".into(), "s-1")
                .await
                .unwrap()
                .unwrap()
                .last_accessed_at,
            Timestamp(2_000),
            "never backward, never from another project"
        );
    })
    .await;
}

fn link(hash: &str, purpose: LinkPurpose, expires: i64) -> MagicLinkRecord {
    let discovery = purpose == LinkPurpose::Discovery;
    MagicLinkRecord {
        token_hash: hash.into(),
        project_id: "pa".into(),
        purpose,
        organization_id: (!discovery).then(|| "org-1".into()),
        member_id: (!discovery).then(|| "m-1".into()),
        email: "a@acme.test".into(),
        code_challenge: Some("challenge".into()),
        created_at: Timestamp(1),
        expires_at: Timestamp(expires),
        used_at: None,
    }
}

#[tokio::test]
async fn magic_links_are_used_once_until_expiry_and_only_in_their_project() {
    on_each_engine(|s| async move {
        s.insert_magic_link(&link("l-login", LinkPurpose::Login, 100), false)
            .await
            .unwrap();
        s.insert_magic_link(&link("l-disc", LinkPurpose::Discovery, 100), false)
            .await
            .unwrap();
        assert_eq!(
            s.magic_link(&"pa".into(), "l-login").await.unwrap(),
            Some(link("l-login", LinkPurpose::Login, 100))
        );
        assert_eq!(
            s.magic_link(&"pa".into(), "l-disc").await.unwrap(),
            Some(link("l-disc", LinkPurpose::Discovery, 100))
        );
        assert!(
            s.magic_link(&"pb".into(), "l-login").await.unwrap().is_none(),
            "tenant isolation"
        );
        assert!(!s.use_magic_link(&"pb".into(), "l-login", Timestamp(50)).await.unwrap());
        assert!(
            !s.use_magic_link(&"pa".into(), "l-login", Timestamp(100)).await.unwrap(),
            "expired"
        );
        assert!(s.use_magic_link(&"pa".into(), "l-login", Timestamp(50)).await.unwrap());
        assert!(
            !s.use_magic_link(&"pa".into(), "l-login", Timestamp(51)).await.unwrap(),
            "single use"
        );
        assert_eq!(
            s.magic_link(&"pa".into(), "l-login").await.unwrap().unwrap().used_at,
            Some(Timestamp(50)),
            "a used link is kept, so a second use is told apart from an unknown token"
        );
        // A redemption that failed gives the link back.
        s.unuse_magic_link(&"pa".into(), "l-login").await.unwrap();
        assert!(s.use_magic_link(&"pa".into(), "l-login", Timestamp(52)).await.unwrap());

        // An email-update link supersedes the member's unused one; other purposes stay.
        s.insert_magic_link(&link("u-1", LinkPurpose::EmailUpdate, 100), true)
            .await
            .unwrap();
        s.insert_magic_link(&link("i-1", LinkPurpose::Invite, 100), false)
            .await
            .unwrap();
        s.insert_magic_link(&link("u-2", LinkPurpose::EmailUpdate, 100), true)
            .await
            .unwrap();
        assert!(s.magic_link(&"pa".into(), "u-1").await.unwrap().is_none());
        assert!(s.magic_link(&"pa".into(), "u-2").await.unwrap().is_some());
        assert!(s.magic_link(&"pa".into(), "i-1").await.unwrap().is_some());

        s.delete_magic_link(&"pb".into(), "u-2").await.unwrap();
        assert!(
            s.magic_link(&"pa".into(), "u-2").await.unwrap().is_some(),
            "tenant isolation"
        );
        s.delete_magic_link(&"pa".into(), "u-2").await.unwrap();
        assert!(s.magic_link(&"pa".into(), "u-2").await.unwrap().is_none());
        s.delete_member_magic_links(&"pa".into(), &"m-1".into()).await.unwrap();
        assert!(s.magic_link(&"pa".into(), "i-1").await.unwrap().is_none());
        assert!(
            s.magic_link(&"pa".into(), "l-disc").await.unwrap().is_some(),
            "not the member's"
        );

        assert_eq!(
            s.purge_expired(Expiring::MagicLinks, Timestamp(100), 10).await.unwrap(),
            1
        );
        assert!(s.magic_link(&"pa".into(), "l-disc").await.unwrap().is_none());
    })
    .await;
}

#[tokio::test]
async fn concurrent_uses_of_one_magic_link_let_exactly_one_through() {
    on_each_engine(|s| async move {
        s.insert_magic_link(&link("race", LinkPurpose::Login, 1_000), false)
            .await
            .unwrap();
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                s.use_magic_link(&"pa".into(), "race", Timestamp(10)).await.unwrap()
            }));
        }
        let mut wins = 0;
        for t in tasks {
            wins += usize::from(t.await.unwrap());
        }
        assert_eq!(wins, 1);
    })
    .await;
}

#[tokio::test]
async fn an_email_update_holds_its_address_until_it_expires_or_the_email_changes() {
    on_each_engine(|s| async move {
        let update = |email: &str, expires: i64| EmailUpdateRecord {
            project_id: "pa".into(),
            organization_id: "org-1".into(),
            member_id: "m-1".into(),
            new_email: email.into(),
            created_at: Timestamp(1),
            expires_at: Timestamp(expires),
        };
        s.save_email_update(&update("new@acme.test", 100)).await.unwrap();
        s.save_email_update(&update("newer@acme.test", 100)).await.unwrap();
        assert_eq!(
            s.email_update_of(&"pa".into(), &"m-1".into()).await.unwrap(),
            Some(update("newer@acme.test", 100)),
            "one pending update per member"
        );
        assert!(s
            .email_update_to(&"pa".into(), &"org-1".into(), "new@acme.test", Timestamp(5))
            .await
            .unwrap()
            .is_none());
        assert!(s
            .email_update_to(&"pa".into(), &"org-1".into(), "newer@acme.test", Timestamp(5))
            .await
            .unwrap()
            .is_some());
        assert!(
            s.email_update_to(&"pa".into(), &"org-1".into(), "newer@acme.test", Timestamp(100))
                .await
                .unwrap()
                .is_none(),
            "expired"
        );
        assert!(
            s.email_update_of(&"pb".into(), &"m-1".into()).await.unwrap().is_none(),
            "tenant isolation"
        );

        // Changing the member's email ends the pending update and the unused links with it.
        s.insert_magic_link(&link("to-old", LinkPurpose::Login, 100), false)
            .await
            .unwrap();
        let mut m = member();
        m.email = "newer@acme.test".into();
        let retired = RetiredEmail {
            email_id: "email-old".into(),
            email_address: "a@acme.test".into(),
            member_id: "m-1".into(),
        };
        s.change_member_email(&mut m, Some(&retired)).await.unwrap();
        assert!(s.email_update_of(&"pa".into(), &"m-1".into()).await.unwrap().is_none());
        assert!(s.magic_link(&"pa".into(), "to-old").await.unwrap().is_none());
        s.save_email_update(&update("x@acme.test", 50)).await.unwrap();
        assert_eq!(
            s.purge_expired(Expiring::EmailUpdates, Timestamp(50), 10)
                .await
                .unwrap(),
            1
        );
    })
    .await;
}

#[tokio::test]
async fn sso_connections_registrations_and_one_time_records() {
    use latch_core::model::sso::{
        OidcConnectionRecord, SsoIdentity, SsoRegistration, SsoStateRecord, SsoTokenRecord, TripDestination,
    };
    on_each_engine(|s| async move {
        // Public tokens name their project.
        s.insert_public_token(&"pa".into(), "public-token-test-a", Timestamp(1))
            .await
            .unwrap();
        assert_eq!(
            s.public_tokens(&"pa".into()).await.unwrap(),
            vec!["public-token-test-a"]
        );
        assert_eq!(
            s.project_of_public_token("public-token-test-a")
                .await
                .unwrap()
                .as_deref(),
            Some("pa")
        );
        assert!(s
            .project_of_public_token("public-token-test-b")
            .await
            .unwrap()
            .is_none());

        let mut c = OidcConnectionRecord {
            connection_id: "oidc-1".into(),
            project_id: "pa".into(),
            organization_id: "org-1".into(),
            display_name: "IdP".into(),
            identity_provider: "okta".into(),
            issuer: "https://idp.test".into(),
            client_id: "cid".into(),
            client_secret: "cs".into(),
            authorization_url: "https://idp.test/auth".into(),
            token_url: "https://idp.test/token".into(),
            userinfo_url: "https://idp.test/userinfo".into(),
            jwks_url: "https://idp.test/jwks".into(),
            custom_scopes: "openid email".into(),
            attribute_mapping: json!({"department": "dept"}).as_object().unwrap().clone(),
            created_at: Timestamp(1),
            updated_at: Timestamp(1),
        };
        s.save_oidc_connection(&c).await.unwrap();
        c.display_name = "Renamed".into();
        c.updated_at = Timestamp(2);
        s.save_oidc_connection(&c).await.unwrap();
        assert_eq!(
            s.oidc_connection(&"pa".into(), "oidc-1").await.unwrap(),
            Some(c.clone())
        );
        assert_eq!(
            s.oidc_connections(&"pa".into(), &"org-1".into()).await.unwrap(),
            vec![c.clone()]
        );
        assert!(
            s.oidc_connection(&"pb".into(), "oidc-1").await.unwrap().is_none(),
            "tenant isolation"
        );

        // A subject registers once per connection.
        let reg = SsoRegistration {
            connection_id: "oidc-1".into(),
            external_id: "alice".into(),
            registration_id: "reg-1".into(),
            sso_attributes: json!({"department": "eng"}).as_object().unwrap().clone(),
            member_id: "m-1".into(),
            project_id: "pa".into(),
            organization_id: "org-1".into(),
            created_at: Timestamp(3),
        };
        s.insert_sso_registration(&reg).await.unwrap();
        let twice = SsoRegistration {
            registration_id: "reg-2".into(),
            ..reg.clone()
        };
        assert!(s.insert_sso_registration(&twice).await.is_err());
        assert_eq!(
            s.sso_registration(&"pa".into(), "oidc-1", "alice").await.unwrap(),
            Some(reg.clone())
        );
        assert!(s
            .sso_registration(&"pb".into(), "oidc-1", "alice")
            .await
            .unwrap()
            .is_none());
        assert_eq!(
            s.sso_registrations(&"pa".into(), &["m-1".into()]).await.unwrap(),
            vec![reg]
        );

        // A state is taken once.
        let state = SsoStateRecord {
            state_hash: "st-1".into(),
            project_id: "pa".into(),
            destination: TripDestination::Sso {
                connection_id: "oidc-1".into(),
            },
            browser_hash: "b".into(),
            nonce: "n".into(),
            pkce_verifier: "v".into(),
            code_challenge: None,
            login_redirect_url: "https://app.test/login".into(),
            signup_redirect_url: "https://app.test/signup".into(),
            created_at: Timestamp(1),
            expires_at: Timestamp(100),
        };
        s.insert_sso_state(&state).await.unwrap();
        assert_eq!(s.sso_state_project("st-1").await.unwrap().as_deref(), Some("pa"));
        assert!(s.take_sso_state(&"pb".into(), "st-1").await.unwrap().is_none());
        assert_eq!(s.take_sso_state(&"pa".into(), "st-1").await.unwrap(), Some(state));
        assert!(
            s.take_sso_state(&"pa".into(), "st-1").await.unwrap().is_none(),
            "single use"
        );

        // So is a token, which keeps the identity the provider vouched for.
        let token = SsoTokenRecord {
            token_hash: "tok-1".into(),
            project_id: "pa".into(),
            organization_id: "org-1".into(),
            connection_id: "oidc-1".into(),
            identity: SsoIdentity {
                subject: "alice".into(),
                email: Some("alice@acme.test".into()),
                email_verified: Some(true),
                name: None,
                claims: Default::default(),
            },
            code_challenge: Some("c".into()),
            created_at: Timestamp(1),
            expires_at: Timestamp(100),
        };
        s.insert_sso_token(&token).await.unwrap();
        assert_eq!(s.sso_token(&"pa".into(), "tok-1").await.unwrap(), Some(token));
        assert!(s.sso_token(&"pb".into(), "tok-1").await.unwrap().is_none());
        assert!(!s.take_sso_token(&"pb".into(), "tok-1").await.unwrap());
        assert!(s.take_sso_token(&"pa".into(), "tok-1").await.unwrap());
        assert!(!s.take_sso_token(&"pa".into(), "tok-1").await.unwrap(), "single use");

        // Deleting a connection deletes the registrations made through it.
        assert!(!s.delete_oidc_connection(&"pb".into(), "oidc-1").await.unwrap());
        assert!(s.delete_oidc_connection(&"pa".into(), "oidc-1").await.unwrap());
        assert!(s.oidc_connection(&"pa".into(), "oidc-1").await.unwrap().is_none());
        assert!(s
            .sso_registrations(&"pa".into(), &["m-1".into()])
            .await
            .unwrap()
            .is_empty());
    })
    .await;
}

#[tokio::test]
async fn oauth_trips_tokens_and_registrations() {
    use latch_core::model::oauth::{OAuthProvider, OAuthRegistrationRecord, OAuthTokenRecord, ProviderTokens};
    use latch_core::model::sso::{SsoIdentity, SsoStateRecord, TripDestination};
    on_each_engine(|s| async move {
        // A trip to an OAuth provider keeps its provider and organization (none for discovery).
        for (hash, org) in [("st-org", Some("org-1".into())), ("st-disc", None)] {
            let state = SsoStateRecord {
                state_hash: hash.into(),
                project_id: "pa".into(),
                destination: TripDestination::OAuth {
                    provider: OAuthProvider::Microsoft,
                    organization_id: org,
                },
                browser_hash: "b".into(),
                nonce: "n".into(),
                pkce_verifier: "v".into(),
                code_challenge: Some("c".into()),
                login_redirect_url: "https://app.test/login".into(),
                signup_redirect_url: "https://app.test/signup".into(),
                created_at: Timestamp(1),
                expires_at: Timestamp(100),
            };
            s.insert_sso_state(&state).await.unwrap();
            assert_eq!(s.take_sso_state(&"pa".into(), hash).await.unwrap(), Some(state));
        }

        let tokens = ProviderTokens {
            access_token: "at-1".into(),
            refresh_token: Some("rt-1".into()),
            id_token: "id-1".into(),
            expires_at: Some(Timestamp(5_000)),
            scopes: vec!["openid".into(), "email".into()],
        };
        let identity = SsoIdentity {
            subject: "g-alice".into(),
            email: Some("alice@acme.test".into()),
            email_verified: Some(true),
            name: Some("Alice".into()),
            claims: Default::default(),
        };
        for (hash, org) in [("tok-org", Some("org-1".into())), ("tok-disc", None)] {
            let t = OAuthTokenRecord {
                token_hash: hash.into(),
                project_id: "pa".into(),
                organization_id: org,
                provider: OAuthProvider::Google,
                identity: identity.clone(),
                tokens: tokens.clone(),
                code_challenge: None,
                created_at: Timestamp(1),
                expires_at: Timestamp(100),
            };
            s.insert_oauth_token(&t).await.unwrap();
            assert_eq!(s.oauth_token(&"pa".into(), hash).await.unwrap(), Some(t));
            assert!(
                s.oauth_token(&"pb".into(), hash).await.unwrap().is_none(),
                "tenant isolation"
            );
            assert!(!s.take_oauth_token(&"pb".into(), hash).await.unwrap());
            assert!(s.take_oauth_token(&"pa".into(), hash).await.unwrap());
            assert!(!s.take_oauth_token(&"pa".into(), hash).await.unwrap(), "single use");
        }

        // A registration is saved again with new tokens; a subject registers once per
        // organization and provider.
        let mut reg = OAuthRegistrationRecord {
            registration_id: "oreg-1".into(),
            project_id: "pa".into(),
            organization_id: "org-1".into(),
            member_id: "m-1".into(),
            provider: OAuthProvider::Google,
            subject: "g-alice".into(),
            profile_picture_url: Some("https://img.test/a.png".into()),
            locale: None,
            tokens,
            created_at: Timestamp(1),
            updated_at: Timestamp(1),
        };
        s.save_oauth_registration(&reg).await.unwrap();
        reg.tokens.access_token = "at-2".into();
        reg.locale = Some("en".into());
        reg.updated_at = Timestamp(2);
        s.save_oauth_registration(&reg).await.unwrap();
        assert_eq!(
            s.oauth_registration(&"pa".into(), &"org-1".into(), OAuthProvider::Google, "g-alice")
                .await
                .unwrap(),
            Some(reg.clone())
        );
        assert!(s
            .oauth_registration(&"pa".into(), &"org-1".into(), OAuthProvider::Microsoft, "g-alice")
            .await
            .unwrap()
            .is_none());
        assert!(s
            .oauth_registration(&"pb".into(), &"org-1".into(), OAuthProvider::Google, "g-alice")
            .await
            .unwrap()
            .is_none());
        let twice = OAuthRegistrationRecord {
            registration_id: "oreg-2".into(),
            ..reg.clone()
        };
        assert!(matches!(
            s.save_oauth_registration(&twice).await,
            Err(latch_core::error::StoreError::UniqueViolation)
        ));
        assert_eq!(
            s.oauth_registrations(&"pa".into(), &["m-1".into()]).await.unwrap(),
            vec![reg]
        );
        assert!(s
            .oauth_registrations(&"pb".into(), &["m-1".into()])
            .await
            .unwrap()
            .is_empty());
    })
    .await;
}

#[tokio::test]
async fn saml_connections_assertion_replay_cache_and_registrations() {
    use latch_core::model::saml::{SamlConfig, SamlConnectionRecord, SamlSecrets, X509Certificate};
    use latch_core::model::sso::SsoRegistration;
    on_each_engine(|s| async move {
        let cert = X509Certificate {
            certificate_id: "x509-1".into(),
            certificate: "-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n".into(),
            issuer: "Latch".into(),
            // Whole seconds: the config is kept as its wire JSON (RFC 3339 to the second).
            created_at: Timestamp(1_000),
            expires_at: Timestamp(9_000),
            updated_at: Timestamp(1_000),
        };
        let mut c = SamlConnectionRecord {
            connection_id: "saml-connection-1".into(),
            project_id: "pa".into(),
            organization_id: "org-1".into(),
            config: SamlConfig {
                display_name: "IdP".into(),
                identity_provider: "okta".into(),
                idp_entity_id: "https://idp.test".into(),
                idp_sso_url: "https://idp.test/sso".into(),
                attribute_mapping: json!({"email": "mail", "groups": "memberOf"})
                    .as_object()
                    .unwrap()
                    .clone(),
                nameid_format: latch_core::model::saml::DEFAULT_NAMEID_FORMAT.into(),
                alternative_audience_uri: String::new(),
                alternative_acs_url: String::new(),
                idp_initiated_auth_disabled: false,
                allow_gateway_callback: false,
                connection_roles: vec![],
                group_roles: vec![],
                signing_certificate: cert.clone(),
                verification_certificates: vec![cert],
                encryption_keys: vec![],
            },
            secrets: SamlSecrets {
                signing_private_key: "-----BEGIN RSA PRIVATE KEY-----\nsecret-key\n".into(),
                encryption_private_keys: json!({"k1": "-----BEGIN RSA PRIVATE KEY-----\nenc\n"})
                    .as_object()
                    .unwrap()
                    .clone(),
            },
            created_at: Timestamp(1),
            updated_at: Timestamp(1),
        };
        s.save_saml_connection(&c).await.unwrap();
        c.config.display_name = "Renamed".into();
        c.updated_at = Timestamp(2);
        s.save_saml_connection(&c).await.unwrap();
        assert_eq!(
            s.saml_connection(&"pa".into(), "saml-connection-1").await.unwrap(),
            Some(c.clone())
        );
        assert_eq!(
            s.saml_connections(&"pa".into(), &"org-1".into()).await.unwrap(),
            vec![c.clone()]
        );
        assert_eq!(
            s.find_saml_connection("saml-connection-1").await.unwrap(),
            Some(c.clone())
        );
        assert!(
            s.saml_connection(&"pb".into(), "saml-connection-1")
                .await
                .unwrap()
                .is_none(),
            "tenant isolation"
        );

        // An assertion is accepted once, however many posts race for it.
        let mut attempts = tokio::task::JoinSet::new();
        for _ in 0..20 {
            let s = s.clone();
            attempts.spawn(async move {
                s.record_saml_assertion(&"pa".into(), "assertion-key-1", Timestamp(50))
                    .await
                    .unwrap()
            });
        }
        let accepted = attempts.join_all().await;
        assert_eq!(accepted.iter().filter(|a| **a).count(), 1);
        assert!(s
            .record_saml_assertion(&"pa".into(), "assertion-key-2", Timestamp(10))
            .await
            .unwrap());
        assert_eq!(
            s.purge_expired(Expiring::SamlAssertions, Timestamp(20), 10)
                .await
                .unwrap(),
            1,
            "only the expired key goes"
        );
        assert!(!s
            .record_saml_assertion(&"pa".into(), "assertion-key-1", Timestamp(60))
            .await
            .unwrap());

        // Deleting the connection takes its registrations with it.
        let reg = SsoRegistration {
            connection_id: "saml-connection-1".into(),
            external_id: "alice@acme.test".into(),
            registration_id: "reg-saml-1".into(),
            sso_attributes: json!({}).as_object().unwrap().clone(),
            member_id: "m-1".into(),
            project_id: "pa".into(),
            organization_id: "org-1".into(),
            created_at: Timestamp(3),
        };
        s.insert_sso_registration(&reg).await.unwrap();
        assert_eq!(
            s.sso_registrations_of_connection(&"pa".into(), "saml-connection-1")
                .await
                .unwrap(),
            vec![reg]
        );
        assert!(!s
            .delete_saml_connection(&"pb".into(), "saml-connection-1")
            .await
            .unwrap());
        assert!(s
            .delete_saml_connection(&"pa".into(), "saml-connection-1")
            .await
            .unwrap());
        assert!(s.find_saml_connection("saml-connection-1").await.unwrap().is_none());
        assert!(s
            .sso_registration(&"pa".into(), "saml-connection-1", "alice@acme.test")
            .await
            .unwrap()
            .is_none());
    })
    .await;
}
