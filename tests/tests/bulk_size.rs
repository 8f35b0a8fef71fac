//! `bulk_size` means what SeriesHelper's does: a commit of n points of a derived type goes in
//! exactly ceil(n / bulk_size) requests of at most `bulk_size` points, every run, with two
//! requests in flight (the default), and every series' points arrive in the order they were
//! recorded. Counted against a real influxd; the requests' contents are read by a **fake HTTP
//! server** that answers 204 to every write (influxd does not show what each request held).

use std::collections::HashMap;

use influx_series::{Client, Series};
use influx_testserver::fake::{FakeServer, respond};

#[derive(Series)]
#[series(name = "bulk", bulk_size = 500)]
struct FiveHundred {
    #[series(tag)]
    host: String,
    v: i64,
    #[series(time)]
    time: i64,
}

#[derive(Series)]
#[series(name = "bulk", bulk_size = 4)]
struct Four {
    #[series(tag)]
    host: String,
    v: i64,
    #[series(time)]
    time: i64,
}

#[test]
fn a_commit_takes_exactly_ceil_n_over_bulk_size_requests_every_run() {
    let server = influx_testserver::shared();
    let db = server.unique_db("bulk");
    let client = Client::new(&server.url())
        .unwrap()
        .with_database(db.clone());
    client.create_database(&db).unwrap();
    FiveHundred::bind(client.clone());
    Four::bind(client);
    for run in 0..10i64 {
        for i in 0..2_000i64 {
            FiveHundred {
                host: format!("h{}", i % 37),
                v: i,
                time: run * 10_000 + i,
            }
            .record()
            .unwrap();
        }
        assert_eq!(FiveHundred::commit().unwrap().requests, 4, "run {run}");
        for i in 0..10i64 {
            Four {
                host: format!("h{}", i % 3),
                v: i,
                time: run * 10_000 + i,
            }
            .record()
            .unwrap();
        }
        assert_eq!(Four::commit().unwrap().requests, 3, "run {run}");
    }
}

#[derive(Series)]
#[series(name = "bulk", bulk_size = 300)]
struct Ordered {
    #[series(tag)]
    host: String,
    v: i64,
    #[series(time)]
    time: i64,
}

#[test]
fn each_request_holds_at_most_bulk_size_and_each_series_arrives_in_order() {
    let fake = FakeServer::start(|_, stream| respond(stream, "204 No Content", &[], b""));
    Ordered::bind(Client::new(fake.url()).unwrap().with_database("db"));
    let n = 2_345i64;
    for i in 0..n {
        Ordered {
            host: format!("h{}", i % 11),
            v: i,
            time: i,
        }
        .record()
        .unwrap();
    }
    let done = Ordered::commit().unwrap();
    let requests = fake.requests();
    assert_eq!(done.requests, requests.len());
    assert_eq!(requests.len(), 8, "ceil(2 345 / 300)");
    // The order the fake received them in is an order the server could have stored them in:
    // requests in flight together hold different series.
    let mut last_of: HashMap<String, i64> = HashMap::new();
    let mut points = 0;
    for request in &requests {
        let body = String::from_utf8(request.body.clone()).unwrap();
        let lines: Vec<&str> = body.lines().collect();
        assert!(lines.len() <= 300, "{} points in a request", lines.len());
        points += lines.len();
        for line in lines {
            let host = line.split([',', ' ']).nth(1).unwrap().to_owned();
            let time: i64 = line.rsplit(' ').next().unwrap().parse().unwrap();
            if let Some(&last) = last_of.get(&host) {
                assert!(time > last, "{host}: {time} after {last}");
            }
            last_of.insert(host, time);
        }
    }
    assert_eq!(points as i64, n);
}
