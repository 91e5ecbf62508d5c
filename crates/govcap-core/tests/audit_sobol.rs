//! The Sobol' generator against scipy 1.17.1 (`scipy.stats.qmc.Sobol(1024, scramble=False)`,
//! `fast_forward(i)` then `random(1)`), which uses the same Joe–Kuo direction numbers, and the
//! net property that the digital shift must keep.

use govcap_core::audit::sobol::{Sobol, SobolError, MAX_DIMENSIONS};

/// (point index, coordinates of dimensions 1, 2, 3, 11, 101, 501, 1024) from scipy.
const SCIPY: &[(u32, [f64; 7])] = &[
    (1, [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]),
    (2, [0.75, 0.25, 0.25, 0.75, 0.25, 0.25, 0.75]),
    (3, [0.25, 0.75, 0.75, 0.25, 0.75, 0.75, 0.25]),
    (
        100,
        [
            0.4140625, 0.2578125, 0.7734375, 0.4609375, 0.0390625, 0.1796875, 0.9453125,
        ],
    ),
    (
        1023,
        [
            0.0009765625,
            0.7529296875,
            0.6123046875,
            0.6787109375,
            0.2373046875,
            0.3818359375,
            0.9951171875,
        ],
    ),
    (
        4097,
        [
            0.5003662109375,
            0.9705810546875,
            0.3358154296875,
            0.3450927734375,
            0.7669677734375,
            0.4005126953125,
            0.1607666015625,
        ],
    ),
    (
        123456,
        [
            0.02649688720703125,
            0.18274688720703125,
            0.30725860595703125,
            0.49910736083984375,
            0.5315628051757812,
            0.20032501220703125,
            0.44696807861328125,
        ],
    ),
];

const DIMS: [usize; 7] = [0, 1, 2, 10, 100, 500, 1023];

#[test]
fn unshifted_points_equal_scipy() {
    let s = Sobol::new(MAX_DIMENSIONS).unwrap();
    let mut p = vec![0.0; MAX_DIMENSIONS];
    s.point(0, &mut p);
    assert!(p.iter().all(|&x| x == 0.0));
    for (i, want) in SCIPY {
        s.point(*i, &mut p);
        let got: Vec<f64> = DIMS.iter().map(|&d| p[d]).collect();
        assert_eq!(got, want.to_vec(), "point {i}");
    }
}

#[test]
fn fewer_dimensions_give_the_same_leading_coordinates() {
    let big = Sobol::new(64).unwrap();
    let small = Sobol::new(11).unwrap();
    let (mut a, mut b) = (vec![0.0; 64], vec![0.0; 11]);
    for i in [5u32, 77, 1000] {
        big.point(i, &mut a);
        small.point(i, &mut b);
        assert_eq!(a[..11], b[..]);
    }
}

/// Every block of 2^m points from index 0 puts exactly one point in each of the 2^m intervals
/// [k/2^m, (k+1)/2^m) of every dimension — with and without a digital shift.
fn one_point_per_interval(s: &Sobol, m: u32) {
    let n = 1usize << m;
    let mut p = vec![0.0; s.dims()];
    let mut seen = vec![vec![false; n]; s.dims()];
    for i in 0..n as u32 {
        s.point(i, &mut p);
        for (d, &x) in p.iter().enumerate() {
            assert!((0.0..1.0).contains(&x));
            let k = (x * n as f64) as usize;
            assert!(!seen[d][k], "dimension {d}: two points in interval {k}");
            seen[d][k] = true;
        }
    }
}

#[test]
fn digital_shift_keeps_the_stratification_and_depends_on_the_seed() {
    one_point_per_interval(&Sobol::new(40).unwrap(), 8);
    let a = Sobol::with_digital_shift(40, 1).unwrap();
    one_point_per_interval(&a, 8);
    let b = Sobol::with_digital_shift(40, 2).unwrap();
    let (mut pa, mut pb, mut pa2) = (vec![0.0; 40], vec![0.0; 40], vec![0.0; 40]);
    a.point(3, &mut pa);
    b.point(3, &mut pb);
    assert_ne!(pa, pb);
    Sobol::with_digital_shift(40, 1).unwrap().point(3, &mut pa2);
    assert_eq!(pa, pa2, "same seed, same points");
}

#[test]
fn dimension_limits() {
    assert_eq!(Sobol::new(0).unwrap_err(), SobolError::NoDimensions);
    assert_eq!(
        Sobol::new(MAX_DIMENSIONS + 1).unwrap_err(),
        SobolError::TooManyDimensions(MAX_DIMENSIONS + 1)
    );
}
