//! Sample entropy (Richman & Moorman 2000), exact, in O(N log² N) instead of the O(N²) pair scan.
//!
//! Templates of length m = 2 and m + 1 = 3 start at i = 0..N−m (N − m of each, as the reference
//! counts them). A pair matches when every coordinate differs by at most r — the same floating-point
//! test `|a − b| ≤ r` as the reference, which for a fixed template selects a contiguous run of the
//! other templates sorted by that coordinate. So each template's neighbourhood is a box of rank
//! ranges, and counting pairs becomes orthogonal range counting:
//! - length m (2-D): sweep the first coordinate, a Fenwick tree over the second — O(N log N);
//! - length m + 1 (3-D): slide a window along the first coordinate (insert/delete events), and count
//!   the (second, third) rectangle of each template by CDQ divide and conquer over the events with a
//!   Fenwick tree over the third coordinate — O(N log² N), whatever the data's clustering.
//!
//! Memory is O(N) with a small constant, because `auren analyze` of a multi-day recording must fit
//! in about 40 bytes a beat all told: the coordinates of a template are consecutive values, so one
//! sort of the series serves all three axes, kept as three `u32` per value (the run of ranks within
//! r, and the rank of the next value in time) plus a Fenwick tree over the ranks — 16 bytes a beat.
//! The 3-D sweep's events are not all materialised: they are cut into [`CHUNKS`] chunks, and each
//! query counts what the window held when its chunk began (a contiguous run of ranks, counted
//! statically) plus the chunk's own changes before it (CDQ over the chunk's events), so the events
//! in memory cost under 3 bytes a beat and nothing per template pair or per template survives a
//! chunk. Approximate entropy folds each template's count into its sum of logarithms as it comes.
//!
//! Counts are exact integers; a 24-hour recording (≈ 110 000 beats, ≈ 3·10⁸ matching pairs) takes
//! about a tenth of a second of CPU, where the pair scan takes seconds — and, unlike bucketing the
//! templates into r-sized cells, stays O(N log² N) when the beats crowd into a few cells (bigeminy).

use crate::metric::{Absent, Metric, check_rr, finite};
use crate::time_domain::{mean, need, sample_sd};

/// Template length.
pub const M: usize = 2;
/// Tolerance as a fraction of SDNN.
pub const R_FACTOR: f64 = 0.2;

/// SampEn with m = 2 and r = 0.2·SDNN (ddof 1), Chebyshev distance, self-matches excluded.
///
/// Needs m + 2 = 4 beats (two templates); a constant series is [`Absent::ZeroVariance`], and no match
/// at either length is [`Absent::Undefined`] (the logarithm has no value).
pub fn sample_entropy(rr: &[f64]) -> Metric {
    check_rr(rr)?;
    need(rr.len(), M + 2)?;
    let sd = sample_sd(rr, mean(rr));
    sample_entropy_with_tolerance(rr, R_FACTOR * sd)
}

/// SampEn with m = 2 and an explicit tolerance `r` (ms), same rules as [`sample_entropy`].
pub fn sample_entropy_with_tolerance(rr: &[f64], r: f64) -> Metric {
    check_rr(rr)?;
    need(rr.len(), M + 2)?;
    if rr.iter().all(|&v| v == rr[0]) {
        return Err(Absent::ZeroVariance);
    }
    if !(r.is_finite() && r > 0.0) {
        return Err(Absent::Undefined("SampEn tolerance must be positive and finite"));
    }
    if rr.len() >= NONE as usize {
        return Err(Absent::Undefined("series too long for SampEn's 32-bit ranks"));
    }
    let (a, b) = if rr.len() <= PAIR_SCAN_MAX {
        pair_scan(rr, r)
    } else {
        match_counts(rr, r)
    };
    if b == 0 {
        return Err(Absent::Undefined("no template pair of length m matches"));
    }
    if a == 0 {
        return Err(Absent::Undefined("no template pair of length m + 1 matches"));
    }
    finite(-(a as f64 / b as f64).ln(), "SampEn overflowed")
}

