//! Geometric HRV from the RR histogram: HRV triangular index, TINN and Baevsky's stress index.
//!
//! Histograms use bins aligned to multiples of the bin width from 0 ms (bin b holds
//! `b·w ≤ rr < (b+1)·w`), so a beat falls in the same bin whatever else the recording holds.

use crate::metric::{Absent, Metric, check_rr, finite};

/// The Task Force / Kubios histogram bin for the triangular index and TINN: 1/128 s.
pub const TRIANGULAR_BIN_MS: f64 = 1000.0 / 128.0;
/// Baevsky's histogram bin for the stress index.
pub const STRESS_BIN_MS: f64 = 50.0;
/// Fewest beats whose histogram is given a shape: below this a "mode" is a handful of coincidences.
pub const MIN_BEATS: usize = 50;
/// The widest histogram built (in bins): 4096 × 7.8 ms = 32 s of RR range, far beyond physiology;
/// wider input is refused rather than allocated.
const MAX_BINS: usize = 4096;

/// The geometric metrics; field names follow the reference key style.
#[derive(Debug, Clone, PartialEq)]
pub struct Geometric {
    pub tri_index: Metric,
    pub tinn_ms: Metric,
    pub stress_index: Metric,
}

impl Geometric {
    /// Every metric absent for the same reason.
    pub fn absent(why: Absent) -> Self {
        Geometric {
            tri_index: Err(why.clone()),
            tinn_ms: Err(why.clone()),
            stress_index: Err(why),
        }
    }
}

/// All three geometric metrics (see [`triangular_index`], [`tinn`], [`stress_index`]).
pub fn geometric(rr: &[f64]) -> Geometric {
    match check_rr(rr) {
        Ok(()) => geometric_checked(rr),
        Err(why) => Geometric::absent(why),
    }
}

pub(crate) fn geometric_checked(rr: &[f64]) -> Geometric {
    let (tri_index, tinn_ms) = match Histogram::new(rr, TRIANGULAR_BIN_MS) {
        Ok(h) => (Ok(h.triangular_index()), h.tinn(rr)),
        Err(why) => (Err(why.clone()), Err(why)),
    };
    Geometric {
        tri_index,
        tinn_ms,
        stress_index: stress_checked(rr),
    }
}

/// HRV triangular index: beats divided by the height of the 1/128 s histogram (Task Force 1996).
/// Needs [`MIN_BEATS`].
pub fn triangular_index(rr: &[f64]) -> Metric {
    check_rr(rr)?;
    Ok(Histogram::new(rr, TRIANGULAR_BIN_MS)?.triangular_index())
}

/// TINN (ms): the base width `M − N` of the triangle fitted by least squares to the 1/128 s histogram,
/// as Kubios and the Task Force (1996) define it.
///
/// The triangle is 0 up to N, rises linearly to the histogram's peak height at the modal bin X, falls
/// linearly to 0 at M and is 0 beyond; N and M are bin centres, N from one bin below the histogram up
/// to X − 1, M from X + 1 up to one bin above it, chosen to minimise Σ(D − q)² over all bins. The left
/// and right errors are independent, so each side is searched on its own (O(bins²)). Needs
/// [`MIN_BEATS`]; a constant series is [`Absent::ZeroVariance`].
pub fn tinn(rr: &[f64]) -> Metric {
    check_rr(rr)?;
    Histogram::new(rr, TRIANGULAR_BIN_MS)?.tinn(rr)
}

/// Baevsky's stress index `SI = AMo / (2 · Mo · MxDMn)` from a 50 ms histogram: AMo the modal bin's
/// share of beats (%), Mo its centre (s), MxDMn the RR range (s) (Baevsky & Chernikova 2017).
///
/// This is the classic index (typically 50–150 at rest). Kubios reports a square-root form with
/// Mo the median ([`stress_index_kubios`]). Ties for the mode take the shortest RR bin. Needs
/// [`MIN_BEATS`]; a constant series is [`Absent::ZeroVariance`].
pub fn stress_index(rr: &[f64]) -> Metric {
    check_rr(rr)?;
    stress_checked(rr)
}

/// The stress index as Kubios's user's guide defines it: `√(AMo / (2 · Mo · MxDMn))` with Mo the
/// median RR (s), AMo the modal 50 ms bin's share of beats (%) and MxDMn the RR range (s) (Kubios
/// HRV user's guide, "Stress index"; the square root makes the index closer to normally
/// distributed). Typically 7–12 at rest. Kubios 3.1's own value differs on long recordings: on five
/// one-hour reports it is 1.1–2.2 × this, and within ±5 % of it only after a slow trend is removed,
/// by a rule not found (`tests/data/kubios/README.md`). Needs [`MIN_BEATS`]; a constant series is
/// [`Absent::ZeroVariance`].
pub fn stress_index_kubios(rr: &[f64]) -> Metric {
    check_rr(rr)?;
    kubios_stress_checked(rr)
}

