//! Parses UptimeRobot webhook alert contacts
//! (<https://help.uptimerobot.com/en/articles/14498593-webhook-integration>).
//!
//! UptimeRobot sends the alert variables the user picked, either as a JSON
//! body the user wrote (`{"monitorID": "*monitorID*", ...}`: values are
//! strings, or numbers if the user left the quotes out) or as
//! `application/x-www-form-urlencoded` pairs in the POST body or in the
//! query string of the webhook URL (`?monitorID=*monitorID*&...`, sent by
//! GET or POST). [`parse_json`] reads the first, [`parse_form`] the others,
//! and [`parse_request`] a whole request (query string and body together);
//! all then read the same variables:
//!
//! | Variable | Use |
//! |---|---|
//! | `monitorID` (required) | dedup key `uptimerobot-{monitorID}` (`uptimerobot-{monitorID}-ssl` for SSL expiry), label `monitor_id` |
//! | `alertType` (required) | `1` down → trigger, severity `critical`; `2` up → resolve; `3` SSL expiry → trigger, severity `warning` |
//! | `monitorFriendlyName`, else `monitorURL`, else `monitorID` | the summary, with `alertDetails` when it fits |
//! | `monitorURL`, else the name | the source; an `http(s)` URL is also a link |
//! | `alertDateTime` (Unix seconds) | `starts_at`, or `ends_at` of an "up" alert |
//! | `alertDuration` (seconds) | with `alertDateTime`, the `starts_at` of an "up" alert |
//!
//! Every variable received (including `alertTypeFriendlyName`,
//! `monitorAlertContacts`, `sslExpiryDate`, ...) is kept in the details.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::Value;
use warroom_domain::alert::{limits, AlertAction, AlertLink, AlertSignal};

use super::{check_len, check_required, check_utf8, from_json, string_details, FormatError};

