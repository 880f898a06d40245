//! The tools' argument schemas as each provider wants them, transformed once from schemars' output.
//!
//! schemars 1.x writes draft 2020-12 with `$schema`, a `title`, integer `format`s such as `uint32`, optional
//! fields left out of `required`, and unit enums with documented variants as `oneOf` of `const`s. OpenAI's
//! strict mode accepts none of that: every object must be closed (`additionalProperties: false`), every
//! property required (an optional one nullable instead), no `oneOf`, only its own few formats. Anthropic
//! takes `input_schema` as JSON Schema but has no use for `$schema`. Both get enums as `enum` lists with the
//! variants' descriptions folded into the field's description, so the model still reads what each means.

use auren_gateway::ProviderKind;
use auren_gateway::chat::{SchemaAdherence, ToolDefinition};
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
        .map(|s| definition(s.name.as_str(), s.description, &s.schema, kind))
        .collect()
}

/// One tool's definition for a provider of `kind`: the schema transformed, and marked
/// [`SchemaAdherence::Strict`] when the result meets OpenAI's strict-mode rules (the gateway decides which
/// wire format sends the flag).
pub fn definition(name: &str, description: &str, schema: &Value, kind: ProviderKind) -> ToolDefinition {
    let parameters = transform(schema, kind);
    let adherence = match kind {
        ProviderKind::OpenAi | ProviderKind::OpenAiCompatible if is_strict_ready(&parameters) => {
            SchemaAdherence::Strict
        }
        _ => SchemaAdherence::BestEffort,
    };
    ToolDefinition {
        name: name.to_owned(),
        description: description.to_owned(),
        parameters,
        adherence,
    }
}

/// Whether OpenAI's strict mode accepts `schema`: the root an object, every object closed with every
/// property required, no keyword strict mode refuses, only its own formats. Checked on the transformed
/// schema rather than assumed, so a future argument type strict mode cannot express is sent best effort
/// instead of failing every request with a 400.
pub fn is_strict_ready(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("object") && strict_ready_node(schema)
}

/// One subschema and everything under it (properties, items, anyOf members — the places a schema sits,
/// so a property that happens to be called `default` is not mistaken for the keyword).
fn strict_ready_node(v: &Value) -> bool {
    let Value::Object(o) = v else { return false };
    if !strict_ready_object(o) {
        return false;
    }
    o.iter().all(|(key, value)| match (key.as_str(), value) {
        ("properties", Value::Object(props)) => props.values().all(strict_ready_node),
        ("items", item) => strict_ready_node(item),
        ("anyOf", Value::Array(list)) => list.iter().all(strict_ready_node),
        ("anyOf", _) => false,
        _ => true,
    })
}

/// The rules for one object of a schema (its children are checked by the caller).
fn strict_ready_object(o: &Map<String, Value>) -> bool {
    const REFUSED: [&str; 7] = ["$schema", "$ref", "$defs", "oneOf", "allOf", "not", "default"];
    if REFUSED.iter().any(|k| o.contains_key(*k)) {
        return false;
    }
    if let Some(format) = o.get("format").and_then(Value::as_str)
        && !OPENAI_FORMATS.contains(&format)
    {
        return false;
    }
    let is_object = match o.get("type") {
        Some(Value::String(t)) => t == "object",
        Some(Value::Array(types)) => types.iter().any(|t| t == "object"),
        _ => false,
    };
    if !is_object {
        return true;
    }
    let Some(Value::Object(props)) = o.get("properties") else {
        return false;
    };
    let required: Vec<&str> = match o.get("required") {
        Some(Value::Array(r)) => r.iter().filter_map(Value::as_str).collect(),
        _ => return false,
    };
    o.get("additionalProperties") == Some(&Value::Bool(false))
        && props.len() == required.len()
        && props.keys().all(|k| required.contains(&k.as_str()))
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
