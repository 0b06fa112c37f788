//! The audit trail: append-only in the database, sealed in order, and `verify` names the first bad record.

use crate::support::*;
use fengqiao_domain::audit::Breach;

/// Makes a server with a sealed chain of at least ten records and returns it.
async fn sealed_server(backend: &'static str) -> Server {
    let s = Server::start(backend).await;
    for i in 0..4 {
        s.user(
            &format!("user{i}"),
            "intake_clerk",
            &format!("region:{TOWN_A}"),
            false,
        )
        .await;
        s.login(&format!("user{i}")).await;
    }
    let sealed = s.app.seal_audit().await.expect("seal");
    assert!(sealed >= 10, "{backend}: {sealed}");
    let outcome = s.app.verify_audit().await.expect("verify");
    assert!(outcome.ok, "{backend}: {outcome:?}");
    assert_eq!(outcome.unsealed, 0);
    assert_eq!(
        outcome.checkpoint_seq,
        Some(outcome.chain.head_seq),
        "{backend}: the checkpoint file holds the head"
    );
    s
}

/// Drops the append-only guard, as an attacker with database access would.
async fn drop_guard(s: &Server) {
    let sql = match s.backend {
        "sqlite" => "DROP TRIGGER audit_log_no_delete; DROP TRIGGER audit_log_seal_once;",
        _ => "DROP TRIGGER audit_log_append_only ON audit_log;",
    };
    s.app.store.execute_raw(sql).await.expect("drop the guard");
}

async fn first_bad(s: &Server) -> (i64, Breach) {
    let outcome = s.app.verify_audit().await.expect("verify");
    assert!(!outcome.ok);
    let bad = outcome.chain.first_bad.expect("a breach");
    (bad.chain_seq, bad.breach)
}

#[tokio::test]
async fn the_database_refuses_to_change_or_delete_records() -> TestResult {
    for backend in backends() {
        let s = sealed_server(backend).await;
        assert!(
            s.app
                .store
                .execute_raw("UPDATE audit_log SET result = 'ok' WHERE chain_seq = 2")
                .await
                .is_err(),
            "{backend}"
        );
        assert!(
            s.app
                .store
                .execute_raw("DELETE FROM audit_log WHERE chain_seq = 2")
                .await
                .is_err(),
            "{backend}"
        );
        assert!(s.app.verify_audit().await?.ok);
    }
    Ok(())
}

#[tokio::test]
async fn verify_catches_an_altered_record() -> TestResult {
    for backend in backends() {
        let s = sealed_server(backend).await;
        drop_guard(&s).await;
        s.app
            .store
            .execute_raw("UPDATE audit_log SET source = '10.0.0.9' WHERE chain_seq = 3")
            .await?;
        assert_eq!(first_bad(&s).await, (3, Breach::Altered), "{backend}");
    }
    Ok(())
}

#[tokio::test]
async fn verify_catches_a_deleted_record() -> TestResult {
    for backend in backends() {
        let s = sealed_server(backend).await;
        drop_guard(&s).await;
        s.app
            .store
            .execute_raw("DELETE FROM audit_log WHERE chain_seq = 4")
            .await?;
        assert_eq!(first_bad(&s).await, (4, Breach::Missing), "{backend}");
    }
    Ok(())
}

#[tokio::test]
async fn verify_catches_reordered_records() -> TestResult {
    for backend in backends() {
        let s = sealed_server(backend).await;
        drop_guard(&s).await;
        // Swap the chain positions of records 5 and 6 (hashes stay with their rows).
        s.app
            .store
            .execute_raw("UPDATE audit_log SET chain_seq = -5 WHERE chain_seq = 5")
            .await?;
        s.app
            .store
            .execute_raw("UPDATE audit_log SET chain_seq = 5 WHERE chain_seq = 6")
            .await?;
        s.app
            .store
            .execute_raw("UPDATE audit_log SET chain_seq = 6 WHERE chain_seq = -5")
            .await?;
        assert_eq!(first_bad(&s).await, (5, Breach::Altered), "{backend}");
    }
    Ok(())
}

#[tokio::test]
async fn verify_catches_a_cut_off_tail_against_the_checkpoint() -> TestResult {
    for backend in backends() {
        let s = sealed_server(backend).await;
        let head = s.app.verify_audit().await?.chain.head_seq;
        drop_guard(&s).await;
        s.app
            .store
            .execute_raw(&format!(
                "DELETE FROM audit_log WHERE chain_seq >= {}",
                head - 1
            ))
            .await?;
        // The remaining chain is internally consistent; only the checkpoint outside the database shows the cut.
        assert_eq!(
            first_bad(&s).await,
            (head - 1, Breach::Truncated),
            "{backend}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn verify_catches_a_rewritten_chain_against_the_checkpoint() -> TestResult {
    for backend in backends() {
        let s = sealed_server(backend).await;
        let head = s.app.verify_audit().await?.chain.head_seq;
        drop_guard(&s).await;
        // Rewrite the tail and reseal it so the chain is consistent in itself.
        s.app.store.execute_raw(&format!("UPDATE audit_log SET chain_seq = NULL, hash = NULL, detail = '{{\"rewritten\": true}}' WHERE chain_seq >= {}", head - 2)).await?;
        // Keep the checkpoint file as it was: a resealing attacker cannot rewrite it, so copy it aside.
        let checkpoint = s.dir.path().join("audit-checkpoint.json");
        let kept = std::fs::read(&checkpoint)?;
        s.app.seal_audit().await?;
        std::fs::write(&checkpoint, kept)?;
        assert_eq!(
            first_bad(&s).await,
            (head, Breach::CheckpointMismatch),
            "{backend}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn unsealed_records_are_reported_as_such_and_writers_do_not_wait_on_the_chain() -> TestResult
{
    for backend in backends() {
        let s = sealed_server(backend).await;
        // Many concurrent writers, no sealer: all commit; the chain head does not serialise them.
        let mut tasks = Vec::new();
        for i in 0..20 {
            let app = s.app.clone();
            tasks.push(tokio::spawn(async move {
                let draft = fengqiao_store::AuditDraft {
                    at: app.now(),
                    actor: format!("user:{i}"),
                    action: "test.write".into(),
                    object: "x".into(),
                    result: "ok".into(),
                    source: "test".into(),
                    detail: serde_json::json!({ "i": i }),
                };
                app.store.append_audit(&[draft]).await
            }));
        }
        for task in tasks {
            task.await??;
        }
        let outcome = s.app.verify_audit().await?;
        assert!(outcome.ok, "{backend}");
        assert_eq!(outcome.unsealed, 20, "{backend}");
        s.app.seal_audit().await?;
        let outcome = s.app.verify_audit().await?;
        assert!(
            outcome.ok && outcome.unsealed == 0,
            "{backend}: {outcome:?}"
        );
    }
    Ok(())
}
