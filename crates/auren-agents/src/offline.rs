//! The offline analyst: when no model can answer (none configured or reachable, a breaker open, the budget
//! spent, a guard tripped), the question's intent picks the same tools the specialists use and a template
//! states their numbers — labelled as offline, every number from a receipt, so the grounding check passes.

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::{Value, json};

use crate::intent::{self, Intent};
use crate::receipt::Receipt;
use crate::tools::days::format_day;
use crate::tools::receipts::unit_of_key;
use crate::tools::{ToolError, ToolName, ToolOutput, Toolbox};

/// The label every offline answer starts with.
pub const OFFLINE_LABEL: &str = "Offline answer (computed from your data without an AI model).";

/// An answer of the offline analyst.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OfflineAnswer {
    pub text: String,
    pub receipts: Vec<Receipt>,
    pub intent: Intent,
}

/// Answers `question` from the person's data, without a model.
pub async fn answer(tb: &Toolbox, question: &str) -> Result<OfflineAnswer, ToolError> {
    let tags: Vec<String> = crate::tools::tags::tag_names(tb.store())
        .await
        .map_err(ToolError::store(ToolName::TagEffect))?
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    let intent = intent::classify_with_tags(question, &tags);
    let today = tb.today();
    let (body, receipts) = match &intent {
        Intent::Readiness { day } => {
            let out = tb
                .call("get_readiness", json!({ "day": format_day(day.resolve(today)) }))
                .await;
            with(out, readiness_text)
        }
        Intent::Trend { days } => {
            let from = format_day(today - (days - 1));
            let out = tb
                .call("get_trend", json!({ "from": from, "to": format_day(today) }))
                .await;
            with(out, trend_text)
        }
        Intent::LastSession => with(tb.call("get_session", json!({})).await, session_text),
        Intent::Alerts { days } => {
            let out = tb
                .call(
                    "get_alerts",
                    json!({ "from": format_day(today - (days - 1)), "to": format_day(today) }),
                )
                .await;
            with(out, alerts_text)
        }
        Intent::Compare { span } => {
            let n = span.days();
            let args = json!({
                "a_from": format_day(today - (n - 1)), "a_to": format_day(today),
                "b_from": format_day(today - (2 * n - 1)), "b_to": format_day(today - n),
            });
            let out = tb.call("compare_periods", args).await;
            with(out, |c| {
                compare_text(c, &format!("the last {n} days"), &format!("the {n} days before"))
            })
        }
        Intent::TagEffect { tag } => {
            let lag = TagLag::asked_in(question);
            let out = tb
                .call("tag_effect", json!({ "tag": tag, "lag_days": lag.days() }))
                .await;
            with(out, tag_text)
        }
        Intent::Unknown => {
            let out = tb.call("get_readiness", json!({})).await;
            let (text, receipts) = with(out, readiness_text)?;
            Ok((
                format!(
                    "I can answer offline about readiness today or on a day, the week's trend, the last session, \
                     recent alerts, this week against last, and a tag's effect (\"does alcohol lower my HRV?\"). \
                     Meanwhile: {text}"
                ),
                receipts,
            ))
        }
    }?;
    Ok(OfflineAnswer {
        text: format!("{OFFLINE_LABEL} {body}"),
        receipts,
        intent,
    })
}

/// Which morning a tag's effect is looked for on, as the question words it (the `tag_effect` tool's
/// `lag_days`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TagLag {
    /// The morning of the tagged day ("the same day").
    SameDay,
    /// The next morning: what a question naming no day means ("does alcohol lower my HRV?").
    NextMorning,
    /// Two days after ("two days later").
    TwoDaysLater,
}

