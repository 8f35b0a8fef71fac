use super::*;

fn framing(head: &str) -> (u16, Framing, bool) {
    let (head, framed) = parse_head(head.as_bytes()).unwrap();
    (head.status, framed.body, framed.reusable)
}

#[test]
fn heads_give_the_body_framing_and_whether_the_connection_is_kept() {
    assert_eq!(
        framing("HTTP/1.1 204 No Content\r\nX-Influxdb-Version: 1.6\r\n\r\n"),
        (204, Framing::Done, true)
    );
    assert_eq!(
        framing("HTTP/1.1 400 Bad Request\r\nContent-Length: 12\r\n\r\n"),
        (400, Framing::Length(12), true)
    );
    // Chunked wins over a length, and such an answer's connection is not kept.
    assert_eq!(
        framing("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"),
        (200, Framing::Chunked(None), false)
    );
    assert_eq!(
        framing("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
        (200, Framing::Chunked(None), true)
    );
    assert_eq!(
        framing("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"),
        (200, Framing::Close, false)
    );
    assert_eq!(
        framing("HTTP/1.1 204 No Content\r\nConnection: keep-alive, Close\r\n\r\n"),
        (204, Framing::Done, false)
    );
    assert_eq!(
        framing("HTTP/1.1 500 Oops\r\nConnection: close\r\nContent-Length: 1\r\n\r\n"),
        (500, Framing::Length(1), false)
    );
    assert_eq!(
        framing("HTTP/1.0 200 OK\r\n\r\n"),
        (200, Framing::Close, false)
    );
}

/// A connection to a listener of this test's (kept, so it stays open).
fn connection() -> (std::net::TcpListener, Connection) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let connection = connect("127.0.0.1", port, None).unwrap();
    (listener, connection)
}

#[test]
fn idle_connections_are_kept_up_to_the_bound_and_for_90_seconds() {
    let pool = Pool {
        idle: std::sync::Mutex::new(Vec::new()),
        max_idle: 2,
    };
    let mut listeners = Vec::new();
    for _ in 0..3 {
        let (listener, c) = connection();
        listeners.push(listener);
        pool.put("a:1".into(), c);
    }
    assert_eq!(pool.lock().len(), 2, "at most max_idle a host");
    assert!(pool.take("b:1").is_none(), "another host's are not taken");
    assert!(pool.take("a:1").is_some());
    // One idle for longer than IDLE_TIMEOUT is dropped, not taken.
    let long_ago = Instant::now().checked_sub(IDLE_TIMEOUT + Duration::from_secs(1));
    if let Some(long_ago) = long_ago {
        pool.lock()[0].since = long_ago;
        assert!(pool.take("a:1").is_none());
        assert!(pool.lock().is_empty());
    }
}

#[test]
fn connecting_ends_by_the_deadline() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let e = connect("127.0.0.1", port, Some(Instant::now()))
        .err()
        .unwrap();
    assert_eq!(e.kind(), io::ErrorKind::TimedOut);
}

#[test]
fn a_header_value_cut_in_the_middle_of_a_character_is_kept() {
    // influxd cuts X-Influxdb-Error at 1 024 bytes, whatever it cuts through.
    let mut head = b"HTTP/1.1 400 Bad Request\r\nX-Influxdb-Error: field \xe6\xb5".to_vec();
    head.extend_from_slice(b"\r\nContent-Length: 2\r\n\r\n");
    let (head, framed) = parse_head(&head).unwrap();
    assert_eq!(head.status, 400);
    assert_eq!(framed.body, Framing::Length(2));
    assert_eq!(
        head.headers["x-influxdb-error"].as_bytes(),
        b"field \xe6\xb5"
    );
}

#[test]
fn heads_that_are_not_http_are_refused_with_a_kind_no_retry_rule_takes_for_tls() {
    for head in [
        "SSH-2.0-OpenSSH\r\n\r\n",
        "HTTP/1.1 abc Nope\r\n\r\n",
        "HTTP/1.1 204 OK\r\nno colon\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n",
    ] {
        let e = parse_head(head.as_bytes()).err().expect(head);
        assert_eq!(e.kind(), io::ErrorKind::Other, "{head}");
    }
}

/// A connection over `bytes` in memory.
fn in_memory(bytes: &[u8]) -> Connection<&[u8]> {
    Connection::new(bytes)
}

/// The status and body of the next answer on `connection`.
fn answer(connection: &mut Connection<&[u8]>) -> io::Result<(u16, Vec<u8>)> {
    let (head, framed) = read_head(connection, None)?;
    let mut framing = framed.body;
    let mut body = Vec::new();
    while let Some(piece) = next_piece(connection, &mut framing, None)? {
        body.extend_from_slice(&piece);
    }
    Ok((head.status, body))
}

#[test]
fn chunked_answers_are_read_to_their_end_and_the_next_answer_follows() {
    let bytes = b"HTTP/1.1 100 Continue\r\n\r\n\
        HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
        5;name=value\r\nhello\r\nA \r\n, world!!\n\r\n0\r\nX-Trailer: 1\r\nX-Other: 2\r\n\r\n\
        HTTP/1.1 204 No Content\r\n\r\n";
    let mut connection = in_memory(bytes);
    assert_eq!(
        answer(&mut connection).unwrap(),
        (200, b"hello, world!!\n".to_vec())
    );
    assert_eq!(answer(&mut connection).unwrap(), (204, Vec::new()));
    let e = answer(&mut connection).err().unwrap();
    assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
}

#[test]
fn chunked_framing_that_is_not_http_is_refused() {
    let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    let many_trailers = format!("0\r\n{}\r\n", "X-T: 1\r\n".repeat(MAX_TRAILERS + 1));
    for framing in [
        "zz\r\nhello\r\n0\r\n\r\n",
        "5\r\nhello world\r\n0\r\n\r\n",
        "ffffffffffffffffff\r\n",
        many_trailers.as_str(),
    ] {
        let bytes = format!("{head}{framing}");
        let e = answer(&mut in_memory(bytes.as_bytes())).expect_err(framing);
        assert_eq!(e.kind(), io::ErrorKind::Other, "{framing}");
    }
    // Cut short: the end of the connection, not a malformed answer.
    for framing in ["5\r\nhel", "5\r\nhello\r\n0\r\n", "5"] {
        let bytes = format!("{head}{framing}");
        let e = answer(&mut in_memory(bytes.as_bytes())).expect_err(framing);
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof, "{framing}");
    }
}
#[test]
fn a_head_or_chunk_size_line_longer_than_the_bound_is_refused() {
    let long_head = format!(
        "HTTP/1.1 200 OK\r\nX-Long: {}\r\n\r\n",
        "a".repeat(MAX_HEAD + 1)
    );
    let e = answer(&mut in_memory(long_head.as_bytes())).err().unwrap();
    assert_eq!(e.kind(), io::ErrorKind::Other);
    let many = format!(
        "HTTP/1.1 204 No Content\r\n{}\r\n",
        "X-H: 1\r\n".repeat(MAX_HEADERS + 1)
    );
    let e = answer(&mut in_memory(many.as_bytes())).err().unwrap();
    assert_eq!(e.kind(), io::ErrorKind::Other);
    let long_size = format!(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;{}\r\nhello\r\n0\r\n\r\n",
        "x".repeat(MAX_HEAD + 1)
    );
    let e = answer(&mut in_memory(long_size.as_bytes())).err().unwrap();
    assert_eq!(e.kind(), io::ErrorKind::Other);
}
