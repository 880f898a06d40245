//! Properties of the red-flag check and the router: total on any text, a red flag survives any text
//! around it in its own sentence, and a negated symptom alone is never one.

use auren_agents::redflag::{RedFlag, detect};
use auren_agents::{intent, routing};
use proptest::prelude::*;

proptest! {
    #[test]
    fn any_text_is_checked_and_routed_without_panicking(text in "\\PC{0,200}") {
        let _ = detect(&text, &[]);
        let _ = routing::by_rules(&text, &intent::classify(&text), &[]);
        let _ = routing::parse_router_reply(&text);
    }

    #[test]
    fn chest_pain_is_found_among_other_sentences(before in "[a-z ]{0,40}", after in "[a-z ]{0,40}") {
        let text = format!("{before}. I have chest pain. {after}");
        prop_assert_eq!(detect(&text, &[]), Some(RedFlag::ChestPain));
    }

    #[test]
    fn a_negated_symptom_alone_is_not_a_red_flag(
        negation in prop::sample::select(vec!["no", "not", "never", "without"]),
        symptom in prop::sample::select(vec!["chest pain", "fainting", "syncope", "palpitations"]),
    ) {
        let text = format!("{negation} {symptom} today");
        prop_assert_eq!(detect(&text, &[]), None);
    }
}
