//! A small WARC/1.1 writer and reader: the evidence archive behind every finding.
//!
//! Each record is its own gzip member (the `.warc.gz` convention), so a record can be read
//! from its offset without inflating the file before it, and a crash loses at most the
//! record being written. Digests are SHA-256 in padded base32 (`sha256:…`), as web archives
//! label them (checked with warcio's `warcio check`). Written here rather than taken from the `warc` crate, which gzips a whole file as
//! one stream and opens files without truncating them.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::Compression;
use sha2::{Digest, Sha256};

use crate::clock;
use crate::fetch::{Exchange, Truncation};

/// Largest record the reader inflates (our writer never makes one near it; a corrupt or
/// foreign file cannot make the reader exhaust memory).
const MAX_RECORD_BYTES: u64 = 256 * 1024 * 1024;

/// Generates `urn:uuid` record ids: version-4-shaped UUIDs from a SplitMix64 stream.
/// Seeded explicitly (tests) or from the OS's per-process random keys (runs).
#[derive(Debug, Clone)]
pub struct RecordIds {
    state: u64,
}

impl RecordIds {
    pub fn from_seed(seed: u64) -> Self {
        RecordIds { state: seed }
    }

    /// A seed from the standard library's randomly keyed hasher (OS randomness), mixed with
    /// the time, so two runs (or two files in one run) never share ids.
    pub fn from_os() -> Self {
        use std::collections::hash_map::RandomState;
        use std::hash::{BuildHasher, Hasher};
        let mut h = RandomState::new().build_hasher();
        h.write_i64(clock::now_millis());
        RecordIds { state: h.finish() }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// The next id, e.g. `<urn:uuid:1b4e28ba-2fa1-41d2-883f-0016d3cca427>`.
    pub fn next_id(&mut self) -> String {
        let hi = (self.next_u64() & !0xF000) | 0x4000; // version 4
        let lo = (self.next_u64() & !(0b11 << 62)) | (0b10 << 62); // RFC 4122 variant
        format!(
            "<urn:uuid:{:08x}-{:04x}-{:04x}-{:04x}-{:012x}>",
            hi >> 32,
            (hi >> 16) & 0xFFFF,
            hi & 0xFFFF,
            lo >> 48,
            lo & 0xFFFF_FFFF_FFFF
        )
    }
}

/// `sha256:` plus the RFC 4648 base32 digest (padded, as warcio writes and verifies it).
pub fn sha256_label(bytes: &[u8]) -> String {
    format!("sha256:{}", base32(&Sha256::digest(bytes)))
}

fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buf, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buf = (buf << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buf >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buf << (5 - bits)) & 31) as usize] as char);
    }
    while !out.len().is_multiple_of(8) {
        out.push('=');
    }
    out
}

/// The ids written for one fetch attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeIds {
    pub request: String,
    /// The response record, when a response (even a partial one) arrived.
    pub response: Option<String>,
    /// The metadata record describing a failure, when the attempt failed.
    pub metadata: Option<String>,
}

impl ExchangeIds {
    /// The record a page or finding should cite: the response, else the failure note.
    pub fn evidence(&self) -> &str {
        self.response
            .as_deref()
            .or(self.metadata.as_deref())
            .unwrap_or(&self.request)
    }
}

/// Appends records to one `.warc.gz` file.
pub struct WarcWriter {
    out: BufWriter<File>,
    path: PathBuf,
    bytes: u64,
    records: u64,
    ids: RecordIds,
}

