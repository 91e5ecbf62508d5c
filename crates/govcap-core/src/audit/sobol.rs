//! Sobol' low-discrepancy sequence with Joe–Kuo direction numbers.
//!
//! Quasi-random points fill the unit cube far more evenly than pseudo-random ones, so the
//! Monte Carlo estimates of an audit (rank quantiles, Sobol' indices) converge faster for the
//! same number of model runs; the JRC audits and SALib sample this way.
//!
//! # The sequence
//!
//! Dimension 1 is van der Corput's sequence (all `m_k = 1`). Dimension `j ≥ 2` has a primitive
//! polynomial of degree `s` over GF(2) with interior coefficients `a_1 … a_(s−1)` and initial
//! odd numbers `m_1 … m_s` (`m_k < 2^k`), taken from Joe and Kuo's `new-joe-kuo-6.21201`
//! (embedded: `new-joe-kuo-6.1024.txt`, the first 1024 dimensions, with its licence). Further
//! `m_k` follow Bratley and Fox's recurrence
//!
//! `m_k = 2 a_1 m_(k−1) ⊕ 2² a_2 m_(k−2) ⊕ … ⊕ 2^(s−1) a_(s−1) m_(k−s+1) ⊕ 2^s m_(k−s) ⊕ m_(k−s)`,
//!
//! the direction numbers are `V_k = m_k · 2^(32−k)`, and point `i` (from 0) in Gray-code order is
//! `x_j(i) = (⊕_k g_k V_k) / 2^32`, where `g_k` are the bits of `gray(i) = i ⊕ (i >> 1)`. This is
//! the order of Joe and Kuo's reference program and of `scipy.stats.qmc.Sobol(scramble=False)`,
//! which give the same numbers for the first 2^30 points. A point is computed from its index
//! alone, so draws can be evaluated in parallel in any order.
//!
//! # Seeding: a random digital shift
//!
//! [`Sobol::with_digital_shift`] XORs every coordinate of dimension `j` with one 32-bit number
//! drawn from SplitMix64 seeded by `seed` (Owen-style scrambling's simplest member). A digital
//! shift keeps the (t, m, s)-net structure that makes the sequence even — every block of
//! 2^m consecutive points from index 0 still puts one point in each elementary interval — while
//! different seeds give different, independent-looking point sets, so repeated audits can be
//! compared. The unshifted sequence ([`Sobol::new`]) starts at the origin.

use thiserror::Error;

const BITS: usize = 32;
const DIRECTION_NUMBERS: &str = include_str!("new-joe-kuo-6.1024.txt");

/// Largest number of dimensions the embedded direction numbers support.
pub const MAX_DIMENSIONS: usize = 1024;

/// Why a generator cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SobolError {
    #[error("a Sobol sequence needs at least one dimension")]
    NoDimensions,
    #[error("{0} dimensions were asked for, but the embedded Joe-Kuo direction numbers cover {MAX_DIMENSIONS}")]
    TooManyDimensions(usize),
}

/// A Sobol' sequence generator of fixed dimension.
#[derive(Debug, Clone)]
pub struct Sobol {
    /// `v[j][k]` = direction number `V_(k+1)` of dimension `j`.
    v: Vec<[u32; BITS]>,
    /// Digital shift per dimension (0 = unshifted).
    shift: Vec<u32>,
}

