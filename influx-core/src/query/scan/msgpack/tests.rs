//! The MessagePack reader: every cell format, malformed and cut input, documents cut out of a
//! stream however it arrives, and answers that decode to what the same answer in JSON does.

use proptest::prelude::*;
use serde_json::json;

use super::super::{MAX_DEPTH, Scanner};
use super::{DocumentEnd, Found};
use crate::query::answer::Walk;
use crate::query::resultset::{ResultSet, SetBuilder};
use crate::query::tests::stored_cells::cell;
use crate::query::value::Value;
use crate::request::answer_documents::Documents;
use crate::request::responses::{AnswerBody, Encoding};

/// `v` in MessagePack as influxd writes it: maps and arrays with their lengths, integers in
/// their smallest form, every float as a float64.
fn pack(v: &serde_json::Value, out: &mut Vec<u8>) {
    match v {
        serde_json::Value::Null => out.push(0xc0),
        serde_json::Value::Bool(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                pack_int(i, out);
            } else if let Some(u) = n.as_u64() {
                out.push(0xcf);
                out.extend_from_slice(&u.to_be_bytes());
            } else {
                out.push(0xcb);
                out.extend_from_slice(&n.as_f64().unwrap().to_bits().to_be_bytes());
            }
        }
        serde_json::Value::String(s) => pack_str(s, out),
        serde_json::Value::Array(items) => {
            pack_len(items.len(), 0x90, 0xdc, out);
            items.iter().for_each(|item| pack(item, out));
        }
        serde_json::Value::Object(members) => {
            pack_len(members.len(), 0x80, 0xde, out);
            for (key, value) in members {
                pack_str(key, out);
                pack(value, out);
            }
        }
    }
}

fn pack_int(i: i64, out: &mut Vec<u8>) {
    match i {
        0..=127 => out.push(i as u8),
        -32..=-1 => out.push(i as i8 as u8),
        _ => {
            out.push(0xd3);
            out.extend_from_slice(&i.to_be_bytes());
        }
    }
}

fn pack_str(s: &str, out: &mut Vec<u8>) {
    match s.len() {
        0..=31 => out.push(0xa0 | s.len() as u8),
        32..=255 => out.extend_from_slice(&[0xd9, s.len() as u8]),
        256..=65535 => {
            out.push(0xda);
            out.extend_from_slice(&(s.len() as u16).to_be_bytes());
        }
        _ => {
            out.push(0xdb);
            out.extend_from_slice(&(s.len() as u32).to_be_bytes());
        }
    }
    out.extend_from_slice(s.as_bytes());
}

/// An array's or a map's header (`short`: the fix form; `long`: the 16-bit form).
fn pack_len(len: usize, short: u8, long: u8, out: &mut Vec<u8>) {
    if len < 16 {
        out.push(short | len as u8);
    } else {
        out.push(long);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    }
}

/// A time as influxd writes it: extension 5, seconds then nanoseconds.
fn time(seconds: i64, nanos: u32) -> Vec<u8> {
    let mut out = vec![0xc7, 12, 5];
    out.extend_from_slice(&seconds.to_be_bytes());
    out.extend_from_slice(&nanos.to_be_bytes());
    out
}

/// The cells of a MessagePack array.
fn cells(bytes: &[u8]) -> Result<Vec<Value<'_>>, String> {
    let mut s = Scanner::msgpack(bytes);
    s.begin_array().map_err(|e| e.message)?;
    let mut first = true;
    let mut out = Vec::new();
    while s.next_item(&mut first).map_err(|e| e.message)? {
        out.push(s.cell().map_err(|e| e.message)?);
    }
    assert!(s.at_end());
    Ok(out)
}

/// An answer in MessagePack, read as a stream reads it (documents cut out of pieces of `cut`
/// bytes).
fn decode(answer: &[u8], cut: usize) -> Result<Vec<ResultSet>, crate::Error> {
    let mut documents =
        Documents::new(AnswerBody::new(Encoding::Identity, 1 << 24, None), None).msgpack();
    let mut walk = Walk::default();
    let mut sets = SetBuilder::new(true);
    for piece in answer.chunks(cut.max(1)) {
        documents.push(piece)?;
        while documents.next_document()? {
            walk.msgpack_document(documents.document(), &mut sets)
                .map_err(crate::query::answer::stop_error)?;
        }
    }
    if documents.end()? {
        walk.msgpack_document(documents.document(), &mut sets)
            .map_err(crate::query::answer::stop_error)?;
    }
    walk.finish(None, true)?;
    Ok(sets.finish())
}

