use super::*;
use crate::request::http::gzip;

#[test]
fn partial_write_is_told_from_a_rejected_batch() {
    let body = br#"{"error":"partial write: field type conflict: input field \"v\" on measurement \"m\" is type string, already exists as type float dropped=1"}"#;
    let answer = |body: &[u8]| Answer {
        status: 400,
        body: body.to_vec(),
        ..Answer::default()
    };
    match classify_write(&answer(body), 7) {
        Err(Error::PartialWrite {
            dropped: 1,
            kind: PartialWriteKind::TypeConflict,
            written_before: 7,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    let body = br#"{"error":"field type conflict: input field \"v\" on measurement \"m\" is type string, already exists as type float"}"#;
    assert!(matches!(
        classify_write(&answer(body), 0),
        Err(Error::BatchRejected { .. })
    ));
}

#[test]
fn an_answer_stops_at_its_bound() {
    let mut body = AnswerBody::new(Encoding::Identity, 8, None);
    body.push(b"{\"a\":").unwrap();
    assert!(matches!(
        body.push(b"12345"),
        Err(Error::AnswerTooLarge { limit: 8 })
    ));
    let zipped = gzip(&[b'x'; 100]);
    let mut body = AnswerBody::new(Encoding::Gzip, 50, None);
    let result = body.push(&zipped).and_then(|()| body.finish().map(drop));
    assert!(matches!(result, Err(Error::AnswerTooLarge { limit: 50 })));
    let mut body = AnswerBody::new(Encoding::Gzip, 100, None);
    body.push(&zipped[..zipped.len() - 4]).unwrap();
    assert!(
        matches!(body.finish(), Err(Error::Protocol(_))),
        "truncated gzip"
    );
}

#[test]
fn messages_are_cut_and_marked() {
    let answer = |body: Vec<u8>, cut: bool| Answer {
        status: 400,
        body,
        cut,
        ..Answer::default()
    };
    let long = format!(r#"{{"error":"{}"}}"#, "é".repeat(5_000));
    let message = error_message(&answer(long.into_bytes(), false));
    assert!(
        message.len() <= MAX_MESSAGE + CUT_MARK.len() + 1,
        "{}",
        message.len()
    );
    assert!(!is_whole_message(&message));
    assert!(message.starts_with("éé") && message.ends_with("éé"));
    // The start of a body over the bound is not JSON: its text, marked.
    let start = br#"{"error":"retention policy not found: "#.to_vec();
    let message = error_message(&answer(start, true));
    assert!(message.starts_with(r#"{"error":"#) && !is_whole_message(&message));
    assert_eq!(
        error_message(&answer(b"{\"error\":\"no\"}".to_vec(), false)),
        "no"
    );
    // A partial write counts its quoted lines, however long its message.
    let quoted: String = (0..100)
        .map(|i| format!("unable to parse 'line {i} {}': bad\\n", "x".repeat(50)))
        .collect();
    let body = format!(r#"{{"error":"partial write: {quoted}dropped=0"}}"#);
    match classify_write(&answer(body.into_bytes(), false), 0) {
        Err(Error::PartialWrite {
            dropped: 100,
            message,
            ..
        }) => assert!(!is_whole_message(&message)),
        other => panic!("{other:?}"),
    }
}