/// Up to this many beats the direct pair scan (≈ N²/2 cheap comparisons) beats the range counting's
/// sorting and bookkeeping.
const PAIR_SCAN_MAX: usize = 600;

/// `(A, B)` by the reference's own O(N²) scan over template pairs.
fn pair_scan(x: &[f64], r: f64) -> (u64, u64) {
    let t = x.len() - M;
    let (mut a, mut b) = (0u64, 0u64);
    for i in 0..t {
        let (x0, x1, x2) = (x[i], x[i + 1], x[i + 2]);
        for j in i + 1..t {
            let m = (x[j] - x0).abs() <= r && (x[j + 1] - x1).abs() <= r;
            b += u64::from(m);
            a += u64::from(m && (x[j + 2] - x2).abs() <= r);
        }
    }
    (a, b)
}

/// `(A, B)`: the numbers of template pairs `i < j` (of the N − m templates) that match at length
/// m + 1 and at length m. Exactly the reference's counts; O(N log² N) time, O(N) memory.
pub fn match_counts(x: &[f64], r: f64) -> (u64, u64) {
    match_counts_in_chunks(x, r, chunk_events(x.len()))
}

/// [`match_counts`] with the length-(m + 1) sweep cut into chunks of `chunk_events` events (see the
/// module docs). The chunk size trades memory for time and never changes a count; it is a parameter
/// so tests can force many chunks on short series.
pub fn match_counts_in_chunks(x: &[f64], r: f64, chunk_events: usize) -> (u64, u64) {
    if x.len() < M + 2 || x.len() >= NONE as usize {
        return (0, 0);
    }
    let ranked = Ranked::new(x, r);
    // SampEn compares the same N − m templates at both lengths: those with m + 1 values.
    let t = (x.len() - M) as i64;
    let mut tree = Fenwick::new(x.len());
    let (mut ordered_a, mut ordered_b) = (0i64, 0i64);
    count_2d(&ranked, M + 1, &mut tree, |_, count| ordered_b += count);
    count_3d(&ranked, &mut tree, chunk_events, |_, count| ordered_a += count);
    // Ordered counts include every template matching itself once.
    let unordered = |ordered: i64| u64::try_from((ordered - t) / 2).unwrap_or(0);
    (unordered(ordered_a), unordered(ordered_b))
}

/// For every template, how many templates (itself included) match it, as approximate entropy
/// counts them: at length m over the N − m + 1 templates, and at length m + 1 over the N − m
/// templates. The same range counting as [`match_counts`], tallied per template.
pub fn template_match_counts(x: &[f64], r: f64) -> (Vec<i64>, Vec<i64>) {
    template_match_counts_in_chunks(x, r, chunk_events(x.len()))
}

/// [`template_match_counts`] with a chosen chunk size (see [`match_counts_in_chunks`]). Unlike
/// approximate entropy itself, which folds each count into its sum as it is found, this keeps every
/// count (16 bytes a template): it is the checkable form.
pub fn template_match_counts_in_chunks(x: &[f64], r: f64, chunk_events: usize) -> (Vec<i64>, Vec<i64>) {
    if x.len() < M + 2 || x.len() >= NONE as usize {
        return (Vec::new(), Vec::new());
    }
    let (ranked, by_value) = Ranked::with_order(x, r);
    let mut tree = Fenwick::new(x.len());
    let (mut short, mut long) = (vec![0; x.len() - M + 1], vec![0; x.len() - M]);
    count_2d(&ranked, M, &mut tree, |rank, count| {
        short[by_value[rank] as usize] = count;
    });
    count_3d(&ranked, &mut tree, chunk_events, |rank, count| {
        long[by_value[rank] as usize] = count;
    });
    (short, long)
}

