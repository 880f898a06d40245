//! The detector: feeds events into shared windows and evaluates the compiled rules, emitting
//! alerts that carry their evidence.
//!
//! Time: every event carries its time and [`Detector::tick`] tells the detector that time has
//! passed without events. Absence patterns (`not_followed_by`, e.g. "no beat for 10 s") and
//! `for` conditions are decided at the first evaluation after their deadline, so a live session
//! calls `tick` about once a second; without ticks they are decided on the next event. Times
//! that go backwards are treated as the latest time seen.

use serde::{Deserialize, Serialize};

use crate::event::{BaselineField, Baselines, Event, EventClass, EventKind, SessionKind};
use crate::field::{FIELD_COUNT, Field};
use crate::program::{Program, Scope};
use crate::rules::{Condition, Pattern, Rule, RuleSet, Sequence, Severity};
use crate::window::SlidingWindow;

/// Why a rule fired.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// The fields, baselines and aggregates the rule read, by their text in the rule, with
    /// their values when it fired (values that were unknown are left out).
    pub values: Vec<(String, f64)>,
    /// The span of time the evidence covers: from the start of the longest window, the moment
    /// a `for` condition became true or the first sequence step — whichever is earliest — to
    /// the alert.
    pub window: (i64, i64),
    /// For `for` rules: since when the condition held without interruption.
    pub held_since_ms: Option<i64>,
    /// For sequences: when each step matched, in order.
    pub steps_at_ms: Vec<i64>,
}

/// A rule that fired.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub rule: String,
    pub severity: Severity,
    pub at_ms: i64,
    pub message: String,
    pub evidence: Evidence,
}

/// A partial match of a sequence that has reached one step.
#[derive(Debug, Clone)]
struct Stage {
    live: bool,
    start_ms: i64,
    at_ms: i64,
    /// When each step up to this one matched (capacity reserved up front).
    times: Vec<i64>,
    /// Field values when this step matched, for `prev()` in the next one.
    captured: [f64; FIELD_COUNT],
}

#[derive(Debug, Clone)]
struct RuleState {
    /// The condition's last value and the sum of its windows' versions then (see
    /// `Condition::tick_cache`); `stamp` is `u64::MAX` when there is no valid value.
    last_value: f64,
    stamp: u64,
    armed: bool,
    true_since: Option<i64>,
    last_fired: Option<i64>,
    /// For sequences: the partial match that has reached each step (the latest start wins).
    stages: Vec<Stage>,
}

/// Evaluates a [`RuleSet`] over an event stream for one person.
#[derive(Debug, Clone)]
pub struct Detector {
    rules: RuleSet,
    baselines: [f64; BaselineField::COUNT],
    latest: [f64; FIELD_COUNT],
    windows: Vec<SlidingWindow>,
    /// When each window's oldest sample leaves it: a dense array, so an event that expires
    /// nothing costs one comparison per window.
    expiries: Vec<i64>,
    /// Bumped whenever a window's samples change, so a tick can tell that nothing moved.
    versions: Vec<u64>,
    /// Windows fed by each field slot.
    windows_of: Vec<Vec<u16>>,
    states: Vec<RuleState>,
    session: Option<SessionKind>,
    now: i64,
    started: bool,
}

const UNKNOWN: [f64; FIELD_COUNT] = [f64::NAN; FIELD_COUNT];

impl Detector {
    /// A detector with empty windows and no session running.
    pub fn new(rules: &RuleSet, baselines: Baselines) -> Self {
        let inner = &rules.inner;
        let windows = inner
            .windows
            .iter()
            .map(|w| SlidingWindow::with_needs(w.span_ms, w.needs))
            .collect();
        let mut windows_of = vec![Vec::new(); FIELD_COUNT];
        for (i, w) in inner.windows.iter().enumerate() {
            windows_of[w.slot as usize].push(i as u16);
        }
        let states = inner
            .rules
            .iter()
            .map(|r| {
                let n = match &r.pattern {
                    Pattern::Sequence(sequence) => sequence.steps.len(),
                    Pattern::Condition(_) => 0,
                };
                let stage = Stage {
                    live: false,
                    start_ms: 0,
                    at_ms: 0,
                    times: Vec::with_capacity(n),
                    captured: UNKNOWN,
                };
                RuleState {
                    last_value: f64::NAN,
                    stamp: u64::MAX,
                    armed: true,
                    true_since: None,
                    last_fired: None,
                    stages: vec![stage; n],
                }
            })
            .collect();
        Detector {
            rules: rules.clone(),
            baselines: baselines.slots(),
            latest: UNKNOWN,
            expiries: vec![i64::MAX; inner.windows.len()],
            versions: vec![0; inner.windows.len()],
            windows,
            windows_of,
            states,
            session: None,
            now: i64::MIN,
            started: false,
        }
    }

