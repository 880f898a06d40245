//! Not-a-knot cubic spline interpolation, solved in O(n) as scipy's `CubicSpline` does.
//!
//! scipy solves for the knot slopes; with not-a-knot ends that system stays tridiagonal (its first
//! and last rows are rewritten rather than widened), so a Thomas sweep solves it. Coefficients and
//! evaluation follow scipy's `CubicHermiteSpline`/`PPoly` so results agree to rounding.

use crate::metric::Absent;

/// A piecewise cubic through the knots `(x[i], y[i])`, not-a-knot at both ends.
#[derive(Debug, Clone, PartialEq)]
pub struct CubicSpline {
    x: Vec<f64>,
    /// Per interval, the power-basis coefficients in `s = t − x[i]`: `c[0]·s³ + c[1]·s² + c[2]·s + c[3]`.
    c: Vec<[f64; 4]>,
}

impl CubicSpline {
    /// Builds the spline; `x` must increase strictly and both slices must be finite and equally long.
    ///
    /// Two knots give the straight line and three the parabola through them (scipy's rules for
    /// not-a-knot with so few knots).
    pub fn not_a_knot(x: &[f64], y: &[f64]) -> Result<Self, Absent> {
        let n = x.len();
        if n != y.len() {
            return Err(Absent::Undefined("spline knots and values differ in length"));
        }
        if n < 2 {
            return Err(Absent::TooFewBeats { needed: 2, got: n });
        }
        if x.iter().chain(y).any(|v| !v.is_finite()) {
            return Err(Absent::Undefined("spline knots must be finite"));
        }
        if x.windows(2).any(|w| w[1] <= w[0]) {
            return Err(Absent::Undefined("spline knots must increase strictly"));
        }
        let dx: Vec<f64> = x.windows(2).map(|w| w[1] - w[0]).collect();
        let slope: Vec<f64> = y.windows(2).zip(&dx).map(|(w, h)| (w[1] - w[0]) / h).collect();
        let s = match n {
            2 => vec![slope[0], slope[0]],
            3 => {
                let mid = (dx[0] * slope[1] + dx[1] * slope[0]) / (dx[0] + dx[1]);
                vec![2.0 * slope[0] - mid, mid, 2.0 * slope[1] - mid]
            }
            _ => knot_slopes(x, &dx, &slope),
        };
        let c = (0..n - 1)
            .map(|i| {
                let t = (s[i] + s[i + 1] - 2.0 * slope[i]) / dx[i];
                [t / dx[i], (slope[i] - s[i]) / dx[i] - t, s[i], y[i]]
            })
            .collect();
        Ok(CubicSpline { x: x.to_vec(), c })
    }

    /// The spline at `at` (extrapolating the end pieces outside the knots).
    pub fn eval(&self, at: f64) -> f64 {
        let i = self
            .x
            .partition_point(|&k| k <= at)
            .saturating_sub(1)
            .min(self.c.len() - 1);
        self.piece(i, at)
    }

    /// The spline at every point of the non-decreasing `at`, walking the intervals once: O(n + m).
    pub fn eval_sorted(&self, at: &[f64]) -> Vec<f64> {
        let last = self.c.len() - 1;
        let mut i = 0;
        at.iter()
            .map(|&t| {
                while i < last && t >= self.x[i + 1] {
                    i += 1;
                }
                self.piece(i, t)
            })
            .collect()
    }

    fn piece(&self, i: usize, t: f64) -> f64 {
        // scipy's PPoly sums c[k]·s^k with s^k built by repeated products (not Horner).
        let s = t - self.x[i];
        let c = &self.c[i];
        let (mut z, mut res) = (1.0, 0.0);
        for k in (0..4).rev() {
            res += c[k] * z;
            z *= s;
        }
        res
    }
}

/// The slopes at the knots (n ≥ 4): scipy's banded system, solved by a Thomas sweep.
fn knot_slopes(x: &[f64], dx: &[f64], slope: &[f64]) -> Vec<f64> {
    let n = x.len();
    let (mut lower, mut diag, mut upper, mut rhs) = (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    let d0 = x[2] - x[0];
    diag[0] = dx[1];
    upper[0] = d0;
    rhs[0] = ((dx[0] + 2.0 * d0) * dx[1] * slope[0] + dx[0] * dx[0] * slope[1]) / d0;
    for i in 1..n - 1 {
        lower[i] = dx[i];
        diag[i] = 2.0 * (dx[i - 1] + dx[i]);
        upper[i] = dx[i - 1];
        rhs[i] = 3.0 * (dx[i] * slope[i - 1] + dx[i - 1] * slope[i]);
    }
    let dn = x[n - 1] - x[n - 3];
    lower[n - 1] = dn;
    diag[n - 1] = dx[n - 3];
    rhs[n - 1] =
        (dx[n - 2] * dx[n - 2] * slope[n - 3] + (2.0 * dn + dx[n - 2]) * dx[n - 3] * slope[n - 2]) / dn;
    // Forward elimination; pivots stay positive (the first is dx[1], the second dx[0] + dx[1], the
    // rest diagonally dominant), so no pivoting is needed.
    for i in 1..n {
        let f = lower[i] / diag[i - 1];
        diag[i] -= f * upper[i - 1];
        rhs[i] -= f * rhs[i - 1];
    }
    let mut s = vec![0.0; n];
    s[n - 1] = rhs[n - 1] / diag[n - 1];
    for i in (0..n - 1).rev() {
        s[i] = (rhs[i] - upper[i] * s[i + 1]) / diag[i];
    }
    s
}