/// `Σ ln(Cᵢ / T)` over the templates of each length, as approximate entropy needs them: `(Φᵐ, Φᵐ⁺¹)`
/// before the division by the template counts. Each count is folded in as it is found, so nothing
/// per template is kept.
pub(crate) fn log_match_sums(x: &[f64], r: f64) -> (f64, f64) {
    if x.len() < M + 2 || x.len() >= NONE as usize {
        return (0.0, 0.0);
    }
    let ranked = Ranked::new(x, r);
    let mut tree = Fenwick::new(x.len());
    let (short_t, long_t) = ((x.len() - M + 1) as f64, (x.len() - M) as f64);
    let (mut short, mut long) = (CompensatedSum::default(), CompensatedSum::default());
    count_2d(&ranked, M, &mut tree, |_, count| {
        short.add((count as f64 / short_t).ln())
    });
    count_3d(&ranked, &mut tree, chunk_events(x.len()), |_, count| {
        long.add((count as f64 / long_t).ln());
    });
    (short.total(), long.total())
}

/// Neumaier's compensated sum: the templates are visited in value order, not time order, and the
/// sum of a day's logarithms must not depend on that order beyond the last bit.
#[derive(Default)]
struct CompensatedSum {
    sum: f64,
    compensation: f64,
}

impl CompensatedSum {
    fn add(&mut self, v: f64) {
        let t = self.sum + v;
        self.compensation += if self.sum.abs() >= v.abs() {
            (self.sum - t) + v
        } else {
            (v - t) + self.sum
        };
        self.sum = t;
    }

    fn total(&self) -> f64 {
        self.sum + self.compensation
    }
}

/// "No value": the rank after the last value in time.
const NONE: u32 = u32::MAX;

/// How many chunks the length-(m + 1) sweep is cut into: each holds 1/64 of its ≈ 3 events per
/// template, so the events in memory cost under 3 bytes a beat.
const CHUNKS: usize = 64;
/// Fewest events a chunk holds (short series are one chunk).
const MIN_CHUNK_EVENTS: usize = 4096;

fn chunk_events(n: usize) -> usize {
    (3 * n).div_ceil(CHUNKS).max(MIN_CHUNK_EVENTS)
}

/// The series in value order, all the range counting needs (12 bytes a value): for each rank — the
/// position in the series sorted by value, ties by time — the run of ranks within r of it, and the
/// rank of the value that follows it in time. Coordinate d of the template starting at rank p is
/// the value at `next` applied d times, so one order serves all three coordinates.
struct Ranked {
    /// The value at rank p is within r of the values at ranks `lo[p]..hi[p]`.
    lo: Vec<u32>,
    hi: Vec<u32>,
    /// The rank of the next value in time, or [`NONE`].
    next: Vec<u32>,
}

impl Ranked {
    fn new(x: &[f64], r: f64) -> Ranked {
        Ranked::with_order(x, r).0
    }

    /// The ranks, and the series' indices in rank order.
    fn with_order(x: &[f64], r: f64) -> (Ranked, Vec<u32>) {
        let n = x.len();
        let mut by_value: Vec<u32> = (0..n as u32).collect();
        by_value.sort_unstable_by(|&a, &b| x[a as usize].total_cmp(&x[b as usize]).then(a.cmp(&b)));
        let mut next = vec![NONE; n];
        {
            let mut rank = vec![0u32; n];
            for (p, &k) in by_value.iter().enumerate() {
                rank[k as usize] = p as u32;
            }
            for (p, &k) in by_value.iter().enumerate() {
                if let Some(&after) = rank.get(k as usize + 1) {
                    next[p] = after;
                }
            }
        }
        let value = |p: usize| x[by_value[p] as usize];
        let (mut lo, mut hi) = (vec![0u32; n], vec![0u32; n]);
        // The same floating-point test `|a − b| ≤ r` as the reference: fl(v − w) is monotone in each
        // argument, so both tests split the sorted values in two, and the split points only move
        // forward as v grows — two pointers find every run in O(N).
        let (mut below, mut above) = (0usize, 0usize);
        for p in 0..n {
            let v = value(p);
            while v - value(below) > r {
                below += 1;
            }
            while above < n && value(above) - v <= r {
                above += 1;
            }
            lo[p] = below as u32;
            hi[p] = above as u32;
        }
        (Ranked { lo, hi, next }, by_value)
    }

    fn len(&self) -> usize {
        self.next.len()
    }

