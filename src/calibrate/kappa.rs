//! Agreement between two raters: raw agreement and Cohen's κ, for pass/fail verdicts and
//! for the four outcomes, and a seeded bootstrap interval for the pass/fail κ.

/// Why a κ has no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Undefined {
    /// Nothing was rated by both raters.
    NothingRated,
    /// Both raters gave one and the same answer every time: chance agreement is 1.
    ConstantRaters,
}

impl Undefined {
    pub fn reason(self) -> &'static str {
        match self {
            Undefined::NothingRated => "no labelled criteria",
            Undefined::ConstantRaters => {
                "both raters gave every criterion the same verdict, so chance agreement is 1"
            }
        }
    }
}

/// Pass/fail verdicts of two raters (`first` is the judge, or the first labeler) on the
/// same items, counted by the four ways they can fall.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassFail {
    pub both_pass: u64,
    /// First says pass, second says fail: a lenient judge.
    pub only_first_pass: u64,
    /// First says fail, second says pass: a harsh judge.
    pub only_second_pass: u64,
    pub both_fail: u64,
}

impl PassFail {
    pub fn add(&mut self, first: bool, second: bool) {
        match (first, second) {
            (true, true) => self.both_pass += 1,
            (true, false) => self.only_first_pass += 1,
            (false, true) => self.only_second_pass += 1,
            (false, false) => self.both_fail += 1,
        }
    }

    pub fn merge(&mut self, other: &PassFail) {
        self.both_pass += other.both_pass;
        self.only_first_pass += other.only_first_pass;
        self.only_second_pass += other.only_second_pass;
        self.both_fail += other.both_fail;
    }

    pub fn total(&self) -> u64 {
        self.both_pass + self.only_first_pass + self.only_second_pass + self.both_fail
    }

    pub fn agreement(&self) -> Option<f64> {
        let n = self.total();
        (n > 0).then(|| (self.both_pass + self.both_fail) as f64 / n as f64)
    }

    /// κ = (p_o − p_e)/(1 − p_e), p_e from each rater's own pass rate.
    pub fn kappa(&self) -> Result<f64, Undefined> {
        let n = self.total();
        if n == 0 {
            return Err(Undefined::NothingRated);
        }
        // Decided on counts, not floats: p_e is exactly 1 only when neither rater ever
        // disagreed and one verdict was never given.
        let disagreed = self.only_first_pass + self.only_second_pass > 0;
        if !disagreed && (self.both_pass == 0 || self.both_fail == 0) {
            return Err(Undefined::ConstantRaters);
        }
        let n = n as f64;
        let observed = (self.both_pass + self.both_fail) as f64 / n;
        let first_pass = (self.both_pass + self.only_first_pass) as f64 / n;
        let second_pass = (self.both_pass + self.only_second_pass) as f64 / n;
        let chance = first_pass * second_pass + (1.0 - first_pass) * (1.0 - second_pass);
        Ok((observed - chance) / (1.0 - chance))
    }
}

/// Categorical agreement: each pair is (first rater's category, second rater's).
pub fn categorical_agreement<T: PartialEq>(pairs: &[(T, T)]) -> Option<f64> {
    let n = pairs.len();
    (n > 0).then(|| pairs.iter().filter(|(a, b)| a == b).count() as f64 / n as f64)
}

/// Cohen's κ over categories; p_e = Σ_k p_first(k) · p_second(k).
pub fn categorical_kappa<T: PartialEq>(pairs: &[(T, T)]) -> Result<f64, Undefined> {
    let n = pairs.len();
    if n == 0 {
        return Err(Undefined::NothingRated);
    }
    let mut categories: Vec<&T> = Vec::new();
    for (a, b) in pairs {
        for c in [a, b] {
            if !categories.contains(&c) {
                categories.push(c);
            }
        }
    }
    let share = |count: usize| count as f64 / n as f64;
    let mut chance = 0.0;
    let mut constant = false;
    for c in &categories {
        let first = pairs.iter().filter(|(a, _)| a == *c).count();
        let second = pairs.iter().filter(|(_, b)| b == *c).count();
        constant |= first == n && second == n;
        chance += share(first) * share(second);
    }
    if constant {
        return Err(Undefined::ConstantRaters);
    }
    let observed = categorical_agreement(pairs).unwrap_or(0.0);
    Ok((observed - chance) / (1.0 - chance))
}

