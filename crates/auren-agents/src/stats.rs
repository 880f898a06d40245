//! The statistics the tools state: Welch's t-test (with the Student t distribution through the regularized
//! incomplete beta function), the Mann–Whitney U test (tie-corrected normal approximation with continuity
//! correction, as scipy's `method="asymptotic"`), Cohen's d and Hedges' g. Implemented here rather than
//! taken from a crate so every number a person reads is computed by code tested against published values.

use serde::Serialize;

/// Why a statistic cannot be computed from the data given.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum StatsError {
    #[error("needs at least {needed} values in each group, got {a} and {b}")]
    TooFew { needed: usize, a: usize, b: usize },
    #[error("every value is the same, so the spread is zero and the test is undefined")]
    ZeroVariance,
    #[error("a value is not a finite number")]
    NotFinite,
}

/// n, mean, sample SD (n − 1), min and max of a sample.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Summary {
    pub n: usize,
    pub mean: f64,
    /// `None` with fewer than two values.
    pub sd: Option<f64>,
    pub min: f64,
    pub max: f64,
}

/// The summary of `values`, `None` when empty.
pub fn summary(values: &[f64]) -> Option<Summary> {
    let mean = mean(values)?;
    let (min, max) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    Some(Summary {
        n: values.len(),
        mean,
        sd: variance(values).map(f64::sqrt),
        min,
        max,
    })
}

pub fn mean(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    Some(values.iter().sum::<f64>() / values.len() as f64)
}

/// The sample variance (n − 1 in the denominator), two-pass for accuracy.
pub fn variance(values: &[f64]) -> Option<f64> {
    if values.len() < 2 {
        return None;
    }
    let m = mean(values)?;
    let ss: f64 = values.iter().map(|v| (v - m) * (v - m)).sum();
    Some(ss / (values.len() - 1) as f64)
}

/// The least-squares slope of `y` on `x`; `None` with fewer than two distinct `x`.
pub fn slope(points: &[(f64, f64)]) -> Option<f64> {
    if points.len() < 2 {
        return None;
    }
    let n = points.len() as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx) * (p.0 - mx)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    (sxx > 0.0).then(|| sxy / sxx)
}

fn check(a: &[f64], b: &[f64], needed: usize) -> Result<(), StatsError> {
    if a.len() < needed || b.len() < needed {
        return Err(StatsError::TooFew {
            needed,
            a: a.len(),
            b: b.len(),
        });
    }
    if a.iter().chain(b).any(|v| !v.is_finite()) {
        return Err(StatsError::NotFinite);
    }
    Ok(())
}

/// Welch's unequal-variance t-test of `a` against `b`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Welch {
    /// (mean a − mean b) / standard error.
    pub t: f64,
    /// Welch–Satterthwaite degrees of freedom.
    pub df: f64,
    /// Two-sided p.
    pub p: f64,
}

pub fn welch_t(a: &[f64], b: &[f64]) -> Result<Welch, StatsError> {
    check(a, b, 2)?;
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (ma, mb) = (mean(a).unwrap_or(0.0), mean(b).unwrap_or(0.0));
    let (va, vb) = (variance(a).unwrap_or(0.0) / na, variance(b).unwrap_or(0.0) / nb);
    let se2 = va + vb;
    if se2 <= 0.0 {
        return Err(StatsError::ZeroVariance);
    }
    let t = (ma - mb) / se2.sqrt();
    let df = se2 * se2 / (va * va / (na - 1.0) + vb * vb / (nb - 1.0));
    Ok(Welch {
        t,
        df,
        p: student_t_two_sided_p(t, df),
    })
}

/// The Mann–Whitney U test of `a` against `b`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct MannWhitney {
    /// U of `a`: the number of pairs (x from a, y from b) with x > y, ties counting a half.
    pub u: f64,
    /// The tie-corrected z of the larger U, with continuity correction.
    pub z: f64,
    /// Two-sided p (normal approximation).
    pub p: f64,
}

pub fn mann_whitney_u(a: &[f64], b: &[f64]) -> Result<MannWhitney, StatsError> {
    check(a, b, 1)?;
    let (n1, n2) = (a.len(), b.len());
    let n = n1 + n2;
    let mut all: Vec<(f64, bool)> = a
        .iter()
        .map(|&v| (v, true))
        .chain(b.iter().map(|&v| (v, false)))
        .collect();
    all.sort_by(|x, y| x.0.total_cmp(&y.0));
    // Mid-ranks over runs of ties; the tie term Σ(t³ − t) corrects the variance.
    let mut rank_sum_a = 0.0;
    let mut tie_term = 0.0;
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        let t = (j - i + 1) as f64;
        let mid_rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum_a += mid_rank * all[i..=j].iter().filter(|x| x.1).count() as f64;
        tie_term += t * t * t - t;
        i = j + 1;
    }
    let (f1, f2, nf) = (n1 as f64, n2 as f64, n as f64);
    let u1 = rank_sum_a - f1 * (f1 + 1.0) / 2.0;
    let u2 = f1 * f2 - u1;
    let mu = f1 * f2 / 2.0;
    let var = f1 * f2 / 12.0 * ((nf + 1.0) - tie_term / (nf * (nf - 1.0)));
    if var <= 0.0 {
        return Err(StatsError::ZeroVariance);
    }
    let z = (u1.max(u2) - mu - 0.5) / var.sqrt();
    let p = (2.0 * normal_upper_tail(z)).min(1.0);
    Ok(MannWhitney { u: u1, z, p })
}