    fn next(&self, p: u32) -> u32 {
        self.next[p as usize]
    }

    /// Whether the value at rank `p` starts a template of `len` values (that many follow in time).
    fn starts(&self, p: usize, len: usize) -> bool {
        let mut q = p as u32;
        for _ in 1..len {
            q = self.next[q as usize];
            if q == NONE {
                return false;
            }
        }
        true
    }

    /// The ranks within r of rank `p`.
    fn run(&self, p: u32) -> (u32, u32) {
        (self.lo[p as usize], self.hi[p as usize])
    }
}

/// For every template of `len` values (in rank order of its first value), how many such templates
/// (itself included) match it in the first two coordinates, passed to `each(rank, count)`.
///
/// Sweeping the first coordinate in rank order, the templates matching in it are a window of ranks
/// whose ends only move forward; a Fenwick tree over the second coordinate's rank counts the window.
fn count_2d(ranked: &Ranked, len: usize, tree: &mut Fenwick, mut each: impl FnMut(usize, i64)) {
    let (mut inserted, mut deleted) = (0usize, 0usize);
    for p in 0..ranked.len() {
        if !ranked.starts(p, len) {
            continue;
        }
        let (lo, hi) = ranked.run(p as u32);
        while inserted < hi as usize {
            if ranked.starts(inserted, len) {
                tree.add(ranked.next(inserted as u32), 1);
            }
            inserted += 1;
        }
        while deleted < lo as usize {
            if ranked.starts(deleted, len) {
                tree.add(ranked.next(deleted as u32), -1);
            }
            deleted += 1;
        }
        let (ylo, yhi) = ranked.run(ranked.next(p as u32));
        each(p, tree.range(ylo, yhi));
    }
    for q in deleted..inserted {
        if ranked.starts(q, len) {
            tree.add(ranked.next(q as u32), -1);
        }
    }
}

/// For every template of m + 1 values (in rank order), how many (itself included) match it in all
/// three coordinates, passed to `each(rank, count)`.
///
/// The same sweep as [`count_2d`], as a stream of events (a template entering or leaving the window,
/// a template's query) whose (second, third)-coordinate rectangle counts need a 2-D structure that
/// changes: the events are cut into chunks of `chunk_events`. A query's count is what the window
/// held when its chunk began — a contiguous run of ranks, counted statically ([`count_live`]) — plus
/// the changes before it within the chunk, counted by CDQ divide and conquer ([`cdq`]).
fn count_3d(ranked: &Ranked, tree: &mut Fenwick, chunk_events: usize, mut each: impl FnMut(usize, i64)) {
    const LEN: usize = M + 1;
    let chunk_events = chunk_events.max(1);
    let update = |p: usize, sign: i32| {
        let key = ranked.next(p as u32);
        Event {
            id: 0,
            key,
            z: ranked.next(key),
            zhi: 0,
            ylo: 0,
            yhi: 0,
            sign,
        }
    };
    let mut chunk = Chunk {
        live: (0, 0),
        events: Vec::with_capacity(chunk_events),
        queries: Vec::new(),
    };
    let (mut inserted, mut deleted) = (0usize, 0usize);
    for p in 0..ranked.len() {
        if !ranked.starts(p, LEN) {
            continue;
        }
        let (lo, hi) = ranked.run(p as u32);
        while inserted < hi as usize {
            if ranked.starts(inserted, LEN) {
                chunk.events.push(update(inserted, 1));
            }
            inserted += 1;
            chunk.flush_when_full(ranked, tree, chunk_events, (deleted, inserted), &mut each);
        }
        while deleted < lo as usize {
            if ranked.starts(deleted, LEN) {
                chunk.events.push(update(deleted, -1));
            }
            deleted += 1;
            chunk.flush_when_full(ranked, tree, chunk_events, (deleted, inserted), &mut each);
        }
        let key = ranked.next(p as u32);
        let z = ranked.next(key);
        let ((ylo, yhi), (zlo, zhi)) = (ranked.run(key), ranked.run(z));
        chunk.events.push(Event {
            id: chunk.queries.len() as u32,
            key,
            z: zlo,
            zhi,
            ylo,
            yhi,
            sign: 0,
        });
        chunk.queries.push(p as u32);
        chunk.flush_when_full(ranked, tree, chunk_events, (deleted, inserted), &mut each);
    }
    chunk.flush(ranked, tree, (deleted, inserted), &mut each);
}