impl WarcWriter {
    /// Creates (truncating) `path` and writes a `warcinfo` record naming the software.
    pub fn create(path: &Path, ids: RecordIds, software: &str) -> io::Result<Self> {
        let file = File::create(path)?;
        let mut w = WarcWriter {
            out: BufWriter::new(file),
            path: path.to_path_buf(),
            bytes: 0,
            records: 0,
            ids,
        };
        let info = format!(
            "software: {software}\r\nformat: WARC File Format 1.1\r\n\
             conformsTo: http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\n"
        );
        let date = clock::rfc3339_millis(clock::now_millis());
        let filename = path.file_name().map(|f| f.to_string_lossy().into_owned());
        let mut fields = Vec::new();
        if let Some(f) = filename {
            fields.push(("WARC-Filename".to_string(), f));
        }
        w.write_record(
            "warcinfo",
            None,
            &date,
            fields,
            "application/warc-fields",
            info.as_bytes(),
            None,
        )?;
        Ok(w)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Compressed bytes written so far.
    pub fn bytes_written(&self) -> u64 {
        self.bytes
    }

    pub fn records_written(&self) -> u64 {
        self.records
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Writes one record as its own gzip member and returns its id. `payload_at` is where
    /// the HTTP payload starts inside `block` (for `WARC-Payload-Digest`).
    #[allow(clippy::too_many_arguments)]
    pub fn write_record(
        &mut self,
        warc_type: &str,
        target_uri: Option<&str>,
        date: &str,
        extra: Vec<(String, String)>,
        content_type: &str,
        block: &[u8],
        payload_at: Option<usize>,
    ) -> io::Result<String> {
        let id = self.ids.next_id();
        let mut head = String::with_capacity(512);
        head.push_str("WARC/1.1\r\n");
        let mut field = |k: &str, v: &str| {
            head.push_str(k);
            head.push_str(": ");
            // Header values must not break the record: drop CR/LF from foreign text.
            head.extend(v.chars().filter(|c| *c != '\r' && *c != '\n'));
            head.push_str("\r\n");
        };
        field("WARC-Type", warc_type);
        field("WARC-Record-ID", &id);
        field("WARC-Date", date);
        if let Some(uri) = target_uri {
            field("WARC-Target-URI", uri);
        }
        for (k, v) in &extra {
            field(k, v);
        }
        field("Content-Type", content_type);
        field("WARC-Block-Digest", &sha256_label(block));
        if let Some(at) = payload_at {
            field(
                "WARC-Payload-Digest",
                &sha256_label(&block[at.min(block.len())..]),
            );
        }
        field("Content-Length", &block.len().to_string());
        head.push_str("\r\n");

        let mut gz = GzEncoder::new(
            Vec::with_capacity(block.len() / 3 + 256),
            Compression::fast(),
        );
        gz.write_all(head.as_bytes())?;
        gz.write_all(block)?;
        gz.write_all(b"\r\n\r\n")?;
        let member = gz.finish()?;
        self.out.write_all(&member)?;
        self.bytes += member.len() as u64;
        self.records += 1;
        Ok(id)
    }

    /// Archives one fetch attempt: the request, then the response (possibly truncated) or a
    /// JSON metadata record saying why there was none.
    pub fn write_exchange(&mut self, ex: &Exchange) -> io::Result<ExchangeIds> {
        let date = clock::rfc3339_millis(ex.started_ms);
        let ip_field = |ip: Option<IpAddr>| -> Vec<(String, String)> {
            ip.map(|ip| vec![("WARC-IP-Address".to_string(), ip.to_string())])
                .unwrap_or_default()
        };
        let request = self.write_record(
            "request",
            Some(&ex.url),
            &date,
            ip_field(ex.remote_ip),
            "application/http;msgtype=request",
            &ex.request_head,
            None,
        )?;
        let mut response = None;
        if let Some(r) = &ex.response {
            let mut block = Vec::with_capacity(r.body.len() + 512);
            block.extend_from_slice(
                format!("{} {} {}\r\n", r.version, r.status, r.reason).as_bytes(),
            );
            for (k, v) in &r.headers {
                // The body is stored de-chunked, so the chunked framing header would lie.
                if k.eq_ignore_ascii_case("transfer-encoding") {
                    continue;
                }
                block.extend_from_slice(k.as_bytes());
                block.extend_from_slice(b": ");
                block.extend_from_slice(v.as_bytes());
                block.extend_from_slice(b"\r\n");
            }
            block.extend_from_slice(b"\r\n");
            let payload_at = block.len();
            block.extend_from_slice(&r.body);
            let mut extra = ip_field(ex.remote_ip);
            extra.push(("WARC-Concurrent-To".to_string(), request.clone()));
            if let Some(t) = r.truncated {
                extra.push(("WARC-Truncated".to_string(), t.as_str().to_string()));
            }
            if ex.legacy_tls {
                extra.push((
                    "WARC-Protocol".to_string(),
                    "tls-legacy-fallback".to_string(),
                ));
            }
            response = Some(self.write_record(
                "response",
                Some(&ex.url),
                &date,
                extra,
                "application/http;msgtype=response",
                &block,
                Some(payload_at),
            )?);
        }
        let mut metadata = None;
        if let Some((state, error)) = &ex.error {
            let body = serde_json::json!({ "state": state, "error": error }).to_string();
            let extra = vec![("WARC-Concurrent-To".to_string(), request.clone())];
            metadata = Some(self.write_record(
                "metadata",
                Some(&ex.url),
                &date,
                extra,
                "application/json",
                body.as_bytes(),
                None,
            )?);
        }
        Ok(ExchangeIds {
            request,
            response,
            metadata,
        })
    }
}

impl WarcWriter {
    /// Archives what a browser made of a page — its DOM after the scripts ran, as UTF-8
    /// HTML — as a WARC/1.1 `conversion` record pointing at the record it was made from
    /// (`WARC-Refers-To`, normally the page's response). Returns the record id.
    pub fn write_conversion(
        &mut self,
        target_uri: &str,
        refers_to: Option<&str>,
        date: &str,
        html: &[u8],
    ) -> io::Result<String> {
        let extra = refers_to
            .map(|r| vec![("WARC-Refers-To".to_string(), r.to_string())])
            .unwrap_or_default();
        self.write_record(
            "conversion",
            Some(target_uri),
            date,
            extra,
            "text/html; charset=utf-8",
            html,
            None,
        )
    }
}

impl Truncation {
    /// The `WARC-Truncated` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Truncation::Length => "length",
            Truncation::Time => "time",
            Truncation::Disconnect => "disconnect",
            Truncation::Unspecified => "unspecified",
        }
    }
}

