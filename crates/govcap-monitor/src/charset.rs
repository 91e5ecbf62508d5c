//! Decoding fetched bytes to text the way a browser would: BOM, then the HTTP charset, then a
//! `<meta>` prescan of the first 1024 bytes, then a statistical guess (chardetng).
//!
//! Why not the HTTP client's `text()`: it looks at the header only and falls back to UTF-8, so
//! a GBK page served with a bare `Content-Type: text/html` (common on Chinese government CMSs)
//! comes out as mojibake. Pure: no I/O.

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8, WINDOWS_1252, X_USER_DEFINED};

/// How the charset was found, in the order tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CharsetSource {
    Bom,
    Header,
    Meta,
    Detected,
}

impl CharsetSource {
    /// The label stored in `Page.charset_source`.
    pub fn as_str(self) -> &'static str {
        match self {
            CharsetSource::Bom => "bom",
            CharsetSource::Header => "header",
            CharsetSource::Meta => "meta",
            CharsetSource::Detected => "detected",
        }
    }
}

/// The decoded text and how it was decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub text: String,
    /// WHATWG encoding name, e.g. `GBK`, `UTF-8`.
    pub encoding: &'static str,
    pub source: CharsetSource,
    /// True when some bytes were malformed for the chosen encoding (replaced by U+FFFD).
    pub had_errors: bool,
    /// Set when the header and the `<meta>` tag name different encodings (a common CMS slip
    /// worth recording as evidence): (header, meta).
    pub conflict: Option<(&'static str, &'static str)>,
}

/// The encoding named by a `Content-Type` value's `charset` parameter, if any and known.
pub fn charset_from_content_type(content_type: &str) -> Option<&'static Encoding> {
    for param in content_type.split(';').skip(1) {
        let Some((name, value)) = param.split_once('=') else {
            continue;
        };
        if name.trim().eq_ignore_ascii_case("charset") {
            let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
            return Encoding::for_label(value.as_bytes());
        }
    }
    None
}

/// The encoding declared by a `<meta charset>` or `<meta http-equiv="Content-Type"
/// content="...charset=...">` tag in the first 1024 bytes (a simplified WHATWG prescan:
/// comments are skipped, attribute values may be quoted or bare).
pub fn prescan_meta(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(1024)];
    let mut i = 0;
    while i < head.len() {
        if head[i..].starts_with(b"<!--") {
            i = match find(&head[i + 4..], b"-->") {
                Some(end) => i + 4 + end + 3,
                None => return None,
            };
            continue;
        }
        if head[i] == b'<'
            && i + 5 <= head.len()
            && head[i + 1..i + 5].eq_ignore_ascii_case(b"meta")
        {
            let after = head.get(i + 5).copied().unwrap_or(b'>');
            if after.is_ascii_whitespace() || after == b'/' {
                let (attrs, end) = parse_attributes(head, i + 5);
                if let Some(enc) = meta_encoding(&attrs) {
                    return Some(browser_override(enc));
                }
                i = end;
                continue;
            }
        }
        i += 1;
    }
    None
}