    /// Replaces the baselines (e.g. after the morning reading updated them).
    pub fn set_baselines(&mut self, baselines: Baselines) {
        self.baselines = baselines.slots();
        for s in &mut self.states {
            s.stamp = u64::MAX;
        }
    }

    /// The rules this detector runs.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// The kind of the running session, if any.
    pub fn session(&self) -> Option<SessionKind> {
        self.session
    }

    /// Processes one event and appends the alerts it causes. Allocates nothing unless a rule
    /// fires (windows grow to their steady size during the first minutes).
    pub fn on_event(&mut self, event: &Event, alerts: &mut Vec<Alert>) {
        let t = self.advance(event.at_ms);
        let class = event.kind.class();
        let mut tag = None;
        match &event.kind {
            EventKind::Beat { rr_ms, artifact } => {
                let beat_hr = if *rr_ms > 0.0 { 60_000.0 / rr_ms } else { f64::NAN };
                let flag = |k| if *artifact == Some(k) { 1.0 } else { 0.0 };
                use auren_hrv::artifacts::ArtifactKind as A;
                self.record(Field::RrMs, t, *rr_ms);
                self.record(Field::BeatHr, t, beat_hr);
                self.record(Field::Beat, t, 1.0);
                self.record(Field::Artifact, t, if artifact.is_some() { 1.0 } else { 0.0 });
                self.record(Field::Ectopic, t, flag(A::Ectopic));
                self.record(Field::Missed, t, flag(A::Missed));
                self.record(Field::Extra, t, flag(A::Extra));
                self.record(Field::LongShort, t, flag(A::LongShort));
            }
            EventKind::HeartRate { bpm } => self.record(Field::Hr, t, *bpm),
            EventKind::Metrics(m) => {
                for (f, v) in m.iter() {
                    self.record(Field::Metric(f), t, v);
                }
            }
            EventKind::Contact { detected } => {
                self.record(Field::Contact, t, if *detected { 1.0 } else { 0.0 })
            }
            EventKind::Link { connected } => self.record(Field::Link, t, if *connected { 1.0 } else { 0.0 }),
            EventKind::SessionStart { kind } => self.session = Some(*kind),
            EventKind::SessionEnd | EventKind::Tag { .. } => {}
        }
        if let EventKind::Tag { name } = &event.kind {
            tag = Some(name.as_str());
        }
        self.evaluate(t, class, tag, alerts);
        // On the SessionEnd event itself `session.<kind>` still names the ending session.
        if class == EventClass::SessionEnd {
            self.session = None;
        }
    }

    /// Tells the detector that time `now_ms` has been reached with no new event: windows
    /// slide, `for` conditions and absence deadlines are decided.
    pub fn tick(&mut self, now_ms: i64, alerts: &mut Vec<Alert>) {
        let t = self.advance(now_ms);
        self.evaluate(t, EventClass::Tick, None, alerts);
    }

    fn advance(&mut self, at_ms: i64) -> i64 {
        if !self.started || at_ms > self.now {
            self.now = at_ms;
            self.started = true;
        }
        self.now
    }

    #[inline]
    fn record(&mut self, field: Field, t: i64, v: f64) {
        if !v.is_finite() {
            return;
        }
        let slot = field.slot();
        self.latest[slot] = v;
        for &w in &self.windows_of[slot] {
            let window = &mut self.windows[w as usize];
            window.push(t, v);
            self.expiries[w as usize] = window.next_expiry();
            self.versions[w as usize] += 1;
        }
    }

