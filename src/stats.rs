//! Small statistics: Wilson intervals, percentiles, the exact McNemar test and Holm's
//! correction for testing many slices at once.

/// 95% Wilson score interval for an observed rate `p` on a sample of `n`. With repeats
/// `p` is the pass rate over every result and `n` the number of cases.
pub fn wilson_interval(p: f64, n: u64) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    const Z: f64 = 1.959_963_984_540_054;
    let n_f = n as f64;
    let z2 = Z * Z;
    let denom = 1.0 + z2 / n_f;
    let centre = (p + z2 / (2.0 * n_f)) / denom;
    let half = Z * ((p * (1.0 - p) / n_f) + z2 / (4.0 * n_f * n_f)).sqrt() / denom;
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

/// Nearest-rank percentile (`q` in 0..=100) of values sorted in ascending order.
pub fn percentile(sorted: &[u64], q: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((q / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// `num / den`, or `None` when there is nothing to divide by.
pub fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

/// Two-sided exact McNemar test on the discordant pairs of a paired comparison:
/// `b` pairs went pass→fail and `c` went fail→pass. Under "no change" each discordant
/// pair is a fair coin, so the p-value is a two-sided binomial tail with p = 1/2.
pub fn mcnemar_exact(b: u64, c: u64) -> f64 {
    let n = b + c;
    if n == 0 {
        return 1.0;
    }
    let k = b.min(c);
    // Sum C(n, i) / 2^n for i in 0..=k in log space, so large n neither overflows nor underflows.
    let ln_half_n = -(n as f64) * std::f64::consts::LN_2;
    let mut ln_binom = 0.0; // ln C(n, 0)
    let mut tail = 0.0;
    for i in 0..=k {
        if i > 0 {
            ln_binom += ((n - i + 1) as f64).ln() - (i as f64).ln();
        }
        tail += (ln_binom + ln_half_n).exp();
    }
    (2.0 * tail).min(1.0)
}

/// Holm–Bonferroni adjusted p-values, in the order given.
pub fn holm(p_values: &[f64]) -> Vec<f64> {
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]));
    let mut adjusted = vec![0.0; m];
    let mut running_max: f64 = 0.0;
    for (rank, &i) in order.iter().enumerate() {
        let value = ((m - rank) as f64 * p_values[i]).min(1.0);
        running_max = running_max.max(value);
        adjusted[i] = running_max;
    }
    adjusted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-4
    }

    #[test]
    fn wilson_matches_known_values() {
        // 8 of 10: the textbook 95% Wilson interval is [0.4902, 0.9433].
        let (lo, hi) = wilson_interval(0.8, 10).unwrap();
        assert!(close(lo, 0.4902) && close(hi, 0.9433), "{lo} {hi}");
        let (lo, hi) = wilson_interval(0.0, 20).unwrap();
        assert!(close(lo, 0.0) && close(hi, 0.1611), "{lo} {hi}");
        let (lo, hi) = wilson_interval(1.0, 20).unwrap();
        assert!(close(lo, 0.8389) && close(hi, 1.0), "{lo} {hi}");
        assert_eq!(wilson_interval(0.0, 0), None);
    }

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), Some(50));
        assert_eq!(percentile(&v, 95.0), Some(95));
        assert_eq!(percentile(&v, 99.0), Some(99));
        assert_eq!(percentile(&[7], 99.0), Some(7));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn mcnemar_exact_known_values() {
        // b=0, c=5: 2 * (1/32) = 0.0625 (not significant with only five pairs).
        assert!(close(mcnemar_exact(5, 0), 0.0625));
        // b=1, c=9: 2 * (1 + 10) / 1024 = 0.021484375.
        assert!(close(mcnemar_exact(1, 9), 0.021_484_375));
        // b=0, c=6: 2/64 = 0.03125, the smallest count that is significant at 0.05.
        assert!(close(mcnemar_exact(0, 6), 0.03125));
        assert_eq!(mcnemar_exact(0, 0), 1.0);
        assert_eq!(mcnemar_exact(3, 3), 1.0);
        // Large counts stay finite and tiny.
        let p = mcnemar_exact(0, 2000);
        assert!((0.0..1e-100).contains(&p));
    }

    #[test]
    fn holm_adjusts_in_step_down_order() {
        let adj = holm(&[0.01, 0.04, 0.03, 0.005]);
        // Sorted: 0.005*4=0.02, 0.01*3=0.03, 0.03*2=0.06, 0.04*1=0.04 -> monotone 0.06.
        let expected = [0.03, 0.06, 0.06, 0.02];
        for (a, e) in adj.iter().zip(expected) {
            assert!(close(*a, e), "{adj:?}");
        }
        assert!(holm(&[]).is_empty());
    }
}