/// What WHATWG does with a declared UTF-16 or x-user-defined in a meta tag: the bytes were
/// readable as ASCII, so it cannot be UTF-16.
fn browser_override(enc: &'static Encoding) -> &'static Encoding {
    if enc == UTF_16BE || enc == UTF_16LE {
        UTF_8
    } else if enc == X_USER_DEFINED {
        WINDOWS_1252
    } else {
        enc
    }
}

fn meta_encoding(attrs: &[(String, String)]) -> Option<&'static Encoding> {
    let get = |name: &str| {
        attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if let Some(cs) = get("charset") {
        return Encoding::for_label(cs.trim().as_bytes());
    }
    let http_equiv = get("http-equiv")?;
    if !http_equiv.trim().eq_ignore_ascii_case("content-type") {
        return None;
    }
    let content = get("content")?;
    let lower = content.to_ascii_lowercase();
    let pos = lower.find("charset")?;
    let rest = content[pos + 7..].trim_start();
    let rest = rest.strip_prefix('=')?.trim_start();
    let rest = rest.trim_start_matches(['"', '\'']);
    let end = rest
        .find(|c: char| c == ';' || c == '"' || c == '\'' || c.is_whitespace())
        .unwrap_or(rest.len());
    Encoding::for_label(&rest.as_bytes()[..end])
}

/// Parses attributes from `start` (just after the tag name) to the closing `>`; returns
/// lower-cased names with values, and the index after the tag.
fn parse_attributes(b: &[u8], start: usize) -> (Vec<(String, String)>, usize) {
    let mut attrs = Vec::new();
    let mut i = start;
    loop {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        if i >= b.len() {
            return (attrs, i);
        }
        if b[i] == b'>' {
            return (attrs, i + 1);
        }
        let name_start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && !matches!(b[i], b'=' | b'>' | b'/') {
            i += 1;
        }
        let name = String::from_utf8_lossy(&b[name_start..i]).to_ascii_lowercase();
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if i < b.len() && b[i] == b'=' {
            i += 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                let q = b[i];
                i += 1;
                let vs = i;
                while i < b.len() && b[i] != q {
                    i += 1;
                }
                value = String::from_utf8_lossy(&b[vs..i]).into_owned();
                i += 1;
            } else {
                let vs = i;
                while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' {
                    i += 1;
                }
                value = String::from_utf8_lossy(&b[vs..i]).into_owned();
            }
        }
        if !name.is_empty() && !attrs.iter().any(|(k, _)| *k == name) {
            attrs.push((name, value));
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// chardetng's guess; `tld` is the host's top-level domain (e.g. `b"cn"`), which biases the
/// guess towards the legacy encodings used there.
pub fn detect(bytes: &[u8], tld: Option<&[u8]>) -> &'static Encoding {
    // 64 KiB is plenty for a confident guess and bounds the work on huge pages.
    let sample = &bytes[..bytes.len().min(64 * 1024)];
    let mut det = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    det.feed(sample, sample.len() == bytes.len());
    det.guess(tld, chardetng::Utf8Detection::Allow)
}

/// Decodes an HTML (or text) body. `content_type` is the response header, `tld` the hint for
/// detection. If the declared charset yields malformed bytes and the next candidate decodes
/// cleanly, the next candidate wins (sites declare gb2312 or UTF-8 and send GBK).
pub fn decode_html(bytes: &[u8], content_type: Option<&str>, tld: Option<&[u8]>) -> Decoded {
    if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        let (text, had_errors) = enc.decode_without_bom_handling(&bytes[bom_len..]);
        return Decoded {
            text: text.into_owned(),
            encoding: enc.name(),
            source: CharsetSource::Bom,
            had_errors,
            conflict: None,
        };
    }
    let header = content_type.and_then(charset_from_content_type);
    let meta = prescan_meta(bytes);
    let conflict = match (header, meta) {
        (Some(h), Some(m)) if h != m => Some((h.name(), m.name())),
        _ => None,
    };
    let mut candidates: Vec<(&'static Encoding, CharsetSource)> = Vec::with_capacity(3);
    if let Some(h) = header {
        candidates.push((h, CharsetSource::Header));
    }
    if let Some(m) = meta {
        candidates.push((m, CharsetSource::Meta));
    }
    let detected = detect(bytes, tld);
    candidates.push((detected, CharsetSource::Detected));

    let (first_enc, first_src) = candidates[0];
    let (text, had_errors) = first_enc.decode_without_bom_handling(bytes);
    if had_errors {
        for &(enc, src) in &candidates[1..] {
            if enc == first_enc {
                continue;
            }
            let (alt, alt_errors) = enc.decode_without_bom_handling(bytes);
            if !alt_errors {
                return Decoded {
                    text: alt.into_owned(),
                    encoding: enc.name(),
                    source: src,
                    had_errors: false,
                    conflict,
                };
            }
        }
    }
    Decoded {
        text: text.into_owned(),
        encoding: first_enc.name(),
        source: first_src,
        had_errors,
        conflict,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use encoding_rs::GBK;

    fn gbk(s: &str) -> Vec<u8> {
        GBK.encode(s).0.into_owned()
    }

    const BODY: &str = "<html><head><title>北京市人民政府门户网站</title></head><body>\
        <ul><li>政务公开</li><li>政务服务</li><li>互动交流</li><li>领导信箱</li>\
        <li>关于开展2024年度政府网站工作年度报表的通知</li></ul></body></html>";

    #[test]
    fn content_type_charset_parameter() {
        assert_eq!(
            charset_from_content_type("text/html; charset=GB2312"),
            Some(GBK)
        );
        assert_eq!(
            charset_from_content_type("text/html;charset=\"utf-8\""),
            Some(UTF_8)
        );
        assert_eq!(charset_from_content_type("text/html"), None);
        assert_eq!(charset_from_content_type("text/html; charset=bogus"), None);
    }

    #[test]
    fn meta_prescan_both_forms() {
        assert_eq!(
            prescan_meta(b"<html><head><meta charset=\"gbk\">"),
            Some(GBK)
        );
        assert_eq!(prescan_meta(b"<META CHARSET=utf-8>"), Some(UTF_8));
        let equiv = b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=gb2312\" />";
        assert_eq!(prescan_meta(equiv), Some(GBK));
        // Inside a comment: ignored. Past 1024 bytes: ignored.
        assert_eq!(prescan_meta(b"<!-- <meta charset=gbk> --><p>"), None);
        let mut late = vec![b' '; 1100];
        late.extend_from_slice(b"<meta charset=gbk>");
        assert_eq!(prescan_meta(&late), None);
        // A declared UTF-16 cannot be true for ASCII-readable bytes.
        assert_eq!(prescan_meta(b"<meta charset=utf-16le>"), Some(UTF_8));
        // <metadata> is not <meta>.
        assert_eq!(prescan_meta(b"<metadata charset=gbk>"), None);
    }

    #[test]
    fn gbk_without_any_declaration_is_detected() {
        let bytes = gbk(BODY);
        let d = decode_html(&bytes, Some("text/html"), Some(b"cn"));
        assert_eq!(d.encoding, "GBK");
        assert_eq!(d.source, CharsetSource::Detected);
        assert!(!d.had_errors);
        assert!(d.text.contains("北京市人民政府门户网站"));
    }

    #[test]
    fn meta_beats_detection_and_header_beats_meta() {
        let mut bytes = b"<meta charset=gb2312>".to_vec();
        bytes.extend(gbk(BODY));
        let d = decode_html(&bytes, None, None);
        assert_eq!((d.encoding, d.source), ("GBK", CharsetSource::Meta));
        // Header says GBK, meta says UTF-8: header wins (it decodes cleanly); conflict recorded.
        let mut bytes = b"<meta charset=utf-8>".to_vec();
        bytes.extend(gbk(BODY));
        let d = decode_html(&bytes, Some("text/html; charset=gbk"), None);
        assert_eq!((d.encoding, d.source), ("GBK", CharsetSource::Header));
        assert_eq!(d.conflict, Some(("GBK", "UTF-8")));
    }

    #[test]
    fn wrong_utf8_header_falls_back_to_a_clean_candidate() {
        let bytes = gbk(BODY);
        let d = decode_html(&bytes, Some("text/html; charset=utf-8"), Some(b"cn"));
        assert_eq!((d.encoding, d.source), ("GBK", CharsetSource::Detected));
        assert!(d.text.contains("领导信箱"));
    }

    #[test]
    fn bom_wins() {
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend_from_slice("<meta charset=gbk>政府".as_bytes());
        let d = decode_html(&bytes, Some("text/html; charset=gbk"), None);
        assert_eq!((d.encoding, d.source), ("UTF-8", CharsetSource::Bom));
        assert!(d.text.ends_with("政府"));
    }
}