/// The 95% percentile interval of κ over `resamples` resamples of the rated units (one
/// `PassFail` per labelled result: results, not criteria, are what was sampled). Resamples
/// where κ is undefined are left out; `None` when every one was.
pub fn bootstrap_interval(units: &[PassFail], resamples: usize, seed: u64) -> Option<[f64; 2]> {
    if units.is_empty() {
        return None;
    }
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut kappas = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        let mut pooled = PassFail::default();
        for _ in 0..units.len() {
            pooled.merge(&units[rng.usize(..units.len())]);
        }
        if let Ok(k) = pooled.kappa() {
            kappas.push(k);
        }
    }
    if kappas.is_empty() {
        return None;
    }
    kappas.sort_by(f64::total_cmp);
    let at = |q: f64| kappas[((kappas.len() - 1) as f64 * q).round() as usize];
    Some([at(0.025), at(0.975)])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(both_pass: u64, only_first: u64, only_second: u64, both_fail: u64) -> PassFail {
        PassFail {
            both_pass,
            only_first_pass: only_first,
            only_second_pass: only_second,
            both_fail,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn kappa_by_hand() {
        // 20 pass/pass, 5 judge-only pass, 10 human-only pass, 15 fail/fail; n = 50.
        // p_o = 35/50 = 0.7; judge passes 25/50 = 0.5, human 30/50 = 0.6;
        // p_e = 0.5·0.6 + 0.5·0.4 = 0.5; κ = (0.7 − 0.5)/(1 − 0.5) = 0.4.
        let c = counts(20, 5, 10, 15);
        assert!(close(c.agreement().unwrap(), 0.7));
        assert!(close(c.kappa().unwrap(), 0.4));
    }

    #[test]
    fn perfect_agreement_is_one() {
        // p_o = 1; p_e = 0.3·0.3 + 0.7·0.7 = 0.58; κ = 0.42/0.42 = 1.
        let c = counts(3, 0, 0, 7);
        assert!(close(c.kappa().unwrap(), 1.0));
    }

    #[test]
    fn agreement_below_chance_is_negative() {
        // p_o = 0; judge passes 1/2, human 1/2; p_e = 0.5; κ = (0 − 0.5)/0.5 = −1.
        assert!(close(counts(0, 1, 1, 0).kappa().unwrap(), -1.0));
    }

    #[test]
    fn kappa_is_undefined_when_both_raters_are_constant_or_nothing_was_rated() {
        assert_eq!(counts(4, 0, 0, 0).kappa(), Err(Undefined::ConstantRaters));
        assert_eq!(counts(0, 0, 0, 4).kappa(), Err(Undefined::ConstantRaters));
        assert_eq!(counts(0, 0, 0, 0).kappa(), Err(Undefined::NothingRated));
        assert_eq!(counts(0, 0, 0, 0).agreement(), None);
        // One rater constant, the other not: p_e = 1·0.5 + 0·0.5 = 0.5, p_o = 0.5, κ = 0.
        assert!(close(counts(2, 2, 0, 0).kappa().unwrap(), 0.0));
    }

    #[test]
    fn categorical_kappa_by_hand() {
        // 4 pairs: (r,r) (r,r) (e,e) (r,d). p_o = 3/4.
        // first: r 3/4, e 1/4; second: r 2/4, e 1/4, d 1/4.
        // p_e = 3/4·2/4 + 1/4·1/4 + 0·1/4 = 6/16 + 1/16 = 7/16.
        // κ = (12/16 − 7/16)/(9/16) = 5/9.
        let pairs = [("r", "r"), ("r", "r"), ("e", "e"), ("r", "d")];
        assert!(close(categorical_agreement(&pairs).unwrap(), 0.75));
        assert!(close(categorical_kappa(&pairs).unwrap(), 5.0 / 9.0));
        assert_eq!(
            categorical_kappa(&[("r", "r"), ("r", "r")]),
            Err(Undefined::ConstantRaters)
        );
        assert_eq!(categorical_kappa::<&str>(&[]), Err(Undefined::NothingRated));
    }

    fn units() -> Vec<PassFail> {
        let mut units = Vec::new();
        for i in 0..40u64 {
            let mut u = PassFail::default();
            // Mostly agreeing, with a lenient miss every fourth result and a harsh one every
            // seventh.
            u.add(true, i % 4 != 0);
            u.add(i % 7 == 0, false);
            u.add(i % 2 == 0, i % 2 == 0);
            units.push(u);
        }
        units
    }

    #[test]
    fn the_bootstrap_interval_holds_the_estimate_and_repeats_with_its_seed() {
        let units = units();
        let mut pooled = PassFail::default();
        units.iter().for_each(|u| pooled.merge(u));
        let kappa = pooled.kappa().unwrap();
        let [lo, hi] = bootstrap_interval(&units, 2000, 17).unwrap();
        assert!(lo < kappa && kappa < hi, "{lo} < {kappa} < {hi}");
        assert!(hi - lo > 0.01, "the resamples differ");
        assert_eq!(bootstrap_interval(&units, 2000, 17), Some([lo, hi]));
        assert_ne!(bootstrap_interval(&units, 2000, 18), Some([lo, hi]));
    }

    #[test]
    fn no_interval_when_every_resample_is_undefined() {
        assert_eq!(bootstrap_interval(&[counts(1, 0, 0, 0)], 50, 1), None);
        assert_eq!(bootstrap_interval(&[], 50, 1), None);
    }
}
