//! Request paths as the log may show them: the credentials some paths carry
//! (integration keys, acknowledge-link tokens, calendar feed tokens) and
//! secret-looking query values replaced by `***`, at every log level.

use axum::http::Uri;

/// What replaces a secret.
pub const REDACTED: &str = "***";

/// Paths whose segment `at` (counting the segments after the first `/` from
/// 0, empty ones skipped) is a credential, by their first segment: every
/// route that takes a secret in its path.
const SECRET_SEGMENTS: &[(&str, usize)] = &[
    // `/ack/{token}` (ack.rs): a signed acknowledge link.
    ("ack", 1),
    // `/ical/{token}.ics` (api/oncall/feeds.rs): the feed's token.
    ("ical", 1),
    // `/integrations/{kind}/{key}` and
    // `/integrations/prometheus/{key}/api/v2/alerts` (ingest/routes.rs).
    ("integrations", 2),
];

/// Query parameters whose value is kept out of the log: any whose name
/// contains one of these (ASCII case ignored).
const SECRET_PARAMS: &[&str] = &[
    "token", "key", "secret", "pass", "auth", "sig", "session", "code", "csrf",
];

/// `uri`'s path and query with every secret replaced by `***`.
pub fn loggable_uri(uri: &Uri) -> String {
    let mut out = loggable_path(uri.path());
    if let Some(query) = uri.query() {
        out.push('?');
        out.push_str(&loggable_query(query));
    }
    out
}

fn loggable_path(path: &str) -> String {
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    let secret_at = segments.next().and_then(|first| {
        SECRET_SEGMENTS
            .iter()
            .find(|(name, _)| first.eq_ignore_ascii_case(name))
            .map(|&(_, at)| at)
    });
    let Some(secret_at) = secret_at else {
        return path.to_owned();
    };
    let mut index = 0;
    let parts: Vec<&str> = path
        .split('/')
        .map(|segment| {
            if segment.is_empty() {
                return segment;
            }
            let shown = if index == secret_at {
                REDACTED
            } else {
                segment
            };
            index += 1;
            shown
        })
        .collect();
    parts.join("/")
}

fn loggable_query(query: &str) -> String {
    let parts: Vec<String> = query
        .split('&')
        .map(|pair| {
            let Some((name, _)) = pair.split_once('=') else {
                return pair.to_owned();
            };
            // The name as the app reads it: `to%6Ben` is `token`.
            let decoded = form_urlencoded::parse(name.as_bytes())
                .next()
                .map(|(n, _)| n.to_ascii_lowercase())
                .unwrap_or_default();
            if SECRET_PARAMS.iter().any(|s| decoded.contains(s)) {
                format!("{name}={REDACTED}")
            } else {
                pair.to_owned()
            }
        })
        .collect();
    parts.join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(uri: &str, expected: &str) {
        let uri: Uri = uri.parse().unwrap();
        assert_eq!(loggable_uri(&uri), expected, "{uri}");
    }

    #[test]
    fn secrets_in_paths_are_replaced() {
        check("/ack/eyJhbGc.sig", "/ack/***");
        check("/ack/eyJhbGc.sig/", "/ack/***/");
        check("/ACK/eyJhbGc.sig", "/ACK/***");
        check("//ack//eyJhbGc.sig", "//ack//***");
        check("/ical/wrcal_abc123.ics", "/ical/***");
        check(
            "/integrations/grafana/wrk_abc123",
            "/integrations/grafana/***",
        );
        check(
            "/integrations/prometheus/wrk_abc123/api/v2/alerts",
            "/integrations/prometheus/***/api/v2/alerts",
        );
        check("/integrations/grafana", "/integrations/grafana");
    }

    #[test]
    fn other_paths_are_kept() {
        check(
            "/api/v1/integrations/int_1/rotate",
            "/api/v1/integrations/int_1/rotate",
        );
        check(
            "/api/v1/incidents/INC-2026-0001",
            "/api/v1/incidents/INC-2026-0001",
        );
        check("/healthz", "/healthz");
        check("/", "/");
        check("/acknowledge/x", "/acknowledge/x");
    }

    #[test]
    fn secret_looking_query_values_are_replaced() {
        check(
            "/alerts?status=firing&limit=5",
            "/alerts?status=firing&limit=5",
        );
        check("/x?token=abc&status=open", "/x?token=***&status=open");
        check("/x?api_key=abc", "/x?api_key=***");
        check("/x?to%6Ben=abc", "/x?to%6Ben=***");
        check("/x?Access_Token=abc&flag", "/x?Access_Token=***&flag");
        check(
            "/integrations/uptimerobot/wrk_1?monitorID=7&alertType=1",
            "/integrations/uptimerobot/***?monitorID=7&alertType=1",
        );
    }
}
