//! Welch's averaged periodogram, matching `scipy.signal.welch` with a periodic Hann window,
//! `detrend="constant"`, `scaling="density"` and a one-sided spectrum.

use realfft::RealFftPlanner;
use realfft::num_complex::Complex;

use super::Psd;
use crate::metric::Absent;
use crate::settings::WelchMean;

/// One-sided PSD of `x` sampled at `fs` Hz: segments of `nperseg` samples with 50 % overlap, each
/// segment's mean removed before the periodic Hann window, density scaling `1/(fs·Σw²)`, every bin
/// doubled except DC and (for even `nperseg`) Nyquist, segments averaged by their mean.
pub fn welch(x: &[f64], fs: f64, nperseg: usize) -> Result<Psd, Absent> {
    welch_padded(x, fs, nperseg, nperseg)
}

/// [`welch`] with each windowed segment zero-padded to `nfft ≥ nperseg` points, as scipy's `nfft`
/// argument does: the same power on a finer grid `df = fs / nfft` (Kubios's "points per Hz").
pub fn welch_padded(x: &[f64], fs: f64, nperseg: usize, nfft: usize) -> Result<Psd, Absent> {
    welch_with(x, fs, nperseg, nfft, WelchMean::PerSegment)
}

/// [`welch_padded`] with the mean removed as `mean` says: each segment's (scipy), or the whole
/// series' once before segmenting (MATLAB `pwelch`, Kubios).
pub fn welch_with(x: &[f64], fs: f64, nperseg: usize, nfft: usize, mean: WelchMean) -> Result<Psd, Absent> {
    if nperseg < 2 || x.len() < nperseg {
        return Err(Absent::TooFewBeats {
            needed: nperseg.max(2),
            got: x.len(),
        });
    }
    let step = nperseg - nperseg / 2;
    let n_seg = (x.len() - nperseg) / step + 1;
    let window: Vec<f64> = (0..nperseg)
        .map(|k| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * k as f64 / nperseg as f64).cos())
        .collect();
    let scale = 1.0 / (fs * window.iter().map(|w| w * w).sum::<f64>());

    let nfft = nfft.max(nperseg);
    let fft = RealFftPlanner::<f64>::new().plan_fft_forward(nfft);
    let mut input = fft.make_input_vec();
    let mut spectrum = fft.make_output_vec();
    let mut scratch = fft.make_scratch_vec();
    let mut density = vec![0.0; spectrum.len()];
    let whole_mean = x.iter().sum::<f64>() / x.len() as f64;
    for seg in 0..n_seg {
        let part = &x[seg * step..seg * step + nperseg];
        let offset = match mean {
            WelchMean::PerSegment => part.iter().sum::<f64>() / nperseg as f64,
            WelchMean::WholeSeries => whole_mean,
        };
        for ((dst, &v), &w) in input.iter_mut().zip(part).zip(&window) {
            *dst = (v - offset) * w;
        }
        // The FFT uses its input as scratch, so the padding is rewritten for every segment.
        input[nperseg..].fill(0.0);
        fft.process_with_scratch(&mut input, &mut spectrum, &mut scratch)
            .map_err(|_| Absent::Undefined("the FFT rejected its buffers"))?;
        for (acc, c) in density.iter_mut().zip(&spectrum) {
            *acc += Complex::norm_sqr(c);
        }
    }
    let last = density.len() - 1;
    for (k, p) in density.iter_mut().enumerate() {
        let one_sided = if k == 0 || (k == last && nfft.is_multiple_of(2)) {
            1.0
        } else {
            2.0
        };
        *p *= scale * one_sided / n_seg as f64;
    }
    Ok(Psd {
        df: bin_width(nfft, fs),
        density,
    })
}

/// numpy's `rfftfreq` spacing, computed the same way so band edges select the same bins.
pub fn bin_width(nperseg: usize, fs: f64) -> f64 {
    1.0 / (nperseg as f64 * (1.0 / fs))
}
