//! Quarantine replay (issue 16 #3): records quarantined under a strict spec are replayed after the
//! spec is fixed — rows that now pass land exactly once (also when replay runs twice), the rest
//! are quarantined again with their reason; an object quarantined whole is replayed from its
//! copy once.

use floe::ingest::{Ingestor, ObjectStatus};
use floe::replay::{replay, ReplayOptions};
use floe::source::ObjectRef;

use crate::support::{self, TestEnv, LANDING};

fn spec(allowed: &str) -> String {
    format!(
        r#"name = "rp"
prefixes = ["rp/"]
[[columns]]
name = "id"
type = "long"
required = true
[[columns]]
name = "amount"
type = "decimal(10, 2)"
[[columns]]
name = "country"
type = "string"
allowed = [{allowed}]
"#
    )
}

#[tokio::test]
async fn replay_after_a_spec_fix_lands_rows_once_and_requarantines_the_rest() {
    let env = TestEnv::new(&[("rp", spec(r#""DE", "FR""#))]);
    let strict = env.ingestor().await;
    let objects: [(&str, &[u8], u64, u64); 3] = [
        (
            "a.csv",
            b"id,amount,country\n1,1.50,DE\n2,2.00,US\n3,3.25,FR\n4,1.005,DE\nx,5.00,FR\n",
            2,
            3,
        ),
        (
            "b.jsonl",
            b"{\"id\": 10, \"amount\": \"9.99\", \"country\": \"US\"}\n{\"id\": 11, \"amount\": \"1.00\", \"country\": \"DE\"}\n",
            1,
            1,
        ),
        ("c.csv.gz", b"not gzip at all", 0, 0),
    ];
    for (name, body, written, quarantined) in objects {
        let key = env.key("rp/", name);
        env.put_raw(&key, body.to_vec()).await;
        let r = strict.ingest(ObjectRef::new(LANDING, key)).await;
        assert_eq!(
            (r.rows_written, r.rows_quarantined),
            (written, quarantined),
            "{name}: {r:?}"
        );
    }
    let rows = |i: &Ingestor| {
        let catalog = i.catalog();
        let ident = env.ident("rp");
        async move { support::row_count(catalog.as_ref(), &ident).await }
    };
    assert_eq!(rows(&strict).await, 3);

    // The fix: US is a valid country. Replay only the `not_allowed` records first.
    std::fs::write(env.dir.join("tables/rp.toml"), spec(r#""DE", "FR", "US""#)).unwrap();
    let fixed = env.ingestor().await;
    let opts = |code: Option<&str>| ReplayOptions {
        table: "it.rp".into(),
        code: code.map(str::to_string),
        since: None,
    };
    let first = replay(env.config(), &opts(Some("not_allowed")))
        .await
        .unwrap();
    assert_eq!(
        (
            first.matched,
            first.rows_replayed,
            first.rows_landed,
            first.rows_still_quarantined
        ),
        (2, 2, 2, 0),
        "{first:?}"
    );
    assert_eq!(rows(&fixed).await, 5);

    // Everything: the two US rows are already replayed; the lossy decimal and the bad id are
    // quarantined again with their reasons; the unreadable object is replayed once from its copy.
    let all = replay(env.config(), &opts(None)).await.unwrap();
    assert_eq!(all.rows_landed, 0, "{all:?}");
    assert_eq!(all.rows_still_quarantined, 2, "{all:?}");
    assert_eq!(all.objects_replayed, 1, "{all:?}");
    assert!(
        all.objects
            .iter()
            .any(|r| r.status == ObjectStatus::Quarantined),
        "{all:?}"
    );
    assert_eq!(rows(&fixed).await, 5);

    // And again: nothing new lands, nothing is quarantined twice.
    let again = replay(env.config(), &opts(None)).await.unwrap();
    assert_eq!(
        (again.rows_landed, again.rows_still_quarantined),
        (0, 0),
        "{again:?}"
    );
    assert_eq!(rows(&fixed).await, 5);
}

/// The compact function's scheduled replay (`replay_quarantine` action): the same guarantees as
/// the command, on a schedule — after a fix, rows land once however often the schedule fires; a
/// dry run and the quarantine table itself are skipped, each with its reason.
#[tokio::test]
async fn scheduled_replay_lands_fixed_rows_once() {
    use floe::maintenance::run::{Action, Maintainer};
    let env = TestEnv::new(&[("rp", spec(r#""DE""#))]);
    let strict = env.ingestor().await;
    let key = env.key("rp/", "s.csv");
    env.put_raw(
        &key,
        b"id,amount,country\n1,1.00,DE\n2,2.00,US\n3,3.00,FR\n".to_vec(),
    )
    .await;
    let r = strict.ingest(ObjectRef::new(LANDING, key)).await;
    assert_eq!((r.rows_written, r.rows_quarantined), (1, 2), "{r:?}");

    std::fs::write(env.dir.join("tables/rp.toml"), spec(r#""DE", "US""#)).unwrap();
    let maintainer = Maintainer::new(&env.config()).await.unwrap();
    let mut req = crate::maintenance::request(&[Action::ReplayQuarantine]);
    req.replay.code = Some("not_allowed".into());
    req.replay.since_hours = Some(1);
    req.dry_run = true;
    let dry = maintainer.run(&req, None).await;
    assert!(dry.tables.iter().all(|t| t.replay.is_none()), "{dry:?}");
    req.dry_run = false;
    for round in 0..2 {
        let report = maintainer.run(&req, None).await;
        assert!(!report.failed(), "{report:?}");
        let quarantine = report
            .tables
            .iter()
            .find(|t| t.table.ends_with("quarantine"))
            .expect("the quarantine table is in the default tables");
        assert_eq!(
            quarantine.skipped,
            vec!["replay_quarantine: the quarantine table itself".to_string()]
        );
        let t = report.tables.iter().find(|t| t.table == "it.rp").unwrap();
        let r = t.replay.as_ref().unwrap();
        // US now passes, FR is still not allowed: the first round lands one row and quarantines
        // one again; the second also matches that new quarantine row (a replay output, not
        // replayed again) and finds both records already replayed.
        let want = if round == 0 { (2, 1, 1) } else { (3, 0, 0) };
        assert_eq!(
            (r.matched, r.rows_landed, r.rows_still_quarantined),
            want,
            "round {round}: {r:?}"
        );
        let catalog = strict.catalog();
        assert_eq!(
            support::row_count(catalog.as_ref(), &env.ident("rp")).await,
            2
        );
    }
}
