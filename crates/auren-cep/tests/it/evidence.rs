//! Every alert carries its evidence: the rule, the values that made it true, the window.

use auren_cep::{Alert, DEFAULT_RULES, EventKind, MetricField, SessionKind, Severity, compile};

use crate::support::{MIN, SEC, Stream, baselines};

fn alerts_of(stream: &Stream) -> Vec<Alert> {
    let rules = compile(DEFAULT_RULES).expect("default rules compile");
    stream.run(&rules, baselines(), 30 * SEC)
}

#[test]
fn fatigue_alert_shows_the_suppressed_values_against_the_baselines() {
    let stream = Stream::new()
        .session(SessionKind::Morning, 0)
        .beats(0, 5 * MIN, |_| 882.0, 0)
        .hr(0, 5 * MIN, |_| 68.0)
        .metrics(0, 5 * MIN, |_| vec![(MetricField::LnRmssd, 3.0)])
        .at(5 * MIN, EventKind::SessionEnd);
    let alerts = alerts_of(&stream);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let a = &alerts[0];
    assert_eq!((a.rule.as_str(), a.severity), ("cns_fatigue", Severity::Warning));
    // Held from the first evaluation with both averages known (t = 0) for 2 min.
    assert_eq!(a.at_ms, 2 * MIN);
    assert_eq!(a.evidence.held_since_ms, Some(0));
    assert_eq!(a.evidence.window, (0, 2 * MIN));
    let value = |name: &str| a.evidence.values.iter().find(|(n, _)| n == name).map(|(_, v)| *v);
    assert_eq!(value("avg(ln_rmssd, 2m)"), Some(3.0));
    assert_eq!(value("baseline.ln_rmssd_lo"), Some(3.6));
    assert_eq!(value("avg(hr, 2m)"), Some(68.0));
    assert_eq!(value("baseline.resting_hr"), Some(58.0));
    insta::assert_json_snapshot!("cns_fatigue_alert", a);
}

#[test]
fn absence_alerts_show_the_steps_and_the_elapsed_time() {
    let end = 10 * MIN;
    let stream = Stream::new()
        .session(SessionKind::Exercise, 0)
        .beats(0, end + 90 * SEC, |_| 450.0, 0)
        .hr(0, end, |_| 150.0)
        .at(end, EventKind::SessionEnd)
        .hr(end + SEC, end + 90 * SEC, move |t| {
            150.0 - 7.0 * (t - end) as f64 / MIN as f64
        });
    let alerts = alerts_of(&stream);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let a = &alerts[0];
    assert_eq!(a.rule, "slow_hr_recovery");
    assert_eq!(a.evidence.steps_at_ms, vec![end]);
    // Decided by the first event after the 60 s deadline: a beat 150 ms later.
    assert_eq!(a.at_ms, end + 60 * SEC + 150);
    assert_eq!(
        a.message,
        "Heart rate fell only 7 bpm (from 150 to 143 bpm) in the minute after exercise"
    );
    insta::assert_json_snapshot!("slow_hr_recovery_alert", a);
}

#[test]
fn signal_lost_message_prints_the_gap() {
    let stream = Stream::new()
        .session(SessionKind::Rest, 0)
        .beats(0, MIN, |_| 1000.0, 0)
        .at(3 * MIN, EventKind::SessionEnd);
    let alerts = alerts_of(&stream);
    let lost: Vec<_> = alerts.iter().filter(|a| a.rule == "signal_lost").collect();
    assert_eq!(lost.len(), 1, "{alerts:#?}");
    assert_eq!(lost[0].at_ms, MIN + 11 * SEC);
    assert_eq!(lost[0].message, "No heartbeat for 11 s");
    assert_eq!(lost[0].evidence.window, (MIN, MIN + 11 * SEC));
}
