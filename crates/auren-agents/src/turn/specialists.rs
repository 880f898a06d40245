//! The supervisor and the specialists' tool loop. The supervisor routes by rules, or by one small model
//! call when they do not decide. A data question's tools are run before the first call (the offline
//! analyst's intent), so the specialist starts with their receipts in its brief and a simple data
//! question costs one model call. Each specialist's call sees its system prompt, its brief and its own
//! tool calls with their results — an assistant message's calls and their results are appended together,
//! so a pair is never split; a handoff starts the next specialist on a fresh brief.

use auren_gateway::{ChatRequest, Gateway, Message, ToolCall, ToolDefinition};
use serde_json::{Value, json};

use super::brief::{self, Brief, BriefMemory, HANDOFF_TOOL, HandoffNote};
use super::model::TextShown;
use super::{Answered, Stop, Turn};
use crate::events::{AgentEvent, RouteReason, Specialist};
use crate::intent::{self, Intent};
use crate::redflag::RecentAlert;
use crate::routing;
use crate::tools::days::format_day;

/// How many memories a brief carries.
const BRIEF_MEMORIES: usize = 5;

/// How one specialist's loop ended.
enum SpecialistEnd {
    Answer(String),
    Handoff { to: Specialist, reason: String },
}

impl Turn<'_> {
    /// Routes, briefs and runs specialists until one answers.
    pub(crate) async fn run_specialists(
        &mut self,
        gateway: &Gateway,
        question: &str,
        alerts: &[RecentAlert],
    ) -> Result<Answered, Stop> {
        let intent = intent::classify(question);
        let mut specialist = self.route(gateway, question, &intent, alerts).await?;
        let mut brief = self.brief(question, &intent).await;
        self.guards.start(specialist);
        loop {
            match self.run_specialist(gateway, specialist, &brief).await? {
                SpecialistEnd::Answer(text) => {
                    return Ok(Answered {
                        text,
                        specialist,
                        offline: false,
                    });
                }
                SpecialistEnd::Handoff { to, reason } => {
                    self.guards.handoff(to).map_err(Stop::Guard)?;
                    brief.handoff = Some(HandoffNote {
                        from: specialist,
                        reason,
                    });
                    brief.add_receipts(&self.receipts);
                    let rendered = brief.render();
                    self.step(
                        "handoff",
                        json!({"from": specialist, "to": to, "brief": rendered}),
                    );
                    self.emit(AgentEvent::Handoff {
                        from: specialist,
                        to,
                        brief: rendered,
                    })
                    .await;
                    specialist = to;
                }
            }
        }
    }

    /// The specialist for `question`: the rules', else the model router's.
    async fn route(
        &mut self,
        gateway: &Gateway,
        question: &str,
        intent: &Intent,
        alerts: &[RecentAlert],
    ) -> Result<Specialist, Stop> {
        let (specialist, by) = match routing::by_rules(question, intent, alerts) {
            Some(specialist) => (specialist, RouteReason::Rules),
            None => {
                let reply = self
                    .call_model(gateway, routing::router_request(question), TextShown::Hidden)
                    .await?;
                (routing::parse_router_reply(&reply.text), RouteReason::Model)
            }
        };
        self.step("routed", json!({"specialist": specialist, "by": by}));
        self.emit(AgentEvent::Routed { specialist, by }).await;
        Ok(specialist)
    }

    /// The first brief: the question, the receipts of the data question's tools, the recalled memories.
    async fn brief(&mut self, question: &str, intent: &Intent) -> Brief {
        let toolbox = &self.coach.toolbox;
        let now = toolbox.clock().now().0;
        if !matches!(intent, Intent::Unknown) {
            // The offline analyst's tools for this intent: receipts the specialist can state at once.
            match crate::offline::answer(toolbox, question).await {
                Ok(answer) => {
                    let ids: Vec<&str> = answer.receipts.iter().map(|r| r.id.0.as_str()).collect();
                    self.step("prefetch", json!({"intent": answer.intent, "receipts": ids}));
                    self.receipts.extend(answer.receipts);
                }
                Err(error) => {
                    tracing::warn!(%error, "the data question's tools failed; the brief has no receipts")
                }
            }
        }
        let memories = match toolbox
            .store()
            .memories()
            .recall(question, BRIEF_MEMORIES, now)
            .await
        {
            Ok(hits) => hits
                .into_iter()
                .map(|hit| BriefMemory {
                    id: hit.memory.id.0,
                    kind: hit.memory.kind.as_str().to_owned(),
                    text: hit.memory.text,
                })
                .collect(),
            Err(error) => {
                tracing::warn!(%error, "memories could not be recalled for the brief");
                Vec::new()
            }
        };
        let mut brief = Brief {
            question: question.to_owned(),
            today: format_day(toolbox.today()),
            receipts: Vec::new(),
            memories,
            previous: self.previous.clone(),
            handoff: None,
        };
        brief.add_receipts(&self.receipts);
        brief
    }

    /// The tools a specialist is offered: the toolbox's and `handoff`, shaped for the provider.
    fn tool_definitions(&self) -> Vec<ToolDefinition> {
        let wire = self.coach.config.wire;
        let mut tools = crate::schema::for_provider(&self.coach.toolbox.specs(), wire);
        tools.push(crate::schema::definition(
            HANDOFF_TOOL,
            "Hand the question to another specialist, with the reason.",
            &brief::handoff_schema(),
            wire,
        ));
        tools
    }

    /// One specialist's loop: model call, tools, model call … until it answers or hands off.
    async fn run_specialist(
        &mut self,
        gateway: &Gateway,
        specialist: Specialist,
        brief: &Brief,
    ) -> Result<SpecialistEnd, Stop> {
        let tools = self.tool_definitions();
        let mut messages = vec![
            Message::system(brief::system_prompt(specialist)),
            Message::user(brief.render()),
        ];
        loop {
            let request = ChatRequest {
                messages: messages.clone(),
                tools: tools.clone(),
                max_tokens: Some(self.coach.config.max_tokens),
                ..ChatRequest::default()
            };
            let reply = self.call_model(gateway, request, TextShown::Streamed).await?;
            if reply.tool_calls.is_empty() {
                return Ok(SpecialistEnd::Answer(reply.text));
            }
            let mut results = Vec::with_capacity(reply.tool_calls.len());
            for call in &reply.tool_calls {
                if call.name == HANDOFF_TOOL {
                    match handoff_target(call, specialist) {
                        Ok((to, reason)) => return Ok(SpecialistEnd::Handoff { to, reason }),
                        Err(refusal) => results.push(Message::tool_result(&call.id, refusal)),
                    }
                    continue;
                }
                let content = self.run_tool(call).await?;
                results.push(Message::tool_result(&call.id, content));
            }
            messages.push(Message::Assistant {
                content: reply.text,
                tool_calls: reply.tool_calls,
            });
            messages.extend(results);
        }
    }

    /// Runs one tool call; a failure goes back to the model as the result, a guard stops the turn.
    async fn run_tool(&mut self, call: &ToolCall) -> Result<String, Stop> {
        let arguments = match call.arguments_json() {
            Ok(arguments) => arguments,
            Err(error) => {
                let result = json!({"error": format!("the arguments are not JSON: {error}")});
                self.report_tool(call, Value::String(call.arguments.clone()), &result, Vec::new())
                    .await;
                return Ok(result.to_string());
            }
        };
        self.guards
            .tool_call(&call.name, &arguments)
            .map_err(Stop::Guard)?;
        self.emit(AgentEvent::ToolCall {
            call_id: call.id.clone(),
            name: call.name.clone(),
            arguments: arguments.clone(),
        })
        .await;
        let outcome = self
            .bounded(self.coach.toolbox.call(&call.name, arguments.clone()))
            .await?;
        let (result, receipts) = match outcome {
            Ok(output) => (output.content, output.receipts),
            Err(error) => (json!({"error": error.to_string()}), Vec::new()),
        };
        let ids = receipts.iter().map(|r| r.id.clone()).collect();
        self.receipts.extend(receipts);
        self.report_tool_result(call, arguments, &result, ids).await;
        Ok(result.to_string())
    }

    /// Reports a call that never ran (its arguments were not JSON).
    async fn report_tool(
        &mut self,
        call: &ToolCall,
        arguments: Value,
        result: &Value,
        ids: Vec<crate::ReceiptId>,
    ) {
        self.emit(AgentEvent::ToolCall {
            call_id: call.id.clone(),
            name: call.name.clone(),
            arguments: arguments.clone(),
        })
        .await;
        self.report_tool_result(call, arguments, result, ids).await;
    }

    async fn report_tool_result(
        &mut self,
        call: &ToolCall,
        arguments: Value,
        result: &Value,
        ids: Vec<crate::ReceiptId>,
    ) {
        self.step(
            "tool_call",
            json!({"call_id": call.id, "name": call.name, "arguments": arguments, "result": result, "receipts": ids}),
        );
        self.emit(AgentEvent::ToolResult {
            call_id: call.id.clone(),
            name: call.name.clone(),
            result: result.clone(),
            receipts: ids,
        })
        .await;
    }
}

/// The specialist and reason of a handoff call, or the refusal to send back as its result.
fn handoff_target(call: &ToolCall, from: Specialist) -> Result<(Specialist, String), String> {
    let arguments = call
        .arguments_json()
        .map_err(|e| format!("error: the handoff arguments are not JSON: {e}"))?;
    let to = arguments
        .get("to")
        .and_then(Value::as_str)
        .and_then(brief::parse_specialist)
        .ok_or("error: `to` must be neuroscientist, analyst or coach")?;
    if to == from {
        return Err("error: you cannot hand the question to yourself; answer it".into());
    }
    let reason = arguments
        .get("reason")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    Ok((to, reason))
}