/// A request body and how it is encoded (its `Content-Type`).
#[derive(Clone, Copy)]
pub enum Body<'a> {
    Json(&'a [u8]),
    Form(&'a [u8]),
}

/// Parses a whole request: the variables in the webhook URL's query string
/// (with or without the leading `?`) and those in the body (JSON or form),
/// the body's winning where both name one. An empty body, as a GET has,
/// adds nothing. `now` is unused; every parser takes it.
pub fn parse_request(
    query: &str,
    body: Body<'_>,
    _now: Timestamp,
) -> Result<AlertSignal, FormatError> {
    let mut vars = form_vars(query.as_bytes())?;
    let from_body = match body {
        Body::Json(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => BTreeMap::new(),
        Body::Json(bytes) => json_vars(bytes)?,
        Body::Form(bytes) => form_vars(bytes)?,
    };
    vars.extend(from_body);
    from_vars(vars)
}

/// Parses a JSON object of UptimeRobot alert variables. `now` is unused;
/// every parser takes it.
pub fn parse_json(bytes: &[u8], _now: Timestamp) -> Result<AlertSignal, FormatError> {
    from_vars(json_vars(bytes)?)
}

fn json_vars(bytes: &[u8]) -> Result<BTreeMap<String, String>, FormatError> {
    let object: serde_json::Map<String, Value> = from_json(bytes)?;
    let mut vars = BTreeMap::new();
    for (name, value) in object {
        let text = match value {
            Value::String(text) => text,
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Null => continue,
            Value::Array(_) | Value::Object(_) => {
                return Err(FormatError::new(name, "must be a string or a number"))
            }
        };
        vars.insert(name, text);
    }
    Ok(vars)
}

/// Parses `application/x-www-form-urlencoded` alert variables: a POST body,
/// or a request's query string (with or without the leading `?`). A variable
/// given twice keeps its first value. `now` is unused; every parser takes it.
pub fn parse_form(bytes: &[u8], _now: Timestamp) -> Result<AlertSignal, FormatError> {
    from_vars(form_vars(bytes)?)
}

fn form_vars(bytes: &[u8]) -> Result<BTreeMap<String, String>, FormatError> {
    let text = check_utf8(bytes)?;
    let text = text.strip_prefix('?').unwrap_or(text);
    let mut vars = BTreeMap::new();
    for (name, value) in form_urlencoded::parse(text.as_bytes()) {
        let (name, value) = (crate::text::scrub(&name), crate::text::scrub(&value));
        vars.entry(name.into_owned())
            .or_insert_with(|| value.into_owned());
    }
    Ok(vars)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum AlertType {
    Down,
    Up,
    SslExpiry,
}

fn from_vars(vars: BTreeMap<String, String>) -> Result<AlertSignal, FormatError> {
    let get = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let Some(monitor_id) = get("monitorID") else {
        return Err(FormatError::new("monitorID", "missing"));
    };
    check_len("monitorID", monitor_id, limits::LABEL_VALUE)?;
    let alert_type = match get("alertType") {
        Some("1") => AlertType::Down,
        Some("2") => AlertType::Up,
        Some("3") => AlertType::SslExpiry,
        Some(other) => {
            return Err(FormatError::new(
                "alertType",
                format!(
                    "unknown alert type `{other}`; expected 1 (down), 2 (up) or 3 (SSL expiry)"
                ),
            ))
        }
        None => return Err(FormatError::new("alertType", "missing")),
    };
    let dedup_key = match alert_type {
        AlertType::SslExpiry => format!("uptimerobot-{monitor_id}-ssl"),
        _ => format!("uptimerobot-{monitor_id}"),
    };
    check_len("monitorID", &dedup_key, limits::DEDUP_KEY)?;

    let (name_field, name) = ["monitorFriendlyName", "monitorURL"]
        .into_iter()
        .find_map(|field| get(field).map(|v| (field, v)))
        .unwrap_or(("monitorID", monitor_id));
    let mut summary = match alert_type {
        AlertType::Down => format!("{name} is down"),
        AlertType::Up => format!("{name} is up"),
        AlertType::SslExpiry => format!("{name}: SSL certificate expires soon"),
    };
    check_required(name_field, &summary, limits::SUMMARY)?;
    if let Some(details) = get("alertDetails") {
        if summary.chars().count() + 2 + details.chars().count() <= limits::SUMMARY {
            summary = format!("{summary}: {details}");
        }
    }

    let url = get("monitorURL");
    let source = match url {
        Some(url) => {
            check_len("monitorURL", url, limits::SOURCE)?;
            url
        }
        None => {
            check_len(name_field, name, limits::SOURCE)?;
            name
        }
    };
    let links = url
        .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
        .map(|href| AlertLink {
            href: href.to_string(),
            text: "Monitored URL".into(),
        })
        .into_iter()
        .collect();

    let at = get("alertDateTime")
        .map(|v| seconds("alertDateTime", v).and_then(|s| timestamp("alertDateTime", s)))
        .transpose()?;
    let duration = get("alertDuration")
        .map(|v| seconds("alertDuration", v))
        .transpose()?;
    let (starts_at, ends_at) = match (alert_type, at, duration) {
        (AlertType::Up, Some(at), Some(duration)) => (
            Some(timestamp("alertDuration", at.as_second() - duration)?),
            Some(at),
        ),
        (AlertType::Up, at, _) => (None, at),
        (_, at, _) => (at, None),
    };

    Ok(AlertSignal {
        action: match alert_type {
            AlertType::Up => AlertAction::Resolve,
            _ => AlertAction::Trigger,
        },
        dedup_key: Some(dedup_key),
        summary,
        severity: match alert_type {
            AlertType::Down => Some("critical".into()),
            AlertType::Up => None,
            AlertType::SslExpiry => Some("warning".into()),
        },
        source: source.to_string(),
        labels: BTreeMap::from([("monitor_id".to_string(), monitor_id.to_string())]),
        details: string_details(&vars),
        links,
        starts_at,
        ends_at,
        generator_url: None,
        group_key: None,
        origin: "uptimerobot".into(),
    })
}

fn seconds(field: &str, value: &str) -> Result<i64, FormatError> {
    value
        .parse::<i64>()
        .ok()
        .filter(|s| *s >= 0)
        .ok_or_else(|| FormatError::new(field, format!("`{value}` is not a number of seconds")))
}

fn timestamp(field: &str, seconds: i64) -> Result<Timestamp, FormatError> {
    Timestamp::from_second(seconds)
        .map_err(|_| FormatError::new(field, format!("{seconds} seconds is out of range")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2024-05-01T00:00:00Z".parse().unwrap()
    }

    /// A query string as UptimeRobot appends it to the webhook URL.
    const DOWN_QUERY: &str = "?monitorID=793508639&monitorURL=https%3A%2F%2Fshop.example.com%2Fhealth&monitorFriendlyName=Shop%20health&alertType=1&alertTypeFriendlyName=Down&alertDetails=Connection%20Timeout&alertDuration=&alertDateTime=1714521600&monitorAlertContacts=457;2;alerts@example.com";

    #[test]
    fn down_by_query_string() {
        let s = parse_form(DOWN_QUERY.as_bytes(), now()).unwrap();
        assert_eq!(s.action, AlertAction::Trigger);
        assert_eq!(s.dedup_key.as_deref(), Some("uptimerobot-793508639"));
        assert_eq!(s.summary, "Shop health is down: Connection Timeout");
        assert_eq!(s.severity.as_deref(), Some("critical"));
        assert_eq!(s.source, "https://shop.example.com/health");
        assert_eq!(s.labels["monitor_id"], "793508639");
        assert_eq!(s.links[0].href, "https://shop.example.com/health");
        assert_eq!(
            s.starts_at,
            Some(Timestamp::from_second(1_714_521_600).unwrap())
        );
        assert_eq!(s.details["alertTypeFriendlyName"], "Down");
        assert_eq!(s.origin, "uptimerobot");
    }

    /// A JSON body as a user configures it ("Send as JSON"), numbers unquoted.
    const UP_JSON: &str = r#"{
      "monitorID": 793508639,
      "monitorURL": "https://shop.example.com/health",
      "monitorFriendlyName": "Shop health",
      "alertType": 2,
      "alertTypeFriendlyName": "Up",
      "alertDetails": "HTTP 200 - OK",
      "alertDuration": 600,
      "alertDateTime": 1714522200
    }"#;

    #[test]
    fn up_by_json_resolves_the_down_alert() {
        let up = parse_json(UP_JSON.as_bytes(), now()).unwrap();
        let down = parse_form(DOWN_QUERY.as_bytes(), now()).unwrap();
        assert_eq!(up.action, AlertAction::Resolve);
        assert_eq!(up.dedup_key, down.dedup_key);
        assert_eq!(up.severity, None);
        assert_eq!(up.starts_at, down.starts_at);
        assert_eq!(
            up.ends_at,
            Some(Timestamp::from_second(1_714_522_200).unwrap())
        );
    }

    #[test]
    fn ssl_expiry_by_form_body_is_its_own_alert() {
        let body = b"monitorID=1&monitorURL=example.com&alertType=3&sslExpiryDaysLeft=7";
        let s = parse_form(body, now()).unwrap();
        assert_eq!(s.action, AlertAction::Trigger);
        assert_eq!(s.dedup_key.as_deref(), Some("uptimerobot-1-ssl"));
        assert_eq!(s.severity.as_deref(), Some("warning"));
        assert_eq!(s.summary, "example.com: SSL certificate expires soon");
        assert!(s.links.is_empty());
        assert_eq!(s.details["sslExpiryDaysLeft"], "7");
    }

    #[test]
    fn a_request_reads_its_query_string_and_its_body() {
        // GET, or POST with an empty body: the query string alone.
        for body in [Body::Json(b""), Body::Json(b"  \n"), Body::Form(b"")] {
            let s = parse_request(DOWN_QUERY, body, now()).unwrap();
            assert_eq!(s, parse_form(DOWN_QUERY.as_bytes(), now()).unwrap());
        }
        // Variables in the URL, more in a JSON body: the body wins.
        let s = parse_request(
            "monitorID=793508639&alertType=1",
            Body::Json(br#"{"alertType": 2, "monitorFriendlyName": "Shop"}"#),
            now(),
        )
        .unwrap();
        assert_eq!(s.action, AlertAction::Resolve);
        assert_eq!(s.dedup_key.as_deref(), Some("uptimerobot-793508639"));
        assert_eq!(s.summary, "Shop is up");
        let s = parse_request(
            "?monitorID=7",
            Body::Form(b"alertType=3&monitorURL=example.com"),
            now(),
        )
        .unwrap();
        assert_eq!(s.dedup_key.as_deref(), Some("uptimerobot-7-ssl"));
        // Nothing anywhere: the missing variable is named.
        let err = parse_request("", Body::Json(b""), now()).unwrap_err();
        assert_eq!(err.field, "monitorID");
        let err = parse_request("monitorID=1&alertType=1", Body::Json(b"[1]"), now()).unwrap_err();
        assert_eq!(err.field, "");
    }

    #[test]
    fn malformed_variables_name_the_field() {
        let long = "n".repeat(limits::SUMMARY + 1);
        let json_cases = [
            ("monitorID=1", ""),
            ("[]", ""),
            (r#"{"alertType": "1"}"#, "monitorID"),
            (r#"{"monitorID": "1"}"#, "alertType"),
            (r#"{"monitorID": "1", "alertType": "explode"}"#, "alertType"),
            (r#"{"monitorID": "1", "alertType": 9}"#, "alertType"),
            (r#"{"monitorID": ["1"], "alertType": 1}"#, "monitorID"),
            (
                r#"{"monitorID": "1", "alertType": 1, "alertDateTime": "yesterday"}"#,
                "alertDateTime",
            ),
            (
                r#"{"monitorID": "1", "alertType": 2, "alertDateTime": 5, "alertDuration": -3}"#,
                "alertDuration",
            ),
            (
                r#"{"monitorID": "1", "alertType": 1, "alertDateTime": 99999999999999}"#,
                "alertDateTime",
            ),
        ];
        for (body, field) in json_cases {
            let err = parse_json(body.as_bytes(), now()).unwrap_err();
            assert_eq!(err.field, field, "{body}: {err}");
        }
        let form_cases = [
            ("alertType=1".to_string(), "monitorID"),
            (
                format!("monitorID={}&alertType=1", "9".repeat(250)),
                "monitorID",
            ),
            (
                format!("monitorID=1&alertType=1&monitorFriendlyName={long}"),
                "monitorFriendlyName",
            ),
            (
                format!(
                    "monitorID=1&alertType=1&monitorURL=https://{}",
                    "u".repeat(limits::SOURCE)
                ),
                "monitorURL",
            ),
        ];
        for (body, field) in form_cases {
            let err = parse_form(body.as_bytes(), now()).unwrap_err();
            assert_eq!(err.field, field, "{body}: {err}");
        }
        assert!(parse_form(b"monitorID=\xff", now())
            .unwrap_err()
            .message
            .contains("UTF-8"));
        let deep = format!("{}{}", "{\"a\":".repeat(40), "}".repeat(40));
        assert_eq!(parse_json(deep.as_bytes(), now()).unwrap_err().field, "");
    }
}