/// One record read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WarcRecord {
    /// Offset of the record's gzip member in the file.
    pub offset: u64,
    /// WARC header fields in order (the version line excluded).
    pub headers: Vec<(String, String)>,
    pub block: Vec<u8>,
}

impl WarcRecord {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn id(&self) -> Option<&str> {
        self.header("WARC-Record-ID")
    }

    /// For `application/http` records: the HTTP head and the payload.
    pub fn http_parts(&self) -> Option<(&[u8], &[u8])> {
        if !self.header("Content-Type")?.starts_with("application/http") {
            return None;
        }
        let end = self.block.windows(4).position(|w| w == b"\r\n\r\n")?;
        Some((&self.block[..end + 2], &self.block[end + 4..]))
    }
}

/// A `BufRead` that counts consumed bytes, so each gzip member's offset is known.
struct Counting<R> {
    inner: R,
    pos: u64,
}

impl<R: BufRead> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counting<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        self.pos += amt as u64;
        self.inner.consume(amt)
    }
}

/// Reads records member by member.
pub struct WarcReader<R> {
    inner: Counting<R>,
}

impl WarcReader<BufReader<File>> {
    pub fn open(path: &Path) -> io::Result<Self> {
        Ok(WarcReader::new(BufReader::with_capacity(
            64 * 1024,
            File::open(path)?,
        )))
    }
}

impl<R: BufRead> WarcReader<R> {
    pub fn new(inner: R) -> Self {
        WarcReader {
            inner: Counting { inner, pos: 0 },
        }
    }

    /// Reads the next gzip member and parses the one record in it; `None` at end of file.
    /// A member holding more or less than one record is an error (the convention is broken).
    pub fn next_record(&mut self) -> io::Result<Option<WarcRecord>> {
        if self.inner.fill_buf()?.is_empty() {
            return Ok(None);
        }
        let offset = self.inner.pos;
        let mut raw = Vec::new();
        flate2::bufread::GzDecoder::new(&mut self.inner)
            .take(MAX_RECORD_BYTES)
            .read_to_end(&mut raw)?;
        parse_record(offset, raw).map(Some)
    }
}

impl<R: BufRead> Iterator for WarcReader<R> {
    type Item = io::Result<WarcRecord>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_record().transpose()
    }
}

fn bad(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_string())
}

fn parse_record(offset: u64, raw: Vec<u8>) -> io::Result<WarcRecord> {
    let head_end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("WARC record without a header end"))?;
    let head =
        std::str::from_utf8(&raw[..head_end]).map_err(|_| bad("WARC header is not UTF-8"))?;
    let mut lines = head.split("\r\n");
    if !lines.next().is_some_and(|v| v.starts_with("WARC/")) {
        return Err(bad("not a WARC record (no WARC/ version line)"));
    }
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("Content-Length"))
        .and_then(|(_, v)| v.parse().ok())
        .ok_or_else(|| bad("WARC record without a valid Content-Length"))?;
    let start = head_end + 4;
    if raw.len() != start + len + 4 || &raw[start + len..] != b"\r\n\r\n" {
        return Err(bad("gzip member does not hold exactly one WARC record"));
    }
    Ok(WarcRecord {
        offset,
        headers,
        block: raw[start..start + len].to_vec(),
    })
}

