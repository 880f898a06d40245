//! The HRV figures the simulator is judged by, from auren-hrv (the reference-checked implementation):
//! RMSSD, mean HR and DFA α1 (box sizes 4..=16) as defined in tests/data/reference/README.md.

pub fn rmssd(rr: &[f64]) -> f64 {
    auren_hrv::time_domain::rmssd(rr).expect("enough beats for RMSSD")
}

pub fn mean_hr(rr: &[f64]) -> f64 {
    rr.iter().map(|r| 60_000.0 / r).sum::<f64>() / rr.len() as f64
}

pub fn dfa_alpha1(rr: &[f64]) -> f64 {
    auren_hrv::nonlinear::dfa_alpha1(rr).expect("enough beats for DFA α1")
}
