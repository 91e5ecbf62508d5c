//! Evidence files evaluators and units upload (screenshots, PDFs): the type is decided by the
//! bytes, not by what the client claims; each file is stored once by its SHA-256 and served
//! back sandboxed, so a file can never run script in our origin.

use govcap_core::access::Action;
use govcap_store::campaigns::{self, EvidenceFile};
use serde_json::json;

use crate::audit::{self, Actor};
use crate::auth::Caller;
use crate::problem::Problem;
use crate::state::AppState;

/// The largest evidence file accepted.
pub const MAX_BYTES: usize = 10 << 20;

/// The type of an evidence file from its first bytes; only images and PDF are evidence.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    let starts = |m: &[u8]| bytes.starts_with(m);
    if starts(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if starts(b"\xff\xd8\xff") {
        Some("image/jpeg")
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && starts(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else if starts(b"%PDF-") {
        Some("application/pdf")
    } else {
        None
    }
}

fn sha256_hex(b: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

/// Stores an uploaded file; returns (sha256, type, size). Audited once per upload.
pub async fn upload(
    state: &AppState,
    caller: &Caller,
    name: &str,
    bytes: Vec<u8>,
) -> Result<(String, &'static str, usize), Problem> {
    caller.require(Action::Evidence)?;
    if bytes.is_empty() {
        return Err(Problem::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "the file is empty",
        ));
    }
    if bytes.len() > MAX_BYTES {
        return Err(Problem::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            format!("evidence files are at most {} MiB", MAX_BYTES >> 20),
        ));
    }
    let Some(mime) = sniff(&bytes) else {
        return Err(Problem::new(
            axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "evidence files are images (PNG, JPEG, GIF, WebP) or PDF, judged by their content",
        ));
    };
    let sha = sha256_hex(&bytes);
    let size = bytes.len();
    let name: String = name
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '/' | '\\' | '"'))
        .take(120)
        .collect();
    let f = EvidenceFile {
        sha256: sha.clone(),
        mime: mime.into(),
        name: if name.is_empty() {
            "evidence".into()
        } else {
            name
        },
        bytes,
        uploaded_by: caller.name().to_string(),
        uploaded_at: crate::clock::now(),
    };
    let actor = Actor::of(caller);
    state
        .pool
        .tx(true, move |tx| {
            let new = campaigns::put_evidence_file(tx, &f)?;
            audit::record(
                tx,
                &actor,
                "evidence.upload",
                &format!("evidence/{}", f.sha256),
                None,
                Some(json!({"name": f.name, "type": f.mime, "size": f.bytes.len(), "new": new})),
            )?;
            Ok(())
        })
        .await?;
    Ok((sha, mime, size))
}

/// A stored file for a signed-in caller.
pub async fn get(state: &AppState, caller: &Caller, sha: &str) -> Result<EvidenceFile, Problem> {
    caller.require(Action::Evidence)?;
    let ok = sha.len() == 64 && sha.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if !ok {
        return Err(Problem::not_found("this evidence file"));
    }
    let sha = sha.to_string();
    state
        .pool
        .tx(false, move |tx| campaigns::evidence_file(tx, &sha))
        .await?
        .ok_or_else(|| Problem::not_found("this evidence file"))
}

#[cfg(test)]
mod tests {
    use super::sniff;

    #[test]
    fn types_come_from_the_bytes() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(sniff(b"%PDF-1.7\n"), Some("application/pdf"));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(
            sniff(b"<svg onload=alert(1)>"),
            None,
            "SVG can carry script"
        );
        assert_eq!(sniff(b"<html><script>"), None);
        assert_eq!(sniff(b""), None);
    }
}
