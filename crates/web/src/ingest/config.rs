//! An integration's `config`, parsed once when its key is loaded into the
//! key cache, so the alert path reads typed values instead of JSON.

use std::collections::BTreeMap;

use serde_json::Value;
use warroom_engine::ingest::Route;

use super::formats::generic::GenericMapping;

/// What the alert endpoints use of an integration's config.
#[derive(Debug, Clone)]
pub struct IntegrationConfig {
    /// `severity_map`: the sender's severity words to playbook severities;
    /// empty when absent or not a map of strings.
    pub severity_map: BTreeMap<String, String>,
    /// `routes` of a catch-all integration; empty when absent. They were
    /// checked when the integration was created.
    pub routes: Vec<Route>,
    /// `mapping`, the generic format's field mapping, or why there is none.
    pub mapping: Result<GenericMapping, MappingError>,
}

/// Why an integration has no field mapping to read a generic body with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MappingError {
    Missing,
    /// It does not deserialize; the serde message.
    Invalid(String),
}

impl IntegrationConfig {
    pub fn parse(config: &Value) -> IntegrationConfig {
        IntegrationConfig {
            severity_map: config
                .get("severity_map")
                .and_then(|m| serde_json::from_value(m.clone()).ok())
                .unwrap_or_default(),
            routes: routes_of(config).unwrap_or_default(),
            mapping: mapping_of(config),
        }
    }
}

/// The `mapping` of an integration's config, deserialized (not validated).
pub(crate) fn mapping_of(config: &Value) -> Result<GenericMapping, MappingError> {
    let mapping = config.get("mapping").ok_or(MappingError::Missing)?;
    serde_json::from_value(mapping.clone()).map_err(|e| MappingError::Invalid(e.to_string()))
}

/// The `routes` of an integration's config: `[{"matchers": "team=\"db\"", "service": "database"}]`.
pub(crate) fn routes_of(config: &Value) -> Result<Vec<Route>, String> {
    let Some(routes) = config.get("routes") else {
        return Ok(Vec::new());
    };
    let routes = routes.as_array().ok_or("routes must be a list")?;
    routes
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let matchers = r
                .get("matchers")
                .and_then(|m| m.as_str())
                .ok_or(format!("routes[{i}].matchers must be a string of matchers"))?;
            let matchers = warroom_domain::alerting::parse_matchers(matchers)
                .map_err(|e| format!("routes[{i}].matchers: {e}"))?;
            let service = r
                .get("service")
                .and_then(|s| s.as_str())
                .ok_or(format!("routes[{i}].service must be a service id"))?;
            Ok(Route {
                matchers,
                service: service.to_owned(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn parses_each_part_once() {
        let config = IntegrationConfig::parse(&json!({
            "severity_map": {"page": "SEV-1"},
            "routes": [{"matchers": "team=\"db\"", "service": "database"}],
            "mapping": {"dedup_key": "/id", "summary": "/title"},
        }));
        assert_eq!(config.severity_map["page"], "SEV-1");
        assert_eq!(config.routes.len(), 1);
        assert_eq!(config.routes[0].service, "database");
        assert_eq!(config.mapping, Ok(GenericMapping::new("/id", "/title")));
    }

    #[test]
    fn a_missing_or_bad_part_is_empty_or_says_why() {
        let empty = IntegrationConfig::parse(&json!({}));
        assert!(empty.severity_map.is_empty());
        assert!(empty.routes.is_empty());
        assert_eq!(empty.mapping, Err(MappingError::Missing));
        let bad = IntegrationConfig::parse(&json!({
            "severity_map": ["page"],
            "routes": "team=db",
            "mapping": {"summary": "/title"},
        }));
        assert!(bad.severity_map.is_empty());
        assert!(bad.routes.is_empty());
        assert!(matches!(bad.mapping, Err(MappingError::Invalid(m)) if m.contains("dedup_key")));
    }
}
