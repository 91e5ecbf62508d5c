//! Text decoding for CSV files saved by Chinese-locale tools.
//!
//! Excel and WPS on Chinese Windows save "CSV" as GBK without any marker, while other tools
//! write UTF-8 with or without a byte-order mark, or UTF-16. Evaluators cannot be expected to
//! know which one they produced, so the reader works it out.

use std::borrow::Cow;

use encoding_rs::{Encoding, GB18030, UTF_16BE, UTF_16LE, UTF_8};

/// Bytes that are not text in any encoding govcap reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EncodingError(String);

/// Decodes a text file: a byte-order mark decides (UTF-8, UTF-16LE, UTF-16BE); without one,
/// valid UTF-8 is taken as UTF-8 and anything else as GB18030 (a superset of GBK and GB2312).
///
/// Returns the text without its byte-order mark, and the name of the encoding used (for
/// messages). Malformed input is an error rather than replacement characters, because a
/// silently mangled unit name or note would be stored as evidence.
pub fn decode_text(bytes: &[u8]) -> Result<(String, &'static str), EncodingError> {
    let (encoding, body): (&'static Encoding, &[u8]) = match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => (UTF_8, rest),
        [0xFF, 0xFE, rest @ ..] => (UTF_16LE, rest),
        [0xFE, 0xFF, rest @ ..] => (UTF_16BE, rest),
        _ => match std::str::from_utf8(bytes) {
            Ok(s) => return Ok((s.to_string(), "UTF-8")),
            Err(_) => (GB18030, bytes),
        },
    };
    match encoding.decode_without_bom_handling_and_without_replacement(body) {
        Some(Cow::Borrowed(s)) => Ok((s.to_string(), encoding.name())),
        Some(Cow::Owned(s)) => Ok((s, encoding.name())),
        None if encoding == GB18030 => Err(EncodingError(
            "the file is neither UTF-8 nor GBK/GB18030 text; save it as UTF-8 CSV".to_string(),
        )),
        None => Err(EncodingError(format!(
            "the file starts with a {} byte-order mark but contains bytes that are not {} text",
            encoding.name(),
            encoding.name()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_each_encoding() {
        let text = "单位,备注\n110000,北京·测试\n";
        assert_eq!(
            decode_text(text.as_bytes()).unwrap(),
            (text.to_string(), "UTF-8")
        );

        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice(text.as_bytes());
        assert_eq!(decode_text(&bom).unwrap(), (text.to_string(), "UTF-8"));

        let (gbk, _, bad) = encoding_rs::GBK.encode(text);
        assert!(!bad);
        assert!(std::str::from_utf8(&gbk).is_err());
        assert_eq!(decode_text(&gbk).unwrap(), (text.to_string(), "gb18030"));

        let mut le = vec![0xFF, 0xFE];
        let mut be = vec![0xFE, 0xFF];
        for u in text.encode_utf16() {
            le.extend_from_slice(&u.to_le_bytes());
            be.extend_from_slice(&u.to_be_bytes());
        }
        assert_eq!(decode_text(&le).unwrap(), (text.to_string(), "UTF-16LE"));
        assert_eq!(decode_text(&be).unwrap(), (text.to_string(), "UTF-16BE"));
    }

    #[test]
    fn malformed_bytes_are_an_error_not_replacement_characters() {
        // 0x80 alone is not a GB18030 sequence; 0xFF never is.
        assert!(decode_text(&[b'a', 0xFF, 0xFF]).is_err());
        // A UTF-8 BOM followed by invalid UTF-8.
        assert!(decode_text(&[0xEF, 0xBB, 0xBF, 0xC3, 0x28]).is_err());
    }
}
