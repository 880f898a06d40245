//! The desktop end-to-end tests: the real `auren-app` window driven over WebDriver.
//!
//! A harness of its own (`harness = false`): without `AUREN_E2E=1` it prints one "skipped" line and
//! reports no test at all, so `cargo test --workspace` stays green and honest on machines without a
//! display. With it, each test runs in turn under a deadline and the closing `test result:` line has
//! libtest's shape, which `cargo xtask test` adds to its tally.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

mod ai_settings;
mod chat;
mod chat_history;
mod chat_links;
mod chat_turns;
mod coach_history;
mod live_session;
mod rules_and_settings;
mod settings_sync;
mod sync_pane;

use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;
use std::time::{Duration, Instant};

type TestBody = fn() -> Pin<Box<dyn Future<Output = anyhow::Result<()>>>>;

/// Every end-to-end test: name, body, and how long it may take at most (app start included).
const TESTS: &[(&str, TestBody, Duration)] = &[
    (
        "the_ai_pane_tests_a_connection_and_saves_a_budget_into_gateway_toml",
        || Box::pin(ai_settings::the_ai_pane_tests_a_connection_and_saves_a_budget_into_gateway_toml()),
        Duration::from_secs(180),
    ),
    (
        "with_the_servers_port_closed_the_offline_analyst_answers_with_the_value_the_morning_view_shows",
        || {
            Box::pin(
                chat::with_the_servers_port_closed_the_offline_analyst_answers_with_the_value_the_morning_view_shows(),
            )
        },
        Duration::from_secs(180),
    ),
    (
        "hostile_output_runs_nothing_and_made_up_numbers_are_marked",
        || Box::pin(chat::hostile_output_runs_nothing_and_made_up_numbers_are_marked()),
        Duration::from_secs(180),
    ),
    (
        "stop_freezes_the_text_and_the_provider_sees_the_disconnect",
        || Box::pin(chat_turns::stop_freezes_the_text_and_the_provider_sees_the_disconnect()),
        Duration::from_secs(180),
    ),
    (
        "the_text_stops_changing_within_300_ms_of_stop_while_the_server_keeps_streaming",
        || {
            Box::pin(
                chat_turns::the_text_stops_changing_within_300_ms_of_stop_while_the_server_keeps_streaming(),
            )
        },
        Duration::from_secs(180),
    ),
    (
        "the_cost_meter_shows_the_exact_price_of_the_scripted_usage",
        || Box::pin(chat_turns::the_cost_meter_shows_the_exact_price_of_the_scripted_usage()),
        Duration::from_secs(180),
    ),
    (
        "a_budget_refusal_sends_nothing_and_shows_the_ways_on",
        || Box::pin(chat_turns::a_budget_refusal_sends_nothing_and_shows_the_ways_on()),
        Duration::from_secs(180),
    ),
    (
        "tool_steps_are_the_calls_issued_and_the_shown_payload_is_what_was_received",
        || Box::pin(chat_turns::tool_steps_are_the_calls_issued_and_the_shown_payload_is_what_was_received()),
        Duration::from_secs(180),
    ),
    (
        "an_inline_chart_draws_as_many_points_as_the_tool_returned",
        || Box::pin(chat_turns::an_inline_chart_draws_as_many_points_as_the_tool_returned()),
        Duration::from_secs(180),
    ),
    (
        "a_red_flag_referral_shows_while_the_server_hangs",
        || Box::pin(chat_turns::a_red_flag_referral_shows_while_the_server_hangs()),
        Duration::from_secs(180),
    ),
    (
        "search_finds_words_in_messages_and_the_export_holds_the_turn",
        || Box::pin(chat_history::search_finds_words_in_messages_and_the_export_holds_the_turn()),
        Duration::from_secs(180),
    ),
    (
        "edit_and_resend_sends_nothing_of_the_abandoned_branch",
        || Box::pin(chat_history::edit_and_resend_sends_nothing_of_the_abandoned_branch()),
        Duration::from_secs(180),
    ),
    (
        "the_branch_arrows_show_each_branchs_stored_answer_and_send_nothing",
        || Box::pin(chat_history::the_branch_arrows_show_each_branchs_stored_answer_and_send_nothing()),
        Duration::from_secs(180),
    ),
    (
        "regenerate_asks_the_same_question_again_without_the_abandoned_answer",
        || Box::pin(chat_history::regenerate_asks_the_same_question_again_without_the_abandoned_answer()),
        Duration::from_secs(180),
    ),
    (
        "shift_enter_breaks_the_line_without_sending_and_enter_sends_both_lines",
        || Box::pin(chat_history::shift_enter_breaks_the_line_without_sending_and_enter_sends_both_lines()),
        Duration::from_secs(180),
    ),
    (
        "a_forgotten_memory_is_absent_from_the_next_request",
        || Box::pin(chat_history::a_forgotten_memory_is_absent_from_the_next_request()),
        Duration::from_secs(180),
    ),
    (
        "a_clicked_grounded_number_opens_the_session_showing_that_value",
        || Box::pin(chat::a_clicked_grounded_number_opens_the_session_showing_that_value()),
        Duration::from_secs(180),
    ),
    (
        "a_number_from_a_memory_links_to_the_memory_panel_marking_it",
        || Box::pin(chat_links::a_number_from_a_memory_links_to_the_memory_panel_marking_it()),
        Duration::from_secs(180),
    ),
    (
        "switching_to_the_local_model_asks_its_server_once_and_leaves_gateway_toml",
        || Box::pin(chat_links::switching_to_the_local_model_asks_its_server_once_and_leaves_gateway_toml()),
        Duration::from_secs(180),
    ),
    (
        "after_a_reload_the_meter_keeps_the_context_and_sums_every_branch",
        || Box::pin(chat_links::after_a_reload_the_meter_keeps_the_context_and_sums_every_branch()),
        Duration::from_secs(180),
    ),
    (
        "fatigued_session_alerts_then_is_saved_listed_and_exported",
        || Box::pin(live_session::fatigued_session_alerts_then_is_saved_listed_and_exported()),
        Duration::from_secs(300),
    ),
    (
        "the_sync_pane_signs_in_shows_synced_lists_devices_and_removes_one",
        || Box::pin(sync_pane::the_sync_pane_signs_in_shows_synced_lists_devices_and_removes_one()),
        Duration::from_secs(240),
    ),
    (
        "another_devices_settings_show_in_the_window_a_bad_one_is_refused_and_the_windows_edit_goes_back",
        || {
            Box::pin(
                settings_sync::another_devices_settings_show_in_the_window_a_bad_one_is_refused_and_the_windows_edit_goes_back(),
            )
        },
        Duration::from_secs(300),
    ),
    (
        "a_coach_picks_an_athlete_in_history_and_opens_their_session_read_only",
        || Box::pin(coach_history::a_coach_picks_an_athlete_in_history_and_opens_their_session_read_only()),
        Duration::from_secs(180),
    ),
    (
        "the_sync_panes_athlete_links_to_the_history_their_device_pushed",
        || Box::pin(coach_history::the_sync_panes_athlete_links_to_the_history_their_device_pushed()),
        Duration::from_secs(240),
    ),
    (
        "rules_errors_show_at_their_line_and_settings_persist",
        || Box::pin(rules_and_settings::rules_errors_show_at_their_line_and_settings_persist()),
        Duration::from_secs(180),
    ),
];