/// One chunk of the length-(m + 1) sweep.
struct Chunk {
    /// The ranks `deleted..inserted` in the window when the chunk began.
    live: (usize, usize),
    /// The chunk's events in sweep order.
    events: Vec<Event>,
    /// The rank of each query's template, by the query's id.
    queries: Vec<u32>,
}

impl Chunk {
    fn flush_when_full(
        &mut self,
        ranked: &Ranked,
        tree: &mut Fenwick,
        chunk_events: usize,
        window: (usize, usize),
        each: &mut impl FnMut(usize, i64),
    ) {
        if self.events.len() >= chunk_events {
            self.flush(ranked, tree, window, each);
        }
    }

    /// Counts the chunk's queries, passes them on, and starts the next chunk at `window`.
    fn flush(
        &mut self,
        ranked: &Ranked,
        tree: &mut Fenwick,
        window: (usize, usize),
        each: &mut impl FnMut(usize, i64),
    ) {
        let mut tally = PerTemplate(vec![0; self.queries.len()]);
        if !self.queries.is_empty() {
            count_live(ranked, tree, self.live, &self.queries, &mut tally);
            let mut scratch = self.events.clone();
            cdq(&mut self.events, &mut scratch, false, tree, &mut tally);
        }
        for (&p, &count) in self.queries.iter().zip(&tally.0) {
            each(p as usize, count);
        }
        self.events.clear();
        self.queries.clear();
        self.live = window;
    }
}

/// Adds to each query's tally the templates of the window `live` (ranks `deleted..inserted`, the
/// templates of m + 1 values among them) that match it in the second and third coordinates: the
/// window sorted by second-coordinate rank, slid along the queries in the same order (their runs
/// move forward with their own rank), a Fenwick tree over the third coordinate's rank.
fn count_live(
    ranked: &Ranked,
    tree: &mut Fenwick,
    live: (usize, usize),
    queries: &[u32],
    tally: &mut PerTemplate,
) {
    const LEN: usize = M + 1;
    let mut keys: Vec<u32> = (live.0..live.1)
        .filter(|&q| ranked.starts(q, LEN))
        .map(|q| ranked.next(q as u32))
        .collect();
    if keys.is_empty() {
        return;
    }
    keys.sort_unstable();
    let mut order: Vec<u32> = (0..queries.len() as u32).collect();
    order.sort_unstable_by_key(|&id| ranked.next(queries[id as usize]));
    let (mut entered, mut left_behind) = (0usize, 0usize);
    for id in order {
        let key = ranked.next(queries[id as usize]);
        let (ylo, yhi) = ranked.run(key);
        let (zlo, zhi) = ranked.run(ranked.next(key));
        while entered < keys.len() && keys[entered] < yhi {
            tree.add(ranked.next(keys[entered]), 1);
            entered += 1;
        }
        while left_behind < entered && keys[left_behind] < ylo {
            tree.add(ranked.next(keys[left_behind]), -1);
            left_behind += 1;
        }
        tally.add(id, tree.range(zlo, zhi));
    }
    for &key in &keys[left_behind..entered] {
        tree.add(ranked.next(key), -1);
    }
}

/// Where the range counting adds what it finds: one count per query of a chunk.
trait Tally {
    fn add(&mut self, template: u32, count: i64);
}

struct PerTemplate(Vec<i64>);

impl Tally for PerTemplate {
    #[inline]
    fn add(&mut self, template: u32, count: i64) {
        self.0[template as usize] += count;
    }
}

/// Fenwick tree of counts over positions `0..n`.
struct Fenwick(Vec<i32>);

impl Fenwick {
    fn new(n: usize) -> Fenwick {
        Fenwick(vec![0; n + 1])
    }

