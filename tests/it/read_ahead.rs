//! Large objects are read as ranged GETs of the pinned version with read-ahead: the bytes come
//! out exactly as stored, in order, whatever the budget; a version overwritten before the read
//! is refused, not mixed in; and a large CSV read this way lands every row once.

use floe::format::{open_raw, PART_BYTES};
use floe::ingest::ObjectStatus;
use floe::landing::{Landing, LandingError};
use floe::source::ObjectRef;
use rand::{Rng, SeedableRng};
use tokio::io::AsyncReadExt;

use crate::support::{TestEnv, LANDING};

async fn read_all(landing: &Landing, object: &ObjectRef, budget: u64) -> (Vec<u8>, u64) {
    let mut body = open_raw(landing, object, budget).await.expect("open");
    let mut out = Vec::new();
    body.reader.read_to_end(&mut out).await.expect("read");
    (out, body.ranged_parts)
}

#[tokio::test]
async fn ranged_reads_return_the_pinned_bytes_in_order() {
    let env = TestEnv::new(&[]);
    let len = (2 * PART_BYTES + 12_345) as usize;
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let bytes: Vec<u8> = (0..len).map(|_| rng.random()).collect();
    let key = env.key("raw/", "blob.bin");
    let etag = env.put_raw(&key, bytes.clone()).await;
    let landing = Landing::new(&env.config().s3).await;
    let mut object = ObjectRef::new(LANDING, key.clone());
    (object.etag, object.size) = (Some(etag), Some(len as u64));
    for (budget, parts) in [
        (0, 0),
        (PART_BYTES, 3),
        (2 * PART_BYTES, 3),
        (64 * PART_BYTES, 3),
    ] {
        let (read, ranged) = read_all(&landing, &object, budget).await;
        assert_eq!(ranged, parts, "budget {budget}");
        assert!(
            read == bytes,
            "budget {budget}: {} bytes differ",
            read.len()
        );
    }
    // Without a pinned version there is nothing to hold the parts together: one GET.
    let unpinned = ObjectRef {
        etag: None,
        ..object.clone()
    };
    assert_eq!(read_all(&landing, &unpinned, 2 * PART_BYTES).await.1, 0);
    // Overwritten since the event: the ranged read is refused, never a mix of two versions.
    env.put_raw(&key, vec![b'x'; len]).await;
    match open_raw(&landing, &object, 2 * PART_BYTES).await {
        Err(LandingError::Superseded { .. }) => {}
        Err(other) => panic!("expected superseded, got {other}"),
        Ok(_) => panic!("expected superseded, the read went ahead"),
    }
}

#[tokio::test]
async fn a_csv_larger_than_the_read_ahead_lands_every_row_once() {
    let env = TestEnv::new(&[(
        "big",
        "name = \"big\"\nprefixes = [\"big/\"]\n[[columns]]\nname = \"id\"\ntype = \"long\"\n\
         [[columns]]\nname = \"pad\"\ntype = \"string\"\n"
            .to_string(),
    )]);
    let rows = 340_000u64;
    let mut csv = String::from("id,pad\n");
    for i in 0..rows {
        csv.push_str(&format!("{i},{}\n", "p".repeat((i % 97) as usize)));
    }
    assert!(csv.len() as u64 > 2 * PART_BYTES, "{} bytes", csv.len());
    let key = env.key("big/", "rows.csv");
    env.put_raw(&key, csv.into_bytes()).await;
    let mut config = env.config();
    config.limits.read_ahead_bytes = 2 * PART_BYTES;
    let r = floe::ingest::Ingestor::new(config)
        .await
        .unwrap()
        .ingest(ObjectRef::new(LANDING, key))
        .await;
    assert_eq!(r.status, ObjectStatus::Committed, "{r:?}");
    assert_eq!((r.rows_read, r.rows_written), (rows, rows), "{r:?}");
    let t = env
        .ingestor()
        .await
        .catalog()
        .load_table(&env.ident("big"))
        .await
        .unwrap();
    let mut seen = vec![false; rows as usize];
    for b in crate::support::scan(&t).await {
        use arrow_array::cast::AsArray;
        let ids = b
            .column_by_name("id")
            .unwrap()
            .as_primitive::<arrow_array::types::Int64Type>();
        let pads = b.column_by_name("pad").unwrap().as_string::<i32>();
        for i in 0..b.num_rows() {
            let id = ids.value(i) as usize;
            assert!(!seen[id], "id {id} twice");
            seen[id] = true;
            assert_eq!(pads.value(i).len(), id % 97, "id {id}: pad cut or shifted");
        }
    }
    assert!(seen.iter().all(|s| *s), "every id once");
}
