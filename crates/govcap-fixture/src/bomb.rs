//! A gzip bomb: a small, valid gzip body that inflates to gigabytes of zeros.
//!
//! Compressing gigabytes at start-up would be slow, so one 1 MiB block of zeros is deflated
//! with a full flush (byte-aligned, dictionary reset); the stream after a full flush is the
//! same for every further block, so it is repeated instead of recomputed. The CRC-32 of the
//! whole inflated body is combined arithmetically (zlib's `crc32_combine`), so the bomb is a
//! well-formed gzip member that a decoder only rejects by its size.

use flate2::{Compress, Compression, FlushCompress};

const CHUNK: usize = 1 << 20;
const POLY: u32 = 0xedb8_8320;

/// Product of two polynomials modulo the CRC-32 polynomial (reflected), as in zlib.
fn multmodp(a: u32, mut b: u32) -> u32 {
    let mut m = 1u32 << 31;
    let mut p = 0u32;
    loop {
        if a & m != 0 {
            p ^= b;
            if a & (m - 1) == 0 {
                break;
            }
        }
        m >>= 1;
        b = if b & 1 != 0 { (b >> 1) ^ POLY } else { b >> 1 };
    }
    p
}

/// x^(n·2^k) modulo the CRC-32 polynomial.
fn x2nmodp(mut n: u64, mut k: u32) -> u32 {
    let mut table = [0u32; 32];
    let mut p = 1u32 << 30;
    for t in table.iter_mut() {
        *t = p;
        p = multmodp(p, p);
    }
    let mut out = 1u32 << 31;
    while n != 0 {
        if n & 1 != 0 {
            out = multmodp(table[(k & 31) as usize], out);
        }
        n >>= 1;
        k += 1;
    }
    out
}

/// CRC-32 of `a ‖ b` from the CRCs of `a` and `b` and the length of `b`.
pub fn crc32_combine(crc_a: u32, crc_b: u32, len_b: u64) -> u32 {
    multmodp(x2nmodp(len_b, 3), crc_a) ^ crc_b
}

fn deflate_chunk(c: &mut Compress, input: &[u8], flush: FlushCompress) -> Vec<u8> {
    let mut out = Vec::new();
    let start_in = c.total_in();
    loop {
        out.reserve(64 * 1024);
        let consumed = (c.total_in() - start_in) as usize;
        c.compress_vec(&input[consumed..], &mut out, flush)
            .expect("deflate into memory cannot fail");
        // As with zlib: all input taken and room left in the output means the flush is done.
        if (c.total_in() - start_in) as usize == input.len() && out.len() < out.capacity() {
            return out;
        }
    }
}

/// A gzip body inflating to at least `inflated` bytes of zeros (rounded up to whole MiB).
pub fn gzip_bomb(inflated: u64) -> Vec<u8> {
    let chunks = inflated.div_ceil(CHUNK as u64).max(1);
    let zeros = vec![0u8; CHUNK];
    let mut c = Compress::new(Compression::best(), false);
    let first = deflate_chunk(&mut c, &zeros, FlushCompress::Full);
    let repeat = deflate_chunk(&mut c, &zeros, FlushCompress::Full);
    let finish = deflate_chunk(&mut c, &[], FlushCompress::Finish);

    let mut crc = flate2::Crc::new();
    crc.update(&zeros);
    let chunk_crc = crc.sum();
    let shift = x2nmodp(CHUNK as u64, 3);
    let mut total_crc = chunk_crc;
    for _ in 1..chunks {
        total_crc = multmodp(shift, total_crc) ^ chunk_crc;
    }
    let total_len = chunks * CHUNK as u64;

    let mut out = Vec::with_capacity(
        10 + first.len() + repeat.len() * (chunks as usize - 1) + finish.len() + 8,
    );
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
    out.extend_from_slice(&first);
    for _ in 1..chunks {
        out.extend_from_slice(&repeat);
    }
    out.extend_from_slice(&finish);
    out.extend_from_slice(&total_crc.to_le_bytes());
    out.extend_from_slice(&(total_len as u32).to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn combine_matches_direct_crc() {
        let a = b"hello, ";
        let b = b"world";
        let crc = |d: &[u8]| {
            let mut c = flate2::Crc::new();
            c.update(d);
            c.sum()
        };
        assert_eq!(
            crc32_combine(crc(a), crc(b), b.len() as u64),
            crc(b"hello, world")
        );
    }

    #[test]
    fn small_bomb_is_valid_gzip_of_the_promised_size() {
        let bomb = gzip_bomb(3 * CHUNK as u64);
        assert!(
            bomb.len() < 16 * 1024,
            "3 MiB of zeros in {} bytes",
            bomb.len()
        );
        // GzDecoder checks the CRC and the length in the trailer.
        let mut d = flate2::read::GzDecoder::new(&bomb[..]);
        let mut n = 0u64;
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let k = d.read(&mut buf).expect("a valid gzip stream");
            if k == 0 {
                break;
            }
            assert!(buf[..k].iter().all(|&x| x == 0));
            n += k as u64;
        }
        assert_eq!(n, 3 * CHUNK as u64);
    }

    #[test]
    fn one_gib_bomb_is_about_a_megabyte() {
        let bomb = gzip_bomb(1 << 30);
        assert!(bomb.len() < 1_200_000, "{} bytes", bomb.len());
        assert!(bomb.len() > 1_000, "{} bytes", bomb.len());
    }
}