#[test]
fn every_cell_format_reads_as_the_json_answer_would() {
    let mut array = vec![0xdc, 0, 26];
    array.extend([5, 0xfd]); // fixints 5 and -3
    array.extend([0xcc, 200, 0xcd, 0xea, 0x60]); // 200, 60000
    array.extend([0xce, 0xee, 0x6b, 0x28, 0x00]); // 4000000000
    array.push(0xcf);
    array.extend((i64::MAX as u64 + 6).to_be_bytes());
    array.push(0xcf);
    array.extend(7u64.to_be_bytes());
    array.extend([0xd0, 0x9c]); // -100
    array.push(0xd1);
    array.extend((-30_000i16).to_be_bytes());
    array.push(0xd2);
    array.extend((-2_000_000_000i32).to_be_bytes());
    array.push(0xd3);
    array.extend(i64::MIN.to_be_bytes());
    array.push(0xca);
    array.extend(1.5f32.to_bits().to_be_bytes());
    array.push(0xcb);
    array.extend(0.1f64.to_bits().to_be_bytes());
    array.push(0xcb);
    array.extend(2.0f64.to_bits().to_be_bytes());
    array.extend([0xc0, 0xc3, 0xc2]);
    pack_str("é", &mut array);
    pack_str(&"a".repeat(40), &mut array);
    pack_str(&"b".repeat(300), &mut array);
    array.extend([0xdb, 0, 0, 0, 2, b'h', b'i']);
    array.extend(time(1_600_000_000, 0));
    array.extend(time(1_600_000_000, 120_000_000));
    array.extend(time(-1, 999_999_999));
    array.extend(time(0, 1));
    array.extend([0xa0]); // ""
    let b300 = "b".repeat(300);
    let a40 = "a".repeat(40);
    assert_eq!(
        cells(&array).unwrap(),
        vec![
            Value::Integer(5),
            Value::Integer(-3),
            Value::Integer(200),
            Value::Integer(60_000),
            Value::Integer(4_000_000_000),
            Value::Unsigned(i64::MAX as u64 + 6),
            Value::Integer(7),
            Value::Integer(-100),
            Value::Integer(-30_000),
            Value::Integer(-2_000_000_000),
            Value::Integer(i64::MIN),
            Value::Float(1.5),
            Value::Float(0.1),
            // A whole float stays a float (JSON's `2` would read as an integer).
            Value::Float(2.0),
            Value::Null,
            Value::Bool(true),
            Value::Bool(false),
            Value::String("é".into()),
            Value::String(a40.as_str().into()),
            Value::String(b300.as_str().into()),
            Value::String("hi".into()),
            // Times: the text influxd's JSON holds (RFC 3339, fraction without trailing zeros).
            Value::String("2020-09-13T12:26:40Z".into()),
            Value::String("2020-09-13T12:26:40.12Z".into()),
            Value::String("1969-12-31T23:59:59.999999999Z".into()),
            Value::String("1970-01-01T00:00:00.000000001Z".into()),
            Value::String("".into()),
        ]
    );
}

#[test]
fn what_is_not_a_cell_of_an_answer_is_refused() {
    let refused = |cell: &[u8], why: &str| {
        let mut array = vec![0x91];
        array.extend_from_slice(cell);
        let e = cells(&array).unwrap_err();
        assert!(e.contains(why), "{cell:x?}: {e}");
    };
    refused(&[0xc1], "expected a value");
    refused(&[0x91, 0x01], "expected a value");
    refused(&[0x81, 0xa1, b'a', 0x01], "expected a value");
    refused(&[0xc4, 1, 0], "expected a value");
    refused(&[0xa2, 0xff, 0xfe], "not UTF-8");
    // Extensions other than a time, and a time of the wrong size or past its second.
    refused(&[0xd4, 3, 0], "type 3");
    refused(&[0xd7, 5, 0, 0, 0, 0, 0, 0, 0, 0], "type 5 (8 bytes)");
    let mut late = time(0, 0);
    late[11..].copy_from_slice(&1_000_000_000u32.to_be_bytes());
    refused(&late, "type 5 (12 bytes)");
}

#[test]
fn input_cut_anywhere_is_an_error_not_a_panic() {
    let answer = json!({"results": [{"statement_id": 0, "series": [{"name": "m",
        "tags": {"h": "a"}, "columns": ["time", "v", "s"],
        "values": [[1, 0.5, "x"], [2, -7, null], [3, true, "a longer string than thirty-one bytes"]]}]}]});
    let mut bytes = Vec::new();
    pack(&answer, &mut bytes);
    bytes.extend(time(1, 2));
    let whole = bytes.len() - 15;
    assert!(decode(&bytes[..whole], whole).is_ok());
    for end in 0..whole {
        let cut = &bytes[..end];
        // Read whole, and as a stream.
        let mut s = Scanner::msgpack(cut);
        assert!(s.skip().is_err() || end == 0, "{end}");
        assert!(decode(cut, 7).is_err(), "{end}");
    }
    // The time cut short.
    assert!(cells(&[&[0x91][..], &bytes[whole..bytes.len() - 1]].concat()).is_err());
}