pub(crate) fn kubios_stress_checked(rr: &[f64]) -> Metric {
    let h = Histogram::new(rr, STRESS_BIN_MS)?;
    let (min, max) = min_max(rr);
    if max == min {
        return Err(Absent::ZeroVariance);
    }
    let amo_pct = 100.0 * f64::from(h.mode().1) / rr.len() as f64;
    let mo_s = median(rr) / 1000.0;
    finite(
        (amo_pct / (2.0 * mo_s * (max - min) / 1000.0)).sqrt(),
        "stress index overflowed",
    )
}

/// The median (mean of the two middle values for an even count, as MATLAB's `median`).
fn median(x: &[f64]) -> f64 {
    let mut v = x.to_vec();
    let mid = v.len() / 2;
    let (below, upper, _) = v.select_nth_unstable_by(mid, f64::total_cmp);
    let upper = *upper;
    if !x.len().is_multiple_of(2) {
        upper
    } else {
        let lower = below.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        0.5 * (lower + upper)
    }
}

fn stress_checked(rr: &[f64]) -> Metric {
    let h = Histogram::new(rr, STRESS_BIN_MS)?;
    let (min, max) = min_max(rr);
    if max == min {
        return Err(Absent::ZeroVariance);
    }
    let (mode_bin, height) = h.mode();
    let mo_s = (h.first_bin + mode_bin as f64 + 0.5) * STRESS_BIN_MS / 1000.0;
    let amo_pct = 100.0 * height as f64 / rr.len() as f64;
    finite(
        amo_pct / (2.0 * mo_s * (max - min) / 1000.0),
        "stress index overflowed",
    )
}

fn min_max(rr: &[f64]) -> (f64, f64) {
    rr.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        })
}

/// Counts per bin from the bin of the shortest beat to that of the longest.
struct Histogram {
    /// Index (in bins from 0 ms) of `counts[0]`.
    first_bin: f64,
    counts: Vec<u32>,
    beats: usize,
}

impl Histogram {
    fn new(rr: &[f64], width: f64) -> Result<Histogram, Absent> {
        if rr.len() < MIN_BEATS {
            return Err(Absent::TooFewBeats {
                needed: MIN_BEATS,
                got: rr.len(),
            });
        }
        let (min, max) = min_max(rr);
        let (first, last) = ((min / width).floor(), (max / width).floor());
        if last - first >= MAX_BINS as f64 {
            return Err(Absent::Undefined(
                "RR range too wide for a histogram (over 4096 bins)",
            ));
        }
        let mut counts = vec![0u32; (last - first) as usize + 1];
        for &v in rr {
            let b = ((v / width).floor() - first) as usize;
            if let Some(c) = counts.get_mut(b) {
                *c += 1;
            }
        }
        Ok(Histogram {
            first_bin: first,
            counts,
            beats: rr.len(),
        })
    }

    /// The first tallest bin and its count.
    fn mode(&self) -> (usize, u32) {
        self.counts
            .iter()
            .enumerate()
            .fold((0, 0), |best, (b, &c)| if c > best.1 { (b, c) } else { best })
    }

    fn triangular_index(&self) -> f64 {
        self.beats as f64 / f64::from(self.mode().1.max(1))
    }

    fn tinn(&self, rr: &[f64]) -> Metric {
        let (min, max) = min_max(rr);
        if max == min {
            return Err(Absent::ZeroVariance);
        }
        let d: Vec<f64> = self.counts.iter().map(|&c| f64::from(c)).collect();
        let (x, y) = self.mode();
        let y = f64::from(y);
        let len = d.len() as isize;
        let x = x as isize;
        let at = |b: isize| if b >= 0 && b < len { d[b as usize] } else { 0.0 };
        // Left side: q(b) = 0 for b ≤ n, y·(b − n)/(x − n) for n < b < x; bins left of x.
        let left_error = |n: isize| -> f64 {
            (0..x)
                .map(|b| {
                    let q = if b <= n {
                        0.0
                    } else {
                        y * (b - n) as f64 / (x - n) as f64
                    };
                    (at(b) - q).powi(2)
                })
                .sum()
        };
        let right_error = |m: isize| -> f64 {
            (x + 1..len)
                .map(|b| {
                    let q = if b >= m {
                        0.0
                    } else {
                        y * (m - b) as f64 / (m - x) as f64
                    };
                    (at(b) - q).powi(2)
                })
                .sum()
        };
        let best = |candidates: Vec<isize>, error: &dyn Fn(isize) -> f64| -> isize {
            candidates
                .into_iter()
                .map(|c| (c, error(c)))
                .fold((0, f64::INFINITY), |b, (c, e)| if e < b.1 { (c, e) } else { b })
                .0
        };
        let n = best((-1..x).collect(), &left_error);
        let m = best((x + 1..=len).collect(), &right_error);
        finite((m - n) as f64 * TRIANGULAR_BIN_MS, "TINN overflowed")
    }
}