impl TagLag {
    /// Phrases naming two days; checked first, since "the day after next" holds "the day after".
    const TWO_DAYS: [&str; 8] = [
        "two days",
        "2 days",
        "48 hours",
        "48h",
        "day after next",
        "second day",
        "second morning",
        "day after the day after",
    ];
    /// Phrases that say "same" outright; checked before the next day's, since "the same day after a
    /// drink" holds "day after" and still means the same day.
    const SAME_OUTRIGHT: [&str; 3] = ["same day", "same-day", "same morning"];
    /// Phrases naming the next day; checked before the weaker same-day phrases, since "on the day after"
    /// holds "on the day".
    const NEXT_DAY: [&str; 6] = [
        "day after",
        "next day",
        "next morning",
        "following day",
        "following morning",
        "morning after",
    ];
    /// Phrases pointing at the tagged day without saying "same".
    const SAME_POINTED: [&str; 3] = ["that day", "that morning", "on the day"];

    /// The lag `question` asks about; the next morning unless it names the same day or two days (a
    /// phrase anywhere in it, whatever the case).
    pub fn asked_in(question: &str) -> Self {
        let q = question.to_lowercase();
        let names = |phrases: &[&str]| phrases.iter().any(|p| q.contains(p));
        if names(&Self::TWO_DAYS) {
            Self::TwoDaysLater
        } else if names(&Self::SAME_OUTRIGHT) {
            Self::SameDay
        } else if names(&Self::NEXT_DAY) {
            Self::NextMorning
        } else if names(&Self::SAME_POINTED) {
            Self::SameDay
        } else {
            Self::NextMorning
        }
    }

    /// The `tag_effect` tool's `lag_days` for this lag.
    pub fn days(self) -> u8 {
        match self {
            Self::SameDay => 0,
            Self::NextMorning => 1,
            Self::TwoDaysLater => 2,
        }
    }
}

/// The template's text of a tool's output; a tool that found no data becomes a sentence saying so.
fn with(
    out: Result<ToolOutput, ToolError>,
    template: impl FnOnce(&Value) -> String,
) -> Result<(String, Vec<Receipt>), ToolError> {
    match out {
        Ok(o) => Ok((template(&o.content), o.receipts)),
        Err(ToolError::NotEnoughData { message, .. }) => {
            Ok((format!("There is not enough data: {message}."), Vec::new()))
        }
        Err(e) => Err(e),
    }
}

fn num(v: &Value, pointer: &str) -> Option<f64> {
    v.pointer(pointer).and_then(Value::as_f64)
}