/// Normalises what a user types: `urn:uuid:x`, `<urn:uuid:x>` or a bare uuid.
pub fn normalise_record_id(id: &str) -> String {
    let bare = id.trim().trim_start_matches('<').trim_end_matches('>');
    let bare = bare.strip_prefix("urn:uuid:").unwrap_or(bare);
    format!("<urn:uuid:{}>", bare.to_ascii_lowercase())
}

/// Finds a record by id in the `.warc.gz` files of `dir` (or of `dir/warc`).
pub fn find_record(dir: &Path, id: &str) -> io::Result<Option<(PathBuf, WarcRecord)>> {
    let want = normalise_record_id(id);
    let sub = dir.join("warc");
    let root = if sub.is_dir() { sub } else { dir.to_path_buf() };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".warc.gz"))
        .collect();
    files.sort();
    for path in files {
        for rec in WarcReader::open(&path)? {
            let rec = rec?;
            if rec.id() == Some(want.as_str()) {
                return Ok(Some((path, rec)));
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_matches_rfc4648_vectors() {
        // RFC 4648 §10.
        assert_eq!(base32(b""), "");
        assert_eq!(base32(b"f"), "MY======");
        assert_eq!(base32(b"fo"), "MZXQ====");
        assert_eq!(base32(b"foob"), "MZXW6YQ=");
        assert_eq!(base32(b"fooba"), "MZXW6YTB");
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI======");
        // sha256("") = e3b0c442…; its base32 as printed by Python's base64.b32encode.
        assert_eq!(
            sha256_label(b""),
            "sha256:4OYMIQUY7QOBJGX36TEJS35ZEQT24QPEMSNZGTFESWMRW6CSXBKQ===="
        );
    }

    #[test]
    fn ids_are_uuid_v4_shaped_and_distinct() {
        let mut ids = RecordIds::from_seed(7);
        let a = ids.next_id();
        let b = ids.next_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), "<urn:uuid:>".len() + 36);
        let u = &a[10..46];
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"));
        // Same seed, same ids (reproducible tests).
        assert_eq!(RecordIds::from_seed(7).next_id(), a);
    }

    #[test]
    fn conversion_records_refer_to_their_source() {
        let path = std::env::temp_dir().join(format!(
            "govcap-warc-conversion-{}.warc.gz",
            std::process::id()
        ));
        let mut w = WarcWriter::create(&path, RecordIds::from_seed(3), "t").unwrap();
        let src = "<urn:uuid:00000000-0000-4000-8000-000000000001>";
        let id = w
            .write_conversion(
                "http://127.0.0.1/a",
                Some(src),
                "2026-11-27T00:00:00Z",
                "<html>渲染</html>".as_bytes(),
            )
            .unwrap();
        w.flush().unwrap();
        let recs: Vec<WarcRecord> = WarcReader::open(&path)
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        std::fs::remove_file(&path).unwrap();
        let c = &recs[1];
        assert_eq!(c.header("WARC-Type"), Some("conversion"));
        assert_eq!(c.id(), Some(id.as_str()));
        assert_eq!(c.header("WARC-Refers-To"), Some(src));
        assert_eq!(c.header("WARC-Target-URI"), Some("http://127.0.0.1/a"));
        assert_eq!(c.header("Content-Type"), Some("text/html; charset=utf-8"));
        assert_eq!(c.block, "<html>渲染</html>".as_bytes());
    }

    #[test]
    fn record_id_normalisation() {
        let want = "<urn:uuid:1b4e28ba-2fa1-41d2-883f-0016d3cca427>";
        assert_eq!(normalise_record_id(want), want);
        assert_eq!(
            normalise_record_id("urn:uuid:1B4E28BA-2fa1-41d2-883f-0016d3cca427"),
            want
        );
        assert_eq!(
            normalise_record_id("1b4e28ba-2fa1-41d2-883f-0016d3cca427"),
            want
        );
    }
}