/// Standardised mean differences of `a` against `b`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct EffectSize {
    /// (mean a − mean b) / pooled SD.
    pub cohen_d: f64,
    /// Cohen's d with the exact small-sample correction J(df) = Γ(df/2) / (√(df/2) Γ((df−1)/2)).
    pub hedges_g: f64,
}

pub fn effect_size(a: &[f64], b: &[f64]) -> Result<EffectSize, StatsError> {
    check(a, b, 2)?;
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let df = na + nb - 2.0;
    let pooled = ((na - 1.0) * variance(a).unwrap_or(0.0) + (nb - 1.0) * variance(b).unwrap_or(0.0)) / df;
    if pooled <= 0.0 {
        return Err(StatsError::ZeroVariance);
    }
    let d = (mean(a).unwrap_or(0.0) - mean(b).unwrap_or(0.0)) / pooled.sqrt();
    let j = (ln_gamma(df / 2.0) - (df / 2.0).sqrt().ln() - ln_gamma((df - 1.0) / 2.0)).exp();
    Ok(EffectSize {
        cohen_d: d,
        hedges_g: d * j,
    })
}

/// Two-sided p of Student's t with `df` degrees of freedom: I_{df/(df+t²)}(df/2, 1/2).
pub fn student_t_two_sided_p(t: f64, df: f64) -> f64 {
    if t.is_nan() || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if t.is_infinite() {
        return 0.0;
    }
    regularized_incomplete_beta(df / 2.0, 0.5, df / (df + t * t))
}

/// P(Z > z) of the standard normal: erfc(z/√2)/2.
pub fn normal_upper_tail(z: f64) -> f64 {
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; relative error ~1e-15).
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1−x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).abs().ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// I_x(a, b), the regularized incomplete beta function (Numerical Recipes' continued fraction, Lentz).
pub fn regularized_incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front = (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    // The fraction converges fast for x < (a+1)/(a+b+2); use the symmetry I_x(a,b) = 1 − I_{1−x}(b,a) beyond.
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_fraction(b, a, 1.0 - x) / b
    }
}

fn beta_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    const EPS: f64 = 1e-16;
    let guard = |v: f64| if v.abs() < TINY { TINY } else { v };
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 / guard(1.0 - qab * x / qap);
    let mut h = d;
    for m in 1..=500 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 / guard(1.0 + aa * d);
        c = guard(1.0 + aa / c);
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 / guard(1.0 + aa * d);
        c = guard(1.0 + aa / c);
        let step = d * c;
        h *= step;
        if (step - 1.0).abs() < EPS {
            break;
        }
    }
    h
}

/// erfc(x), through the regularized upper incomplete gamma Q(1/2, x²) for full relative precision in the tail.
pub fn erfc(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x < 0.0 {
        return 2.0 - erfc(-x);
    }
    upper_incomplete_gamma(0.5, x * x)
}

/// Q(a, x) = Γ(a, x)/Γ(a): a series below a + 1, a continued fraction above (Numerical Recipes).
fn upper_incomplete_gamma(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    let ln_front = -x + a * x.ln() - ln_gamma(a);
    if x < a + 1.0 {
        let mut ap = a;
        let mut del = 1.0 / a;
        let mut sum = del;
        for _ in 0..1000 {
            ap += 1.0;
            del *= x / ap;
            sum += del;
            if del.abs() < sum.abs() * 1e-17 {
                break;
            }
        }
        1.0 - sum * ln_front.exp()
    } else {
        const TINY: f64 = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / TINY;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..1000 {
            let i = f64::from(i);
            let an = -i * (i - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < TINY {
                d = TINY;
            }
            c = b + an / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            let step = d * c;
            h *= step;
            if (step - 1.0).abs() < 1e-16 {
                break;
            }
        }
        ln_front.exp() * h
    }
}

/// Every test of `a` against `b` a tool reports, with the groups' summaries.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comparison {
    pub a: Summary,
    pub b: Summary,
    /// mean a − mean b.
    pub difference: f64,
    /// The difference as a percent of mean b.
    pub difference_pct: Option<f64>,
    pub welch: Option<Welch>,
    pub mann_whitney: Option<MannWhitney>,
    pub effect: Option<EffectSize>,
    /// Why a test is missing, when one is.
    pub note: Option<String>,
}

/// Compares two samples; `None` when either is empty.
pub fn compare(a: &[f64], b: &[f64]) -> Option<Comparison> {
    let (sa, sb) = (summary(a)?, summary(b)?);
    let welch = welch_t(a, b);
    let mw = mann_whitney_u(a, b);
    let effect = effect_size(a, b);
    let note = [welch.as_ref().err(), mw.as_ref().err(), effect.as_ref().err()]
        .into_iter()
        .flatten()
        .next()
        .map(ToString::to_string);
    Some(Comparison {
        difference: sa.mean - sb.mean,
        difference_pct: (sb.mean != 0.0).then(|| (sa.mean / sb.mean - 1.0) * 100.0),
        a: sa,
        b: sb,
        welch: welch.ok(),
        mann_whitney: mw.ok(),
        effect: effect.ok(),
        note,
    })
}