fn text(v: &Value, pointer: &str) -> String {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn readiness_text(c: &Value) -> String {
    let day = text(c, "/day");
    let mut s = String::new();
    match (num(c, "/morning_ln_rmssd"), num(c, "/morning_rmssd_ms")) {
        (Some(ln), Some(ms)) => {
            let _ = write!(s, "On {day} the morning lnRMSSD was {ln:.2} (RMSSD {ms:.0} ms).");
        }
        _ => {
            let _ = write!(s, "There is no morning reading on {day}.");
        }
    }
    let range = num(c, "/normal_range_ln_rmssd/0").zip(num(c, "/normal_range_ln_rmssd/1"));
    match (num(c, "/rolling_mean_7d_ln_rmssd"), range) {
        (Some(m), Some((lo, hi))) => {
            let verdict = text(c, "/verdict");
            let _ = write!(
                s,
                " The 7-day mean lnRMSSD is {m:.2}; your normal range is {lo:.2} to {hi:.2} lnRMSSD, so it is \
                 {verdict} it."
            );
        }
        (Some(m), None) => {
            let _ = write!(
                s,
                " The 7-day mean lnRMSSD is {m:.2}; there are not enough mornings yet for a normal range."
            );
        }
        (None, _) => s.push_str(" There are not enough mornings yet for a 7-day mean or a normal range."),
    }
    if let Some(cv) = num(c, "/cv_7d_pct") {
        let _ = write!(s, " Day-to-day variation (CV) over the week: {cv:.1}%.");
    }
    if let Some(hr) = num(c, "/resting_hr_bpm") {
        let _ = write!(s, " Resting HR: {hr:.0} bpm.");
    }
    s
}

fn trend_text(c: &Value) -> String {
    let (from, to) = (text(c, "/from"), text(c, "/to"));
    let n = num(c, "/mornings").unwrap_or(0.0);
    let (Some(mean), Some(min), Some(max)) = (num(c, "/mean"), num(c, "/min"), num(c, "/max")) else {
        return format!("There are no morning readings from {from} to {to}.");
    };
    let mut s = format!(
        "From {from} to {to} ({n:.0} mornings) your morning lnRMSSD averaged {mean:.2}, between {min:.2} and {max:.2}."
    );
    if let Some(b) = num(c, "/slope_per_day") {
        let dir = if b < -0.005 {
            "falling"
        } else if b > 0.005 {
            "rising"
        } else {
            "flat"
        };
        let _ = write!(s, " It is {dir}.");
    }
    let last = c.pointer("/days").and_then(Value::as_array).and_then(|d| {
        d.iter()
            .rev()
            .find(|x| x.get("rolling_mean_7d_ln_rmssd").is_some_and(|m| !m.is_null()))
    });
    if let Some(l) = last {
        let verdict = l
            .get("verdict")
            .and_then(Value::as_str)
            .unwrap_or("not yet judged against");
        let _ = write!(
            s,
            " On {} the 7-day mean is {verdict} your normal range.",
            text(l, "/day")
        );
    }
    s
}

pub(crate) fn metric_phrase(key: &str, value: f64) -> String {
    use crate::receipt::Unit;
    match unit_of_key(key) {
        Unit::Ms => format!("{value:.0} ms"),
        Unit::Ms2 => format!("{value:.0} ms²"),
        Unit::Bpm => format!("{value:.0} bpm"),
        Unit::Percent => format!("{value:.1}%"),
        Unit::LnMs | Unit::Plain => format!("{value:.2}"),
    }
}

fn session_text(c: &Value) -> String {
    let started = text(c, "/started_at");
    let mut s = format!(
        "Your last session (#{}, {}, started {}",
        c.get("id").and_then(Value::as_i64).unwrap_or_default(),
        text(c, "/kind"),
        utc_minute(&started, None),
    );
    if c.get("simulated").and_then(Value::as_bool) == Some(true) {
        s.push_str(", Simulated strap");
    }
    if let Some(d) = num(c, "/duration_min") {
        let _ = write!(s, ", {d:.0} minutes");
    }
    match c.pointer("/end/state").and_then(Value::as_str) {
        Some("recording") => s.push_str(", still recording"),
        Some("no_end_recorded") => match c.pointer("/end/last_beat_at").and_then(Value::as_str) {
            Some(at) => {
                let at = utc_minute(at, Some(&started));
                let _ = write!(
                    s,
                    ", no end recorded and nothing stored since its last beat at {at}: most likely stopped"
                );
            }
            None => s.push_str(", no end recorded and no beats: most likely stopped"),
        },
        _ => {}
    }
    s.push_str("):");
    let names = [
        ("rmssd_ms", "RMSSD"),
        ("sdnn_ms", "SDNN"),
        ("mean_hr_bpm", "mean HR"),
        ("pnn50_pct", "pNN50"),
        ("hf_ms2", "HF power"),
        ("dfa_alpha1", "DFA α1"),
    ];
    let parts: Vec<String> = names
        .iter()
        .filter_map(|(key, name)| {
            num(c, &format!("/panel/{key}")).map(|v| format!("{name} {}", metric_phrase(key, v)))
        })
        .collect();
    if parts.is_empty() {
        s.push_str(" too few clean beats for HRV values.");
    } else {
        let _ = write!(s, " {}.", parts.join(", "));
    }
    let artifacts = c.get("artifacts").and_then(Value::as_i64).unwrap_or(0);
    let _ = write!(s, " Artifacts corrected: {artifacts}.");
    let alerts = c.get("alerts").and_then(Value::as_array).map_or(0, Vec::len);
    if alerts > 0 {
        let _ = write!(s, " It raised {alerts} alert(s).");
    }
    s
}

/// An RFC 3339 UTC time of the tools (`2026-12-04T14:32:05Z`) as the analyst words times: "2026-12-04 14:32
/// UTC", or "14:32 UTC" on the UTC day of `same_day_as` (the session's start). Anything else is shown as is.
fn utc_minute(rfc3339: &str, same_day_as: Option<&str>) -> String {
    let Some((date, time)) = rfc3339.split_once('T') else {
        return rfc3339.to_owned();
    };
    let Some(hh_mm) = time.get(..5) else {
        return rfc3339.to_owned();
    };
    match same_day_as.and_then(|other| other.split_once('T')) {
        Some((day, _)) if day == date => format!("{hh_mm} UTC"),
        _ => format!("{date} {hh_mm} UTC"),
    }
}

fn alerts_text(c: &Value) -> String {
    let (from, to) = (text(c, "/from"), text(c, "/to"));
    let list = c
        .get("alerts")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if list.is_empty() {
        return format!("No alerts fired from {from} to {to}.");
    }
    let mut s = format!("{} alert(s) fired from {from} to {to}:", list.len());
    for a in &list {
        let evidence: Vec<String> = a
            .get("evidence")
            .and_then(Value::as_array)
            .map(|e| {
                e.iter()
                    .filter_map(|x| {
                        Some(format!(
                            "{} was {}",
                            x.get("name")?.as_str()?,
                            metric_phrase(x.get("name")?.as_str()?, x.get("value")?.as_f64()?)
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let _ = write!(
            s,
            "\n- {} {} ({}): {}",
            utc_minute(&text(a, "/at"), None),
            text(a, "/rule"),
            text(a, "/severity"),
            text(a, "/message")
        );
        if !evidence.is_empty() {
            let _ = write!(s, "; it fired because {}", evidence.join(", "));
        }
        s.push('.');
    }
    s
}

fn comparison_sentences(c: &Value, names: (&str, &str)) -> String {
    let cmp = |p: &str| num(c, &format!("/comparison{p}"));
    let (Some(ma), Some(mb)) = (cmp("/a/mean"), cmp("/b/mean")) else {
        return String::new();
    };
    let (na, nb) = (cmp("/a/n").unwrap_or(0.0), cmp("/b/n").unwrap_or(0.0));
    let diff = ma - mb;
    let mut s = format!(
        "Morning lnRMSSD averaged {ma:.2} over {} (n = {na:.0}) and {mb:.2} over {} (n = {nb:.0}); the difference is {diff:+.2}, RMSSD {:+.1}%.",
        names.0,
        names.1,
        (diff.exp() - 1.0) * 100.0
    );
    if let (Some(t), Some(df), Some(p)) = (cmp("/welch/t"), cmp("/welch/df"), cmp("/welch/p")) {
        let _ = write!(s, " Welch's t = {t:.2} (df {df:.1}), p = {p:.3};");
    }
    if let (Some(u), Some(p)) = (cmp("/mann_whitney/u"), cmp("/mann_whitney/p")) {
        let _ = write!(s, " Mann–Whitney U = {u:.1}, p = {p:.3};");
    }
    if let Some(g) = cmp("/effect/hedges_g") {
        let size = match g.abs() {
            x if x < 0.2 => "negligible",
            x if x < 0.5 => "small",
            x if x < 0.8 => "medium",
            _ => "large",
        };
        let _ = write!(s, " Hedges' g = {g:.2} ({size} effect).");
    }
    if let Some(note) = c.pointer("/comparison/note").and_then(Value::as_str) {
        let _ = write!(s, " Some tests could not be computed: {note}.");
    }
    s
}

fn compare_text(c: &Value, a: &str, b: &str) -> String {
    comparison_sentences(c, (a, b))
}

fn tag_text(c: &Value) -> String {
    let tag = text(c, "/tag");
    let lag = c.get("lag_days").and_then(Value::as_u64).unwrap_or(1);
    let after = if lag == 0 {
        format!("days tagged {tag}")
    } else {
        format!("mornings {lag} day(s) after {tag}")
    };
    comparison_sentences(c, (&after, "other mornings"))
}
