//! The CloudFormation template `infra/ripcord.yaml`, read as plain YAML
//! (it uses only long-form intrinsics), and what its tests need to follow
//! its references: resources by type, by id or by the name they resolve to,
//! and `Fn::Sub` strings resolved the way the policy files in `infra/iam/`
//! are written (`REGION`, `ACCOUNT_ID`, partition `aws`, prefix `ripcord`).

use serde_json::{Value, json};
use std::path::PathBuf;

/// The repository root.
pub fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The template's path.
pub fn template_path() -> PathBuf {
    repository().join("infra/ripcord.yaml")
}

/// The name prefix the resolved names use (the template's default).
pub const PREFIX: &str = "ripcord";

pub struct Template {
    pub root: Value,
}

impl Template {
    pub fn load() -> Template {
        let text = std::fs::read_to_string(template_path()).expect("infra/ripcord.yaml");
        let root: Value = serde_norway::from_str(&text)
            .unwrap_or_else(|e| panic!("infra/ripcord.yaml is not plain YAML: {e}"));
        Template { root }
    }

    pub fn resources(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.root["Resources"]
            .as_object()
            .expect("Resources")
            .iter()
            .map(|(id, r)| (id.as_str(), r))
    }

    /// The resources of one type, in the template's order.
    pub fn of_type(&self, kind: &str) -> Vec<(&str, &Value)> {
        self.resources()
            .filter(|(_, r)| r["Type"] == kind)
            .collect()
    }

    /// The resource `id`.
    pub fn resource(&self, id: &str) -> &Value {
        let found = &self.root["Resources"][id];
        assert!(found.is_object(), "infra/ripcord.yaml has no resource {id}");
        found
    }

    /// The one resource of `kind` whose `property` resolves to `name`.
    pub fn named(&self, kind: &str, property: &str, name: &str) -> (&str, &Value) {
        let found: Vec<(&str, &Value)> = self
            .of_type(kind)
            .into_iter()
            .filter(|(_, r)| resolve(&r["Properties"][property]) == name)
            .collect();
        assert_eq!(
            found.len(),
            1,
            "infra/ripcord.yaml should have one {kind} with {property} {name}, not {}",
            found.len()
        );
        found[0]
    }

    /// The parameter's default.
    pub fn default_of(&self, parameter: &str) -> &Value {
        &self.root["Parameters"][parameter]["Default"]
    }
}

/// `{"Ref": id}`.
pub fn reference(id: &str) -> Value {
    json!({ "Ref": id })
}

/// `{"Fn::GetAtt": [id, attribute]}`.
pub fn get_att(id: &str, attribute: &str) -> Value {
    json!({ "Fn::GetAtt": [id, attribute] })
}

/// `value` with every `Fn::Sub` string and `Ref: NamePrefix` replaced by
/// text as `infra/iam/` writes it; other intrinsics are left as they are.
pub fn resolve(value: &Value) -> Value {
    match value {
        Value::Object(map) if map.len() == 1 => match map.iter().next() {
            Some((key, Value::String(text))) if key == "Fn::Sub" => Value::String(
                text.replace("${AWS::Partition}", "aws")
                    .replace("${AWS::Region}", "REGION")
                    .replace("${AWS::AccountId}", "ACCOUNT_ID")
                    .replace("${NamePrefix}", PREFIX),
            ),
            Some((key, Value::String(name))) if key == "Ref" && name == "NamePrefix" => {
                Value::String(PREFIX.to_owned())
            }
            _ => Value::Object(map.iter().map(|(k, v)| (k.clone(), resolve(v))).collect()),
        },
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), resolve(v))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(resolve).collect()),
        other => other.clone(),
    }
}

/// A number the template may write as a number or a string.
pub fn number(value: &Value) -> Option<u64> {
    value
        .as_u64()
        .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
}
