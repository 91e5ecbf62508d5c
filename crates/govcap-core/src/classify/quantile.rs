//! Equal-count cuts that never split tied values.
//!
//! The ideal `c`-th cut of `n` sorted values into `k` groups lies after `c·n/k` values. Only
//! positions between two DIFFERENT values are admissible, so each cut goes to the admissible
//! position nearest its ideal (on a tie of distances, the lower position, so that a tied run
//! moves up into the higher group). Cuts are placed lowest first, each above the previous one
//! and leaving enough admissible positions for the cuts still to come; when there are fewer
//! admissible positions than cuts (only possible for sub-levels), the extra groups stay empty.

/// Positions `p_1 ≤ … ≤ p_(k-1)` in `0..=n` of `k − 1` cuts of ascending `s`: group `c` is
/// `s[p_c .. p_(c+1)]` with `p_0 = 0`, `p_k = n`. Strictly increasing and inside `1..n` when
/// `s` has at least `k` distinct values.
pub(super) fn cut_positions(s: &[f64], k: usize) -> Vec<usize> {
    let n = s.len();
    let ideal = |c: usize| c as f64 * n as f64 / k as f64;
    let admissible: Vec<usize> = (1..n).filter(|&p| s[p - 1] != s[p]).collect();
    let cuts = k.saturating_sub(1);
    let mut out = Vec::with_capacity(cuts);
    if admissible.len() >= cuts {
        let mut from = 0;
        for c in 1..=cuts {
            // Leave one admissible position for each later cut.
            let to = admissible.len() - (cuts - c);
            let i = nearest(&admissible[from..to], ideal(c)) + from;
            out.push(admissible[i]);
            from = i + 1;
        }
    } else {
        let mut all = Vec::with_capacity(admissible.len() + 2);
        all.push(0);
        all.extend_from_slice(&admissible);
        all.push(n);
        let mut from = 0;
        for c in 1..=cuts {
            let i = nearest(&all[from..], ideal(c)) + from;
            out.push(all[i]);
            from = i;
        }
    }
    out
}

/// Index of the position nearest `target` in ascending `positions` (lower one on a tie).
fn nearest(positions: &[usize], target: f64) -> usize {
    let mut best = 0;
    for (i, &p) in positions.iter().enumerate() {
        if (p as f64 - target).abs() < (positions[best] as f64 - target).abs() {
            best = i;
        }
    }
    best
}

/// jenkspy-style breaks `[min, b1, …, max]` of validated ascending `s`, `k ≤ distinct values`.
pub(super) fn breaks_sorted(s: &[f64], k: usize) -> Vec<f64> {
    let n = s.len();
    let mut breaks = Vec::with_capacity(k + 1);
    breaks.push(s[0]);
    breaks.extend(cut_positions(s, k).into_iter().map(|p| s[p - 1]));
    breaks.push(s[n - 1]);
    breaks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_move_to_the_nearest_boundary_between_distinct_values() {
        // Ideal cut after 2.5 values; admissible 1 (1|2) and 4 (2|3): 1 is nearer.
        let s = [1.0, 2.0, 2.0, 2.0, 3.0];
        assert_eq!(cut_positions(&s, 2), vec![1]);
        // Equal distances (ideal 2, admissible 1 and 3): the lower one.
        assert_eq!(cut_positions(&[1.0, 2.0, 2.0, 3.0], 2), vec![1]);
        // Too few distinct values: extra groups are empty, cuts stay ordered.
        assert_eq!(cut_positions(&[5.0, 5.0, 5.0, 5.0], 4), vec![0, 0, 4]);
        assert_eq!(cut_positions(&[1.0, 1.0, 2.0, 2.0], 4), vec![0, 2, 2]);
    }

    #[test]
    fn a_long_tie_run_cannot_swallow_the_cuts_after_it() {
        // Ideal cuts after 3.33 and 6.67 values; only positions 8 and 9 are admissible.
        let s = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 3.0];
        assert_eq!(cut_positions(&s, 3), vec![8, 9]);
    }
}
