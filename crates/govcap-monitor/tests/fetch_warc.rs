//! The WARC archive: round trip, one gzip member per record, digests, lookup by id.

use std::io::Read;

use govcap_monitor::fetch::{Exchange, RawResponse, Truncation};
use govcap_monitor::model::FetchState;
use govcap_monitor::warc::{find_record, sha256_label, RecordIds, WarcReader, WarcWriter};

fn exchange(body: &[u8], truncated: Option<Truncation>) -> Exchange {
    Exchange {
        url: "http://www.example.gov.cn/index.html".into(),
        started_ms: 1_795_811_696_789,
        request_head: b"GET /index.html HTTP/1.1\r\nhost: www.example.gov.cn\r\n\r\n".to_vec(),
        remote_ip: Some("127.0.0.1".parse().unwrap()),
        response: Some(RawResponse {
            version: "HTTP/1.1".into(),
            status: 200,
            reason: "OK".into(),
            headers: vec![
                ("content-type".into(), "text/html".into()),
                ("transfer-encoding".into(), "chunked".into()),
            ],
            body: body.to_vec(),
            truncated,
        }),
        error: None,
        legacy_tls: false,
        tls_not_after: None,
    }
}

/// Splits a file into its gzip members independently of the reader under test.
fn gzip_members(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut rest = bytes;
    let mut members = Vec::new();
    while !rest.is_empty() {
        let mut dec = flate2::bufread::GzDecoder::new(rest);
        let mut out = Vec::new();
        dec.read_to_end(&mut out).unwrap();
        rest = dec.into_inner();
        members.push(out);
    }
    members
}

#[test]
fn records_round_trip_with_digests_and_one_member_each() {
    let dir = std::env::temp_dir().join(format!("govcap-warc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("t.warc.gz");
    let body = "<html><title>人民政府</title></html>".as_bytes();
    let mut w = WarcWriter::create(&path, RecordIds::from_seed(1), "govcap-monitor/test").unwrap();
    let ok = w.write_exchange(&exchange(body, None)).unwrap();
    let cut = w
        .write_exchange(&exchange(b"partial", Some(Truncation::Length)))
        .unwrap();
    let failed = w
        .write_exchange(&Exchange {
            response: None,
            error: Some((FetchState::Timeout, "no response within 15000 ms".into())),
            remote_ip: None,
            ..exchange(b"", None)
        })
        .unwrap();
    w.flush().unwrap();
    assert_eq!(w.records_written(), 1 + 2 + 2 + 2);
    let size = std::fs::metadata(&path).unwrap().len();
    assert_eq!(w.bytes_written(), size);

    let bytes = std::fs::read(&path).unwrap();
    let members = gzip_members(&bytes);
    assert_eq!(members.len(), 7);
    for m in &members {
        assert!(m.starts_with(b"WARC/1.1\r\n"));
        assert_eq!(m.windows(10).filter(|w| *w == b"WARC/1.1\r\n").count(), 1);
        assert!(m.ends_with(b"\r\n\r\n"));
    }

    let records: Vec<_> = WarcReader::open(&path)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(records.len(), 7);
    assert_eq!(records[0].header("WARC-Type"), Some("warcinfo"));
    assert_eq!(records[0].offset, 0);
    assert!(records.windows(2).all(|w| w[0].offset < w[1].offset));

    let resp = records
        .iter()
        .find(|r| r.id() == ok.response.as_deref())
        .unwrap();
    assert_eq!(resp.header("WARC-Type"), Some("response"));
    assert_eq!(
        resp.header("WARC-Target-URI"),
        Some("http://www.example.gov.cn/index.html")
    );
    assert_eq!(resp.header("WARC-Date"), Some("2026-11-27T20:34:56.789Z"));
    assert_eq!(resp.header("WARC-IP-Address"), Some("127.0.0.1"));
    assert_eq!(resp.header("WARC-Concurrent-To"), Some(ok.request.as_str()));
    assert_eq!(
        resp.header("Content-Type"),
        Some("application/http;msgtype=response")
    );
    let (head, payload) = resp.http_parts().unwrap();
    assert_eq!(payload, body);
    assert_eq!(head, b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\n");
    assert_eq!(
        resp.header("WARC-Payload-Digest"),
        Some(sha256_label(body).as_str())
    );
    assert_eq!(
        resp.header("WARC-Block-Digest"),
        Some(sha256_label(&resp.block).as_str())
    );
    assert_eq!(
        resp.header("Content-Length").unwrap(),
        resp.block.len().to_string()
    );
    assert_eq!(resp.header("WARC-Truncated"), None);

    let req = records
        .iter()
        .find(|r| r.id() == Some(ok.request.as_str()))
        .unwrap();
    assert_eq!(req.header("WARC-Type"), Some("request"));
    assert!(req.block.starts_with(b"GET /index.html HTTP/1.1\r\n"));

    let partial = records
        .iter()
        .find(|r| r.id() == cut.response.as_deref())
        .unwrap();
    assert_eq!(partial.header("WARC-Truncated"), Some("length"));

    assert!(failed.response.is_none());
    let meta = records
        .iter()
        .find(|r| r.id() == failed.metadata.as_deref())
        .unwrap();
    assert_eq!(meta.header("WARC-Type"), Some("metadata"));
    let note: serde_json::Value = serde_json::from_slice(&meta.block).unwrap();
    assert_eq!(note["state"], "timeout");
    assert_eq!(failed.evidence(), failed.metadata.as_deref().unwrap());

    // Lookup by id, in the directory or its warc/ subdirectory, in any spelling.
    let id = ok.response.unwrap();
    let bare = id
        .trim_start_matches("<urn:uuid:")
        .trim_end_matches('>')
        .to_uppercase();
    let (found_in, rec) = find_record(&dir, &bare).unwrap().unwrap();
    assert_eq!(found_in, path);
    assert_eq!(rec.id(), Some(id.as_str()));
    assert!(
        find_record(&dir, "urn:uuid:00000000-0000-4000-8000-000000000000")
            .unwrap()
            .is_none()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_member_holding_two_records_is_rejected() {
    // Two records compressed as one gzip stream (what the `warc` crate's gzip writer does).
    let dir = std::env::temp_dir().join(format!("govcap-warc2-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("one.warc.gz");
    let mut w = WarcWriter::create(&path, RecordIds::from_seed(2), "t").unwrap();
    w.write_exchange(&exchange(b"x", None)).unwrap();
    w.flush().unwrap();
    drop(w);
    let members = gzip_members(&std::fs::read(&path).unwrap());
    let joined: Vec<u8> = members.concat();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &joined).unwrap();
    let single = gz.finish().unwrap();
    let mut reader = WarcReader::new(&single[..]);
    assert!(reader.next_record().is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}