    fn add(&mut self, pos: u32, delta: i32) {
        let mut i = pos as usize + 1;
        while i < self.0.len() {
            self.0[i] += delta;
            i += i & i.wrapping_neg();
        }
    }

    /// Sum over positions `lo..hi`: both descents end on a shared path, so stop where they meet.
    fn range(&self, lo: u32, hi: u32) -> i64 {
        let (mut a, mut b, mut s) = (lo as usize, hi as usize, 0i64);
        while b > a {
            s += i64::from(self.0[b]);
            b &= b - 1;
        }
        while a > b {
            s -= i64::from(self.0[a]);
            a &= a - 1;
        }
        s
    }
}

/// An event of the x-sweep: a template entering (`sign` +1) or leaving (−1) the window at y-rank
/// `key` and z-rank `z`, or a template's query (`sign` 0) at its own y-rank `key`: count window
/// members with y-rank in `ylo..yhi` and z-rank in `z..zhi`. The query's y-run moves monotonically
/// with its own y-rank, which lets the cross step slide a window instead of subtracting prefixes.
#[derive(Clone, Copy)]
struct Event {
    /// The querying template (queries only).
    id: u32,
    key: u32,
    z: u32,
    zhi: u32,
    ylo: u32,
    yhi: u32,
    sign: i32,
}

impl Event {
    fn is_query(&self) -> bool {
        self.sign == 0
    }
}

/// Below this many events the cross contributions are counted pair by pair.
const LEAF: usize = 128;

/// Adds to `tally` every (update before query) contribution among the events of this segment, and
/// leaves them sorted by key in `a` (`into_b` false) or `b` (true). On entry both buffers hold the
/// segment in time order; children sort into the buffer this call does not write, so the merge
/// reads one buffer and writes the other and nothing is copied back.
fn cdq(a: &mut [Event], b: &mut [Event], into_b: bool, tree: &mut Fenwick, tally: &mut impl Tally) {
    let n = a.len();
    if n <= LEAF {
        let e: &mut [Event] = if into_b { b } else { a };
        for (k, q) in e.iter().enumerate().filter(|(_, q)| q.is_query()) {
            for u in e[..k].iter().filter(|u| !u.is_query()) {
                if (q.ylo..q.yhi).contains(&u.key) && (q.z..q.zhi).contains(&u.z) {
                    tally.add(q.id, i64::from(u.sign));
                }
            }
        }
        e.sort_unstable_by_key(|ev| ev.key);
        return;
    }
    let mid = n / 2;
    {
        let (al, ar) = a.split_at_mut(mid);
        let (bl, br) = b.split_at_mut(mid);
        cdq(al, bl, !into_b, tree, tally);
        cdq(ar, br, !into_b, tree, tally);
    }
    let (sorted, out): (&[Event], &mut [Event]) = if into_b { (a, b) } else { (b, a) };
    let (left, right) = sorted.split_at(mid);
    // Queries come in y-rank order, so their runs ylo..yhi only move forward: slide over the left
    // updates (sorted by y-rank), adding those that enter and removing those that leave.
    let (mut entered, mut left_behind) = (0, 0);
    for q in right.iter().filter(|q| q.is_query()) {
        while entered < left.len() && left[entered].key < q.yhi {
            let u = &left[entered];
            if !u.is_query() {
                tree.add(u.z, u.sign);
            }
            entered += 1;
        }
        while left_behind < entered && left[left_behind].key < q.ylo {
            let u = &left[left_behind];
            if !u.is_query() {
                tree.add(u.z, -u.sign);
            }
            left_behind += 1;
        }
        tally.add(q.id, tree.range(q.z, q.zhi));
    }
    for u in left[left_behind..entered].iter().filter(|u| !u.is_query()) {
        tree.add(u.z, -u.sign);
    }
    let (mut i, mut j) = (0, 0);
    for slot in out.iter_mut() {
        if j >= right.len() || (i < left.len() && left[i].key <= right[j].key) {
            *slot = left[i];
            i += 1;
        } else {
            *slot = right[j];
            j += 1;
        }
    }
}
