"""Times NeuroKit2's hrv() on an RR file, for `cargo xtask bench hrv` (the peer in the same run as Auren).

Usage: python neurokit_hrv.py FILE.rr REPEATS TILE
  TILE repeats the series end to end (24 turns nsr_60min.rr into a 24-hour recording).
Prints one JSON object: {"ok": true, "median_s": ..., "min_s": ..., "peak_rss_mb": ...} or {"ok": false, "error": ...}.
The process caps its own address space (8 GiB) so a peer that blows up cannot take the machine with it.
"""
import json
import resource
import sys
import time
import warnings

resource.setrlimit(resource.RLIMIT_AS, (8 << 30, 8 << 30))
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402

import neurokit2 as nk  # noqa: E402


def main():
    path, repeats, tile = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rr = np.tile(np.loadtxt(path), tile)
    # NeuroKit2 takes R-peak sample indices; at 1000 Hz a sample is a millisecond.
    peaks = np.concatenate([[0], np.cumsum(rr)]).round().astype(np.int64)
    times = []
    try:
        for _ in range(repeats):
            start = time.perf_counter()
            nk.hrv(peaks, sampling_rate=1000)
            times.append(time.perf_counter() - start)
    except BaseException as exc:  # MemoryError and friends are the finding here, not a crash of the bench
        print(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}))
        return
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"ok": True, "median_s": float(np.median(times)), "min_s": min(times), "peak_rss_mb": rss_mb}))


if __name__ == "__main__":
    main()