fn main() -> ExitCode {
    if !auren_e2e::enabled() {
        println!(
            "skipped: set {}=1 to run the desktop end-to-end tests (they need a display, tauri-driver and a \
             debug build of auren-app; `cargo xtask test` provides all three)",
            auren_e2e::ENABLE_VAR
        );
        return ExitCode::SUCCESS;
    }
    // Like libtest: free arguments filter tests by substring; flags (--nocapture, …) are accepted.
    let filters: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let selected: Vec<_> = TESTS
        .iter()
        .filter(|(name, ..)| filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str())))
        .collect();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let started = Instant::now();
    println!("\nrunning {} tests", selected.len());
    let mut failures = Vec::new();
    for (name, body, limit) in &selected {
        let outcome = runtime.block_on(async { tokio::time::timeout(*limit, body()).await });
        match outcome {
            Ok(Ok(())) => println!("test {name} ... ok"),
            Ok(Err(e)) => {
                println!("test {name} ... FAILED");
                failures.push((name, format!("{e:#}")));
            }
            Err(_) => {
                println!("test {name} ... FAILED");
                failures.push((name, format!("did not finish within {} s", limit.as_secs())));
            }
        }
    }
    for (name, why) in &failures {
        println!("\n---- {name} ----\n{why}");
    }
    let passed = selected.len() - failures.len();
    println!(
        "\ntest result: {}. {passed} passed; {} failed; 0 ignored; 0 measured; {} filtered out; finished in {:.2}s\n",
        if failures.is_empty() { "ok" } else { "FAILED" },
        failures.len(),
        TESTS.len() - selected.len(),
        started.elapsed().as_secs_f64()
    );
    if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
