//! The tools' schemas per provider: golden files (insta) and the rules each provider enforces, checked on
//! every object of every schema.

use auren_agents::schema::{for_provider, is_strict_ready};
use auren_agents::tools::{ToolName, all_specs};
use auren_gateway::{ProviderKind, SchemaAdherence};
use serde_json::{Value, json};

fn walk<'a>(v: &'a Value, out: &mut Vec<&'a serde_json::Map<String, Value>>) {
    if let Value::Object(o) = v {
        out.push(o);
        for child in o.values() {
            match child {
                Value::Object(_) => walk(child, out),
                Value::Array(list) => list.iter().for_each(|x| walk(x, out)),
                _ => {}
            }
        }
    }
}

#[test]
fn openai_schemas_match_the_golden_file() {
    insta::assert_json_snapshot!("tools_openai", for_provider(&all_specs(), ProviderKind::OpenAi));
}

#[test]
fn anthropic_schemas_match_the_golden_file() {
    insta::assert_json_snapshot!(
        "tools_anthropic",
        for_provider(&all_specs(), ProviderKind::Anthropic)
    );
}

#[test]
fn openai_schemas_are_strict_mode_schemas() {
    const FORMATS: [&str; 9] = [
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
    for kind in [ProviderKind::OpenAi, ProviderKind::OpenAiCompatible] {
        for def in for_provider(&all_specs(), kind) {
            assert_eq!(def.parameters["type"], "object", "{}", def.name);
            let mut objects = Vec::new();
            walk(&def.parameters, &mut objects);
            for o in objects {
                for banned in ["$schema", "oneOf", "default", "$ref", "$defs", "title"] {
                    assert!(!o.contains_key(banned), "{}: {banned} in {o:?}", def.name);
                }
                if let Some(f) = o.get("format").and_then(Value::as_str) {
                    assert!(FORMATS.contains(&f), "{}: format {f}", def.name);
                }
                if let Some(Value::Object(props)) = o.get("properties") {
                    assert_eq!(
                        o.get("additionalProperties"),
                        Some(&Value::Bool(false)),
                        "{}",
                        def.name
                    );
                    let required: Vec<&str> = o["required"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|x| x.as_str().unwrap())
                        .collect();
                    let names: Vec<&str> = props.keys().map(String::as_str).collect();
                    assert_eq!(required, names, "{}: every property is required", def.name);
                }
            }
        }
    }
}

/// Under strict mode an optional argument is sent as null: every tool takes an object of nulls for them.
#[test]
fn optional_arguments_are_nullable_and_nulls_parse() {
    let raw = all_specs();
    for def in for_provider(&raw, ProviderKind::OpenAi) {
        let spec = raw.iter().find(|s| s.name.as_str() == def.name).unwrap();
        let Some(props) = spec.schema.get("properties").and_then(Value::as_object) else {
            continue;
        };
        let optional: Vec<String> = props
            .keys()
            .filter(|k| {
                !spec.schema["required"]
                    .as_array()
                    .is_some_and(|r| r.contains(&Value::String((*k).clone())))
            })
            .cloned()
            .collect();
        for name in &optional {
            let prop = &def.parameters["properties"][name];
            let nullable = prop["type"]
                .as_array()
                .is_some_and(|t| t.contains(&Value::from("null")))
                || prop["anyOf"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|s| s["type"] == "null"));
            assert!(
                nullable,
                "{}.{name} is optional but not nullable: {prop}",
                def.name
            );
            if let Some(e) = prop["enum"].as_array() {
                assert!(e.contains(&Value::Null), "{}.{name}: enum lacks null", def.name);
            }
        }
    }
    assert_eq!(raw.len(), ToolName::ALL.len());
}

#[test]
fn anthropic_schemas_keep_optional_fields_optional() {
    for def in for_provider(&all_specs(), ProviderKind::Anthropic) {
        assert!(def.parameters.get("$schema").is_none());
        assert_eq!(def.parameters["type"], "object");
    }
    let defs = for_provider(&all_specs(), ProviderKind::Anthropic);
    let readiness = defs.iter().find(|d| d.name == "get_readiness").unwrap();
    assert!(
        readiness
            .parameters
            .get("required")
            .is_none_or(|r| r.as_array().unwrap().is_empty())
    );
}

/// Every tool the coach offers qualifies for OpenAI's strict mode once transformed, so each is marked for
/// `"strict": true`; Anthropic's shapes never are.
#[test]
fn openai_definitions_are_marked_strict_and_anthropic_ones_best_effort() {
    for (kind, expected) in [
        (ProviderKind::OpenAi, SchemaAdherence::Strict),
        (ProviderKind::OpenAiCompatible, SchemaAdherence::Strict),
        (ProviderKind::Anthropic, SchemaAdherence::BestEffort),
    ] {
        for def in for_provider(&all_specs(), kind) {
            assert_eq!(def.adherence, expected, "{kind:?} {}", def.name);
        }
    }
}

/// Breaks one strict-mode rule in a schema.
type Breaker = fn(&mut Value);

/// The strict-mode check itself: each rule OpenAI enforces, broken once.
#[test]
fn a_schema_breaking_a_strict_rule_is_not_strict_ready() {
    let ok = json!({
        "type": "object",
        "properties": {
            "days": {"type": ["integer", "null"]},
            "when": {"type": "object", "properties": {"day": {"type": "string", "format": "date"}},
                     "required": ["day"], "additionalProperties": false},
            "tags": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "null"}]}},
            "default": {"type": "string"}
        },
        "required": ["days", "when", "tags", "default"],
        "additionalProperties": false
    });
    assert!(
        is_strict_ready(&ok),
        "a property named like a keyword is only a name"
    );
    let cases: [(&str, Breaker); 8] = [
        ("root not an object", |v| v["type"] = json!("array")),
        ("open root", |v| v["additionalProperties"] = json!(true)),
        ("optional property", |v| {
            v["required"] = json!(["days", "when", "tags"])
        }),
        ("open nested object", |v| {
            v["properties"]["when"]
                .as_object_mut()
                .unwrap()
                .remove("additionalProperties");
        }),
        ("default keyword", |v| {
            v["properties"]["days"]["default"] = json!(7)
        }),
        ("oneOf", |v| {
            v["properties"]["tags"]["items"] = json!({"oneOf": [{"type": "string"}]})
        }),
        ("unknown format", |v| {
            v["properties"]["when"]["properties"]["day"]["format"] = json!("uint32")
        }),
        ("$ref", |v| {
            v["properties"]["days"] = json!({"$ref": "#/$defs/Days"})
        }),
    ];
    for (what, break_it) in cases {
        let mut v = ok.clone();
        break_it(&mut v);
        assert!(!is_strict_ready(&v), "{what}: {v}");
    }
}