#[test]
fn nesting_deeper_than_the_bound_is_refused() {
    let deep = |levels: usize| {
        let mut bytes = vec![0x91; levels];
        bytes.push(0x01);
        bytes
    };
    let bytes = deep(MAX_DEPTH + 2);
    let e = Scanner::msgpack(&bytes).skip().unwrap_err();
    assert!(e.message.contains("nested too deeply"), "{}", e.message);
    assert!(Scanner::msgpack(&deep(MAX_DEPTH)).skip().is_ok());
    let mut end = DocumentEnd::default();
    assert!(matches!(end.find(&deep(MAX_DEPTH + 2)), Err((_, why)) if why.contains("deeply")));
    let mut end = DocumentEnd::default();
    assert!(matches!(end.find(&deep(MAX_DEPTH)), Ok(Found::End(_))));
    // 0xc1 is never MessagePack.
    let mut end = DocumentEnd::default();
    assert!(end.find(&[0x91, 0xc1]).is_err());
}

#[test]
fn documents_come_out_whole_however_the_bytes_are_cut() {
    let docs = [
        json!({"results": [{"statement_id": 0, "series": [{"name": "m", "columns": ["a"],
            "values": [[1], [2.5], ["x"]], "partial": true}], "partial": true}]}),
        json!({"results": [{"statement_id": 0, "series": [{"name": "m", "columns": ["a"],
            "values": [[3]]}]}]}),
        json!({"results": []}),
    ];
    let packed: Vec<Vec<u8>> = docs
        .iter()
        .map(|d| {
            let mut out = Vec::new();
            pack(d, &mut out);
            out
        })
        .collect();
    let answer = packed.concat();
    for cut in 1..answer.len() {
        let mut documents =
            Documents::new(AnswerBody::new(Encoding::Identity, 1 << 20, None), None).msgpack();
        let mut out = Vec::new();
        for piece in answer.chunks(cut) {
            documents.push(piece).unwrap();
            while documents.next_document().unwrap() {
                out.push(documents.document().to_vec());
            }
        }
        assert!(!documents.end().unwrap());
        assert_eq!(out, packed, "pieces of {cut}");
    }
    // A document cut short, and stray bytes after the last one.
    let mut documents =
        Documents::new(AnswerBody::new(Encoding::Identity, 1 << 20, None), None).msgpack();
    documents.push(&packed[0][..10]).unwrap();
    assert!(!documents.next_document().unwrap());
    assert!(matches!(documents.end(), Err(crate::Error::Protocol(_))));
}

/// Lengths that claim more than ever comes: the document waits for its bytes only until the
/// answer's bound, and a reader of the bytes held fails at their end.
#[test]
fn lengths_past_what_comes_end_at_the_bound() {
    let hostile: [&[u8]; 3] = [
        // A string of 4 GiB - 1, an array of 2^32 - 1 items, a map of as many pairs.
        &[0x91, 0xdb, 0xff, 0xff, 0xff, 0xff, b'a'],
        &[0x91, 0xdd, 0xff, 0xff, 0xff, 0xff, 0x01],
        &[0x91, 0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, b'k', 0x01],
    ];
    for bytes in hostile {
        let mut documents =
            Documents::new(AnswerBody::new(Encoding::Identity, 64, None), None).msgpack();
        documents.push(bytes).unwrap();
        assert!(!documents.next_document().unwrap(), "{bytes:x?}");
        // More of the same, up to the bound of what is held: refused there.
        let mut pushed = Ok(());
        for _ in 0..64 {
            pushed = documents.push(&[0x01]);
            if pushed.is_err() {
                break;
            }
            assert!(!documents.next_document().unwrap(), "{bytes:x?}");
        }
        assert!(
            matches!(pushed, Err(crate::Error::AnswerTooLarge { limit: 64 })),
            "{bytes:x?}: {pushed:?}"
        );
        assert!(Scanner::msgpack(bytes).skip().is_err(), "{bytes:x?}");
    }
}

