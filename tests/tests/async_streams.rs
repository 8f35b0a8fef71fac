//! The async client's streams read as sqlx's do: `while let Some(x) = stream.next().await`
//! compiles as written, with no pinning (the streams are `Unpin`), against a real influxd.

use futures_util::StreamExt;
use influx_series::{AsyncClient, QueryOptions, Series, WriteOptions};

#[derive(Series, Debug)]
#[series(name = "streamed")]
struct Streamed {
    #[series(tag)]
    host: String,
    v: i64,
}

/// Compiles only for an `Unpin` value.
fn unpin<T: Unpin>(value: T) -> T {
    value
}

#[tokio::test]
async fn async_streams_are_read_with_next_without_pinning() {
    let server = influx_testserver::shared();
    let db = server.unique_db("async_streams");
    let client = AsyncClient::new(&server.url())
        .unwrap()
        .with_database(db.clone());
    client.create_database(&db).await.unwrap();
    let lines: String = (0..25)
        .map(|i| format!("streamed,host=h{} v={i}i {i}\n", i % 2))
        .collect();
    client
        .write_raw(&lines, &WriteOptions::default())
        .await
        .unwrap();
    let options = QueryOptions::new().chunked(10);
    let mut sets = unpin(
        client
            .query_stream("SELECT * FROM streamed", &options)
            .await
            .unwrap(),
    );
    let mut rows = 0;
    while let Some(set) = sets.next().await {
        rows += set.unwrap().len();
    }
    assert_eq!(rows, 25);
    let mut typed = unpin(
        client
            .query_as_stream::<Streamed>("SELECT * FROM streamed", &options)
            .await
            .unwrap(),
    );
    let mut sum = 0;
    while let Some(row) = typed.next().await {
        sum += row.unwrap().v;
    }
    assert_eq!(sum, (0..25).sum::<i64>());
}
