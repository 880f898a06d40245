//! Smoothness-priors detrending (Tarvainen, Ranta-aho & Karjalainen 2002) with an O(n) banded solver.
//!
//! The trend solves `(I + λ²D₂ᵀD₂)·trend = z`; the matrix is symmetric positive definite and
//! pentadiagonal, so a banded LDLᵀ factorisation solves it in linear time and memory.

/// `z` minus its smoothness-priors trend with regularisation `lambda` (the reference uses 500 at 4 Hz).
pub fn smoothness_priors(z: &[f64], lambda: f64) -> Vec<f64> {
    let trend = smoothness_priors_trend(z, lambda);
    z.iter().zip(trend).map(|(v, t)| v - t).collect()
}

/// The smoothness-priors trend of `z`. With fewer than three samples there is no second difference
/// to penalise and the trend is `z` itself.
pub fn smoothness_priors_trend(z: &[f64], lambda: f64) -> Vec<f64> {
    let n = z.len();
    if n < 3 {
        return z.to_vec();
    }
    let l2 = lambda * lambda;
    // Row r of D₂ (r = 0..n−2) has 1, −2, 1 at columns r, r+1, r+2; count which rows touch column i.
    let row = |r: isize| r >= 0 && r <= n as isize - 3;
    let mut d = vec![0.0; n];
    let mut l1 = vec![0.0; n];
    let mut l2v = vec![0.0; n];
    for i in 0..n {
        let ii = i as isize;
        let m_ii = 1.0
            + l2 * (f64::from(u8::from(row(ii - 2)))
                + 4.0 * f64::from(u8::from(row(ii - 1)))
                + f64::from(u8::from(row(ii))));
        let m_i1 = -2.0 * l2 * (f64::from(u8::from(row(ii - 1))) + f64::from(u8::from(row(ii))));
        let m_i2 = l2 * f64::from(u8::from(row(ii)));
        let mut di = m_ii;
        if i >= 1 {
            di -= l1[i - 1] * l1[i - 1] * d[i - 1];
        }
        if i >= 2 {
            di -= l2v[i - 2] * l2v[i - 2] * d[i - 2];
        }
        d[i] = di;
        let mut off = m_i1;
        if i >= 1 {
            off -= l2v[i - 1] * l1[i - 1] * d[i - 1];
        }
        l1[i] = off / di;
        l2v[i] = m_i2 / di;
    }
    let mut w = vec![0.0; n];
    for i in 0..n {
        let mut v = z[i];
        if i >= 1 {
            v -= l1[i - 1] * w[i - 1];
        }
        if i >= 2 {
            v -= l2v[i - 2] * w[i - 2];
        }
        w[i] = v;
    }
    for (wi, di) in w.iter_mut().zip(&d) {
        *wi /= di;
    }
    for i in (0..n).rev() {
        let mut v = w[i];
        if i + 1 < n {
            v -= l1[i] * w[i + 1];
        }
        if i + 2 < n {
            v -= l2v[i] * w[i + 2];
        }
        w[i] = v;
    }
    w
}