#[test]
fn a_failed_statement_without_an_id_belongs_to_the_statement_after_the_last() {
    // influxd's MessagePack writes a failed statement's result as `{"error": ...}` alone.
    let answer = |docs: &[serde_json::Value]| {
        let mut out = Vec::new();
        docs.iter().for_each(|d| pack(d, &mut out));
        out
    };
    let rows = json!({"results": [{"statement_id": 0, "series": [{"name": "m",
        "columns": ["a"], "values": [[1]]}]}]});
    let failed = json!({"results": [{"error": "retention policy not found: nope"}]});
    match decode(&answer(&[rows.clone(), failed.clone()]), 1 << 20) {
        Err(crate::Error::Statement { index: 1, message }) => {
            assert_eq!(message, "retention policy not found: nope")
        }
        other => panic!("{other:?}"),
    }
    // The first statement failing.
    match decode(&answer(std::slice::from_ref(&failed)), 1 << 20) {
        Err(crate::Error::Statement { index: 0, .. }) => {}
        other => panic!("{other:?}"),
    }
    // A statement whose last result was partial fails itself.
    let open = json!({"results": [{"statement_id": 0, "series": [{"name": "m",
        "columns": ["a"], "values": [[1]], "partial": true}], "partial": true}]});
    match decode(&answer(&[open, failed]), 1 << 20) {
        Err(crate::Error::Statement { index: 0, .. }) => {}
        other => panic!("{other:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// The same answer, in JSON and in MessagePack, decodes to the same result sets: series,
    /// tags, columns, every cell, errors and messages, cut into chunks and pieces anywhere.
    #[test]
    fn an_answer_decodes_alike_in_json_and_in_msgpack(
        tables in prop::collection::vec(
            (1usize..4).prop_flat_map(|width| (
                Just(width),
                prop::collection::vec(prop::collection::vec(cell(), width), 0..12),
            )),
            1..4,
        ),
        chunk in 1usize..6,
        cut in 1usize..200,
        error in prop::option::of("[a-z ]{1,20}"),
    ) {
        let mut documents = Vec::new();
        for (statement, (width, rows)) in tables.iter().enumerate() {
            let columns: Vec<String> = (0..*width).map(|c| format!("c{c}")).collect();
            let pieces: Vec<&[Vec<serde_json::Value>]> =
                if rows.is_empty() { vec![&rows[..]] } else { rows.chunks(chunk).collect() };
            for (p, piece) in pieces.iter().enumerate() {
                let more = p + 1 < pieces.len();
                let mut series = json!({"name": "m", "tags": {"t": format!("{statement}")},
                    "columns": columns, "values": piece});
                let mut result = json!({"statement_id": statement, "series": [series.take()]});
                if more {
                    result["series"][0]["partial"] = json!(true);
                    result["partial"] = json!(true);
                }
                if p == 0 {
                    result["messages"] = json!([{"level": "warning", "text": "deprecated"}]);
                }
                documents.push(json!({"results": [result]}));
            }
        }
        if let Some(message) = &error {
            let id = tables.len();
            documents.push(json!({"results": [{"statement_id": id, "error": message}]}));
        }
        let text: Vec<String> = documents.iter().map(|d| d.to_string()).collect();
        let json_sets = crate::decode_response(text.join("\n").as_bytes(), false).unwrap();
        let mut packed = Vec::new();
        for d in &documents {
            // influxd's MessagePack leaves a failed statement's id out.
            let mut d = d.clone();
            if let Some(result) = d["results"][0].as_object_mut() {
                if result.contains_key("error") {
                    result.remove("statement_id");
                }
            }
            pack(&d, &mut packed);
        }
        let mut documents =
            Documents::new(AnswerBody::new(Encoding::Identity, 1 << 24, None), None).msgpack();
        let mut walk = Walk::default();
        let mut sets = SetBuilder::new(false);
        for piece in packed.chunks(cut) {
            documents.push(piece).unwrap();
            while documents.next_document().unwrap() {
                walk.msgpack_document(documents.document(), &mut sets)
                    .map_err(crate::query::answer::stop_error)
                    .unwrap();
            }
        }
        prop_assert!(!documents.end().unwrap());
        let pack_sets = sets.finish();
        prop_assert_eq!(pack_sets.len(), json_sets.len());
        for (p, j) in pack_sets.iter().zip(&json_sets) {
            prop_assert_eq!(p.statement_id(), j.statement_id());
            prop_assert_eq!(p.series(), j.series());
            prop_assert_eq!(p.error(), j.error());
            prop_assert_eq!(p.messages(), j.messages());
            prop_assert_eq!(p.raw(), j.raw());
        }
        prop_assert_eq!(pack_sets.len(), tables.len() + usize::from(error.is_some()));
    }
}
