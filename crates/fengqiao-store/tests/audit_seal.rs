//! Sealing the audit trail with two sealers at once (two stores on one database stand for two servers, or a
//! server and the command line) while records keep arriving: the chain stays one unbroken sequence with every
//! record on it exactly once. Runs on SQLite and, when `FQ_TEST_POSTGRES_URL` is set, on PostgreSQL.

use chrono::{TimeZone, Utc};
use fengqiao_domain::audit::ChainVerifier;
use fengqiao_store::*;

mod common;

fn draft(i: usize) -> AuditDraft {
    AuditDraft {
        at: Utc
            .with_ymd_and_hms(2026, 11, 23, 2, 0, 0)
            .single()
            .expect("time"),
        actor: format!("user:{i}"),
        action: "case.register".into(),
        object: format!("case:{i}"),
        result: "ok".into(),
        source: "test".into(),
        detail: serde_json::json!({ "i": i }),
    }
}

#[tokio::test]
async fn two_sealers_at_once_keep_one_unbroken_chain() {
    let dir = tempfile::tempdir().expect("temp dir");
    for url in common::database_urls(dir.path(), "seal").await {
        let a = Store::connect(&url).await.expect("connect");
        a.migrate().await.expect("migrate");
        let b = Store::connect(&url).await.expect("connect");
        let backend = format!("{:?}", a.backend());
        let mut written = 0;
        let mut sealed = 0;
        for round in 0..20 {
            let drafts: Vec<AuditDraft> = (0..37).map(|i| draft(round * 100 + i)).collect();
            a.append_audit(&drafts).await.expect("append");
            written += drafts.len() as i64;
            let (x, y) = tokio::join!(a.seal_audit(25), b.seal_audit(25));
            sealed += x.expect("seal a").sealed_now + y.expect("seal b").sealed_now;
        }
        // Whatever is left, sealed by either.
        loop {
            let n = b.seal_audit(25).await.expect("seal").sealed_now;
            if n == 0 {
                break;
            }
            sealed += n;
        }
        assert_eq!(sealed, written, "{backend}: every record sealed once");
        assert_eq!(
            a.unsealed_audit_count().await.expect("count"),
            0,
            "{backend}"
        );
        let mut verifier = ChainVerifier::new(None);
        let mut after = 0;
        loop {
            let records = a.audit_chain(after, 100).await.expect("chain");
            let Some(last) = records.last() else { break };
            after = last.chain_seq;
            for record in &records {
                assert!(
                    verifier.push(record),
                    "{backend}: record {} breaks the chain",
                    record.chain_seq
                );
            }
        }
        let report = verifier.finish();
        assert!(report.first_bad.is_none(), "{backend}: {report:?}");
        assert_eq!(
            report.sealed, written,
            "{backend}: the chain holds every record"
        );
        assert_eq!(report.head_seq, written, "{backend}");
    }
}