impl Sobol {
    /// The plain (unshifted) sequence in `dims` dimensions.
    pub fn new(dims: usize) -> Result<Self, SobolError> {
        if dims == 0 {
            return Err(SobolError::NoDimensions);
        }
        if dims > MAX_DIMENSIONS {
            return Err(SobolError::TooManyDimensions(dims));
        }
        let mut v = Vec::with_capacity(dims);
        // Dimension 1: m_k = 1 for every k.
        let mut first = [0u32; BITS];
        for (k, slot) in first.iter_mut().enumerate() {
            *slot = 1u32 << (BITS - 1 - k);
        }
        v.push(first);
        for line in DIRECTION_NUMBERS
            .lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with('d'))
            .take(dims - 1)
        {
            let nums: Vec<u32> = line
                .split_whitespace()
                .map(|t| t.parse().expect("embedded direction numbers are integers"))
                .collect();
            let (s, a) = (nums[1] as usize, nums[2]);
            let m_init = &nums[3..3 + s];
            let mut m = [0u64; BITS];
            for k in 0..BITS {
                m[k] = if k < s {
                    u64::from(m_init[k])
                } else {
                    // Bratley–Fox recurrence on the m's (0-based: m[k] from m[k-1..k-s]).
                    let mut x = m[k - s] ^ (m[k - s] << s);
                    for i in 1..s {
                        if (a >> (s - 1 - i)) & 1 == 1 {
                            x ^= m[k - i] << i;
                        }
                    }
                    x
                };
            }
            let mut dir = [0u32; BITS];
            for k in 0..BITS {
                // m_k < 2^k, so the shifted value fits 32 bits.
                dir[k] = (m[k] << (BITS - 1 - k)) as u32;
            }
            v.push(dir);
        }
        Ok(Sobol {
            shift: vec![0; dims],
            v,
        })
    }

    /// The sequence with a random digital shift drawn from `seed` (see the module docs).
    pub fn with_digital_shift(dims: usize, seed: u64) -> Result<Self, SobolError> {
        let mut s = Self::new(dims)?;
        let mut rng = SplitMix64::new(seed);
        for sh in s.shift.iter_mut() {
            *sh = (rng.next_u64() >> 32) as u32;
        }
        Ok(s)
    }

    pub fn dims(&self) -> usize {
        self.v.len()
    }

    /// Writes point `index` (Gray-code order, from 0) into `out[..dims]`, each coordinate in [0, 1).
    ///
    /// # Panics
    /// If `out` is shorter than the dimension.
    pub fn point(&self, index: u32, out: &mut [f64]) {
        let gray = index ^ (index >> 1);
        for (j, (dir, sh)) in self.v.iter().zip(&self.shift).enumerate() {
            let mut x = *sh;
            let mut g = gray;
            let mut k = 0;
            while g != 0 {
                if g & 1 == 1 {
                    x ^= dir[k];
                }
                g >>= 1;
                k += 1;
            }
            out[j] = f64::from(x) / 4_294_967_296.0;
        }
    }
}

/// SplitMix64 (Steele, Lea and Flood 2014): a tiny seeded generator for the digital shift and
/// the bootstrap, stable across platforms and crate versions.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform integer in `0..n` (n ≥ 1) by Lemire's multiply-shift with rejection, so every
    /// value is exactly equally likely.
    pub fn below(&mut self, n: u64) -> u64 {
        let threshold = n.wrapping_neg() % n;
        loop {
            let m = u128::from(self.next_u64()) * u128::from(n);
            if (m as u64) >= threshold {
                return (m >> 64) as u64;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_points_of_the_first_dimensions() {
        // Joe and Kuo's table: dims 2 (s=1, m=1), 3 (s=2, a=1, m=1,3).
        let s = Sobol::new(3).unwrap();
        let mut p = [0.0; 3];
        let expect = [
            [0.0, 0.0, 0.0],
            [0.5, 0.5, 0.5],
            [0.75, 0.25, 0.25],
            [0.25, 0.75, 0.75],
            [0.375, 0.375, 0.625],
        ];
        for (i, e) in expect.iter().enumerate() {
            s.point(i as u32, &mut p);
            assert_eq!(&p, e, "point {i}");
        }
    }

    #[test]
    fn splitmix_reference() {
        // Rosetta Code "Splitmix64" reference outputs for seed 1234567.
        let mut r = SplitMix64::new(1234567);
        assert_eq!(r.next_u64(), 6457827717110365317);
        assert_eq!(r.next_u64(), 3203168211198807973);
    }
}
