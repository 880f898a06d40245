//! Reference HRV figures computed locally for the tests, following tests/data/reference/README.md
//! (RMSSD, mean HR, DFA α1 over box sizes 4..=16), so the simulator is judged by the documented definitions.

pub fn rmssd(rr: &[f64]) -> f64 {
    let d: Vec<f64> = rr.windows(2).map(|w| w[1] - w[0]).collect();
    (d.iter().map(|x| x * x).sum::<f64>() / d.len() as f64).sqrt()
}

pub fn mean_hr(rr: &[f64]) -> f64 {
    rr.iter().map(|r| 60_000.0 / r).sum::<f64>() / rr.len() as f64
}

/// DFA α1: profile y = cumsum(rr − mean); for n in 4..=16, ⌊N/n⌋ boxes from the start, each detrended by
/// its least-squares line; F(n) = RMS of all residuals; α1 = least-squares slope of ln F on ln n.
pub fn dfa_alpha1(rr: &[f64]) -> f64 {
    let mean = rr.iter().sum::<f64>() / rr.len() as f64;
    let mut y = Vec::with_capacity(rr.len());
    let mut acc = 0.0;
    for r in rr {
        acc += r - mean;
        y.push(acc);
    }
    let mut points = Vec::new();
    for n in 4..=16usize {
        let boxes = y.len() / n;
        let mut sum_sq = 0.0;
        for b in 0..boxes {
            let seg = &y[b * n..(b + 1) * n];
            let (slope, intercept) = line_fit(&(0..n).map(|i| i as f64).collect::<Vec<_>>(), seg);
            sum_sq += seg
                .iter()
                .enumerate()
                .map(|(i, v)| (v - (slope * i as f64 + intercept)).powi(2))
                .sum::<f64>();
        }
        let f = (sum_sq / (boxes * n) as f64).sqrt();
        points.push(((n as f64).ln(), f.ln()));
    }
    let (xs, ys): (Vec<f64>, Vec<f64>) = points.into_iter().unzip();
    line_fit(&xs, &ys).0
}

fn line_fit(x: &[f64], y: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let mx = x.iter().sum::<f64>() / n;
    let my = y.iter().sum::<f64>() / n;
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    let slope = sxy / sxx;
    (slope, my - slope * mx)
}
