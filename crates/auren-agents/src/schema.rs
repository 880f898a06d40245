//! The tools' argument schemas as each provider wants them, transformed once from schemars' output.
//!
//! schemars 1.x writes draft 2020-12 with `$schema`, a `title`, integer `format`s such as `uint32`, optional
//! fields left out of `required`, and unit enums with documented variants as `oneOf` of `const`s. OpenAI's
//! strict mode accepts none of that: every object must be closed (`additionalProperties: false`), every
//! property required (an optional one nullable instead), no `oneOf`, only its own few formats. Anthropic
//! takes `input_schema` as JSON Schema but has no use for `$schema`. Both get enums as `enum` lists with the
//! variants' descriptions folded into the field's description, so the model still reads what each means.

use auren_gateway::ProviderKind;
use auren_gateway::chat::ToolDefinition;
use serde_json::{Map, Value, json};

use crate::tools::ToolSpec;

/// The string formats OpenAI's strict mode accepts; any other `format` is dropped.
const OPENAI_FORMATS: [&str; 9] = [
    "date-time",
    "time",
    "date",
    "duration",
    "email",
    "hostname",
    "ipv4",
    "ipv6",
    "uuid",
];

/// The tool definitions for a provider of `kind`.
pub fn for_provider(specs: &[ToolSpec], kind: ProviderKind) -> Vec<ToolDefinition> {
    specs
        .iter()
        .map(|s| ToolDefinition {
            name: s.name.as_str().to_owned(),
            description: s.description.to_owned(),
            parameters: transform(&s.schema, kind),
        })
        .collect()
}

/// One argument schema for a provider of `kind`.
pub fn transform(schema: &Value, kind: ProviderKind) -> Value {
    let mut v = schema.clone();
    if let Value::Object(root) = &mut v {
        root.remove("$schema");
        root.remove("title");
        root.remove("$defs");
    }
    match kind {
        ProviderKind::OpenAi | ProviderKind::OpenAiCompatible => strict(&mut v),
        ProviderKind::Anthropic => plain(&mut v),
    }
    v
}

/// Anthropic: enums flattened, non-standard formats dropped, otherwise as generated.
fn plain(v: &mut Value) {
    let Value::Object(o) = v else { return };
    flatten_const_enum(o);
    drop_format(o, &[]);
    o.remove("title");
    for child in children(o) {
        plain(child);
    }
}

/// OpenAI strict mode.
fn strict(v: &mut Value) {
    let Value::Object(o) = v else { return };
    flatten_const_enum(o);
    drop_format(o, &OPENAI_FORMATS);
    o.remove("title");
    o.remove("default");
    if let Some(one_of) = o.remove("oneOf") {
        o.insert("anyOf".into(), one_of);
    }
    if o.get("properties").is_some_and(Value::is_object) {
        let required: Vec<String> = match o.get("required") {
            Some(Value::Array(r)) => r.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect(),
            _ => Vec::new(),
        };
        let Some(Value::Object(props)) = o.get_mut("properties") else {
            return;
        };
        let names: Vec<String> = props.keys().cloned().collect();
        for (name, prop) in props.iter_mut() {
            if !required.contains(name) {
                make_nullable(prop);
            }
        }
        o.insert("required".into(), json!(names));
        o.insert("additionalProperties".into(), Value::Bool(false));
    } else if o.get("type").and_then(Value::as_str) == Some("object") {
        o.insert("properties".into(), json!({}));
        o.insert("required".into(), json!([]));
        o.insert("additionalProperties".into(), Value::Bool(false));
    }
    for child in children(o) {
        strict(child);
    }
}

/// The subschemas of `o`: properties, items, and the members of anyOf/oneOf/allOf.
fn children(o: &mut Map<String, Value>) -> Vec<&mut Value> {
    let mut out: Vec<&mut Value> = Vec::new();
    for (key, value) in o.iter_mut() {
        match (key.as_str(), value) {
            ("properties", Value::Object(props)) => out.extend(props.values_mut()),
            ("items", v @ Value::Object(_)) => out.push(v),
            ("anyOf" | "oneOf" | "allOf", Value::Array(list)) => out.extend(list.iter_mut()),
            _ => {}
        }
    }
    out
}

fn drop_format(o: &mut Map<String, Value>, allowed: &[&str]) {
    let keep = o
        .get("format")
        .and_then(Value::as_str)
        .is_some_and(|f| allowed.contains(&f));
    if !keep {
        o.remove("format");
    }
}

/// `oneOf: [{const: "a", description: "…"}, …]` (schemars' documented unit enum) → `type: string, enum: […]`,
/// the variants' descriptions appended to the field's own.
fn flatten_const_enum(o: &mut Map<String, Value>) {
    let Some(Value::Array(list)) = o.get("oneOf") else {
        return;
    };
    let consts: Option<Vec<(Value, Option<String>)>> = list
        .iter()
        .map(|item| {
            let c = item.get("const")?.clone();
            let d = item.get("description").and_then(Value::as_str).map(str::to_owned);
            Some((c, d))
        })
        .collect();
    let Some(consts) = consts else { return };
    o.remove("oneOf");
    let notes: Vec<String> = consts
        .iter()
        .filter_map(|(c, d)| {
            d.as_ref()
                .map(|d| format!("{}: {}", c.as_str().unwrap_or_default(), d.trim_end_matches('.')))
        })
        .collect();
    if !notes.is_empty() {
        let own = o
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let joined = notes.join("; ");
        let text = if own.is_empty() {
            joined
        } else {
            format!("{own} ({joined})")
        };
        o.insert("description".into(), Value::String(text));
    }
    o.insert("type".into(), json!("string"));
    o.insert(
        "enum".into(),
        Value::Array(consts.into_iter().map(|(c, _)| c).collect()),
    );
}

/// Lets `null` through a schema (an optional property under strict mode).
fn make_nullable(v: &mut Value) {
    let Value::Object(o) = v else { return };
    flatten_const_enum(o);
    if let Some(Value::Array(any)) = o.get_mut("anyOf") {
        if !any
            .iter()
            .any(|s| s.get("type").and_then(Value::as_str) == Some("null"))
        {
            any.push(json!({"type": "null"}));
        }
        return;
    }
    if let Some(Value::Array(e)) = o.get_mut("enum")
        && !e.contains(&Value::Null)
    {
        e.push(Value::Null);
    }
    match o.get_mut("type") {
        Some(Value::String(t)) if t != "null" => {
            let t = t.clone();
            o.insert("type".into(), json!([t, "null"]));
        }
        Some(Value::Array(types)) if !types.contains(&json!("null")) => types.push(json!("null")),
        _ => {}
    }
}
