//! Token estimates with a real tokenizer (o200k_base, compiled into tiktoken-rs: nothing is downloaded),
//! for budgets before a call and for usage when a stream carries no numbers.
//!
//! Other vendors' tokenizers differ from OpenAI's by some percent; estimates are marked as such.

use crate::chat::ChatRequest;

/// Tokens of plain text.
pub fn count_text(text: &str) -> u64 {
    if text.is_empty() {
        return 0;
    }
    tiktoken_rs::o200k_base_singleton().encode_ordinary(text).len() as u64
}

/// Framing tokens per message (role markers, separators) as OpenAI's chat format counts them.
const PER_MESSAGE: u64 = 4;

/// An estimate of a request's prompt tokens: messages, tool definitions and framing.
pub fn estimate_prompt(request: &ChatRequest) -> u64 {
    let messages: u64 = request
        .messages
        .iter()
        .map(|m| PER_MESSAGE + m.text_len_parts().map(count_text).sum::<u64>())
        .sum();
    let tools: u64 = request
        .tools
        .iter()
        .map(|t| {
            PER_MESSAGE
                + count_text(&t.name)
                + count_text(&t.description)
                + count_text(&t.parameters.to_string())
        })
        .sum();
    messages + tools + 3
}

/// The prompt estimate padded to bound what a provider with a different tokenizer may count: budgets
/// reserve this so that the real cost stays under the reservation.
pub fn prompt_upper_bound(request: &ChatRequest) -> u64 {
    let estimate = estimate_prompt(request);
    estimate + estimate / 4 + 16
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::Message;

    #[test]
    fn counts_known_text() {
        assert_eq!(count_text(""), 0);
        assert_eq!(count_text("hello world"), 2);
        let request = ChatRequest {
            messages: vec![Message::system("Be brief."), Message::user("hello world")],
            ..Default::default()
        };
        let estimate = estimate_prompt(&request);
        assert!((10..=20).contains(&estimate), "{estimate}");
        assert!(prompt_upper_bound(&request) > estimate);
    }
}