    fn evaluate(&mut self, t: i64, class: EventClass, tag: Option<&str>, alerts: &mut Vec<Alert>) {
        self.slide_windows(t);
        let inner = &*self.rules.inner;
        let scope = Scope {
            latest: &self.latest,
            baselines: &self.baselines,
            windows: &self.windows,
            event_bit: class.bit(),
            tag,
            tags: &inner.tags,
            session: self.session,
            prev: &UNKNOWN,
            elapsed: f64::NAN,
        };
        for &i in &inner.by_class[class as usize] {
            let (rule, state) = (&inner.rules[i as usize], &mut self.states[i as usize]);
            match &rule.pattern {
                Pattern::Condition(condition) => {
                    let value = condition_value(condition, state, &self.versions, class, &scope);
                    eval_condition(rule, state, value, condition.hold_ms, &scope, t, alerts)
                }
                Pattern::Sequence(sequence) => eval_sequence(rule, state, sequence, &scope, t, alerts),
            }
        }
    }

    /// Drops the samples that have left their windows by `t`.
    fn slide_windows(&mut self, t: i64) {
        for (i, w) in self.windows.iter_mut().enumerate() {
            if self.expiries[i] <= t {
                if w.evict(t) {
                    self.versions[i] += 1;
                }
                self.expiries[i] = w.next_expiry();
            }
        }
    }
}

fn cooled_down(rule: &Rule, state: &RuleState, t: i64) -> bool {
    state.last_fired.is_none_or(|last| t - last >= rule.cooldown_ms)
}

/// The value of `condition` now. On a tick, a condition whose windows (see
/// `Condition::tick_cache`) all kept their versions still has its last value.
fn condition_value(
    condition: &Condition,
    state: &mut RuleState,
    versions: &[u64],
    class: EventClass,
    scope: &Scope<'_>,
) -> f64 {
    let Some(windows) = &condition.tick_cache else {
        return condition.when.eval(scope);
    };
    let stamp = windows
        .iter()
        .map(|&w| versions[w as usize])
        .fold(0u64, u64::wrapping_add);
    if class == EventClass::Tick && stamp == state.stamp {
        return state.last_value;
    }
    let value = condition.when.eval(scope);
    state.last_value = value;
    state.stamp = stamp;
    value
}

fn eval_condition(
    rule: &Rule,
    state: &mut RuleState,
    value: f64,
    hold_ms: i64,
    scope: &Scope<'_>,
    t: i64,
    alerts: &mut Vec<Alert>,
) {
    if value != 1.0 {
        state.true_since = None;
        state.armed = true;
        return;
    }
    let since = *state.true_since.get_or_insert(t);
    if t - since < hold_ms || !(state.armed || rule.per_event) || !cooled_down(rule, state, t) {
        return;
    }
    state.armed = false;
    state.last_fired = Some(t);
    let held = (hold_ms > 0).then_some(since);
    let scope = Scope {
        elapsed: (t - since) as f64,
        ..*scope
    };
    alerts.push(make_alert(rule, &scope, t, held, &[]));
}

impl Sequence {
    /// Whether the guard (the sequence's `when`) holds, or there is none.
    fn guard_holds(&self, scope: &Scope<'_>) -> bool {
        self.guard.as_ref().is_none_or(|g| g.eval(scope) == 1.0)
    }
}

fn eval_sequence(
    rule: &Rule,
    state: &mut RuleState,
    sequence: &Sequence,
    scope: &Scope<'_>,
    t: i64,
    alerts: &mut Vec<Alert>,
) {
    settle_absence(rule, state, sequence, scope, t, alerts);
    // Partial matches too old to finish are dropped (the pending absence was settled above).
    let last = sequence.steps.len() - 1;
    for stage in state.stages[..last].iter_mut() {
        if stage.live && t - stage.start_ms > sequence.within_ms {
            stage.live = false;
        }
    }
    advance_stages(rule, state, sequence, scope, t, alerts);
    start_match(rule, state, sequence, scope, t, alerts);
}

/// A match that went through every step and awaits the absence of `not_followed_by`: once the
/// deadline has passed it fires (if the guard holds); `not_followed_by` showing up first
/// drops it.
fn settle_absence(
    rule: &Rule,
    state: &mut RuleState,
    sequence: &Sequence,
    scope: &Scope<'_>,
    t: i64,
    alerts: &mut Vec<Alert>,
) {
    let Some(absent) = &sequence.absent else {
        return;
    };
    let last = sequence.steps.len() - 1;
    let pending = &state.stages[last];
    if !pending.live {
        return;
    }
    let after = Scope {
        prev: &pending.captured,
        elapsed: (t - pending.at_ms) as f64,
        ..*scope
    };
    if t - pending.start_ms > sequence.within_ms {
        // The deadline passed before this evaluation: the absence is established, judged as of
        // now but not by the event that revealed it.
        let at_deadline = Scope {
            event_bit: EventClass::Tick.bit(),
            tag: None,
            ..after
        };
        if sequence.guard_holds(&at_deadline) && cooled_down(rule, state, t) {
            let alert = make_alert(rule, &at_deadline, t, None, &pending.times);
            state.last_fired = Some(t);
            alerts.push(alert);
        }
        state.stages[last].live = false;
    } else if absent.eval(&after) == 1.0 {
        state.stages[last].live = false;
    }
}

/// Moves partial matches on by one step. A match through the last step fires (if the guard
/// holds) unless it must still wait for an absence. Later steps go first, so one event cannot
/// satisfy two consecutive steps.
fn advance_stages(
    rule: &Rule,
    state: &mut RuleState,
    sequence: &Sequence,
    scope: &Scope<'_>,
    t: i64,
    alerts: &mut Vec<Alert>,
) {
    let last = sequence.steps.len() - 1;
    for k in (1..=last).rev() {
        let before = &state.stages[k - 1];
        if !before.live || sequence.step_masks[k] & scope.event_bit == 0 {
            continue;
        }
        let step_scope = Scope {
            prev: &before.captured,
            elapsed: (t - before.at_ms) as f64,
            ..*scope
        };
        if sequence.steps[k].eval(&step_scope) != 1.0 {
            continue;
        }
        if k < last || sequence.absent.is_some() {
            reach_step(&mut state.stages, k, scope.latest, t);
            continue;
        }
        if sequence.guard_holds(&step_scope) && cooled_down(rule, state, t) {
            let mut times = before.times.clone();
            times.push(t);
            alerts.push(make_alert(rule, &step_scope, t, None, &times));
            state.last_fired = Some(t);
        }
        state.stages[k - 1].live = false;
    }
}

/// The partial match at step `k - 1` reached step `k` at `t`; `latest` is kept for `prev()`.
fn reach_step(stages: &mut [Stage], k: usize, latest: &[f64; FIELD_COUNT], t: i64) {
    let (lo, hi) = stages.split_at_mut(k);
    let (before, stage) = (&mut lo[k - 1], &mut hi[0]);
    before.live = false;
    stage.times.clear();
    stage.times.extend_from_slice(&before.times);
    stage.times.push(t);
    stage.live = true;
    stage.start_ms = before.start_ms;
    stage.at_ms = t;
    stage.captured = *latest;
}

/// The first step matching starts a partial match; a one-step sequence that awaits no absence
/// fires at once (if the guard holds).
fn start_match(
    rule: &Rule,
    state: &mut RuleState,
    sequence: &Sequence,
    scope: &Scope<'_>,
    t: i64,
    alerts: &mut Vec<Alert>,
) {
    if sequence.step_masks[0] & scope.event_bit == 0 || sequence.steps[0].eval(scope) != 1.0 {
        return;
    }
    if sequence.steps.len() == 1 && sequence.absent.is_none() {
        if sequence.guard_holds(scope) && cooled_down(rule, state, t) {
            alerts.push(make_alert(rule, scope, t, None, &[t]));
            state.last_fired = Some(t);
        }
        return;
    }
    let stage = &mut state.stages[0];
    stage.times.clear();
    stage.times.push(t);
    stage.live = true;
    stage.start_ms = t;
    stage.at_ms = t;
    stage.captured = *scope.latest;
}

fn make_alert(rule: &Rule, scope: &Scope<'_>, t: i64, held_since: Option<i64>, steps: &[i64]) -> Alert {
    let values = rule
        .leaves
        .iter()
        .filter_map(|(label, op)| {
            let v = Program::leaf_value(*op, scope);
            (!v.is_nan()).then(|| (label.clone(), v))
        })
        .collect();
    let mut from = t - rule.longest_window_ms;
    if let Some(h) = held_since {
        from = from.min(h);
    }
    if let Some(&first) = steps.first() {
        from = from.min(first);
    }
    Alert {
        rule: rule.name.clone(),
        severity: rule.severity,
        at_ms: t,
        message: rule.message.render(scope),
        evidence: Evidence {
            values,
            window: (from, t),
            held_since_ms: held_since,
            steps_at_ms: steps.to_vec(),
        },
    }
}
