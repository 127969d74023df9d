//! Tests of URL building, error lines and requests against a one-shot local server.

use super::*;

fn url_for(base: &str, segments: &[&str]) -> String {
    endpoint(&Url::parse(base).unwrap(), segments)
        .unwrap()
        .to_string()
}

#[test]
fn urls_percent_encode_user_segments() {
    let base = "http://127.0.0.1:8080";
    let cases: &[(&[&str], &str)] = &[
        (&["incidents"], "/api/v1/incidents"),
        (
            &["incidents", "INC-2026-0001"],
            "/api/v1/incidents/INC-2026-0001",
        ),
        (&["incidents", "INC 1/2"], "/api/v1/incidents/INC%201%2F2"),
        (
            &["incidents", "INC-1", "roles", "Incident Commander"],
            "/api/v1/incidents/INC-1/roles/Incident%20Commander",
        ),
        (
            &["incidents", "INC-1", "roles", "Comms/Status page"],
            "/api/v1/incidents/INC-1/roles/Comms%2FStatus%20page",
        ),
        (
            &["incidents", "a?b#c%d", "timeline"],
            "/api/v1/incidents/a%3Fb%23c%25d/timeline",
        ),
        (
            &["incidents", "INC-1", "checklist", "post mortem", "2"],
            "/api/v1/incidents/INC-1/checklist/post%20mortem/2",
        ),
    ];
    for (segments, path) in cases {
        assert_eq!(
            url_for(base, segments),
            format!("{base}{path}"),
            "{segments:?}"
        );
    }
}

#[test]
fn urls_keep_a_path_prefix_and_drop_query() {
    for base in [
        "https://ops.example.com/warroom",
        "https://ops.example.com/warroom/",
    ] {
        assert_eq!(
            url_for(base, &["incidents", "INC-1"]),
            "https://ops.example.com/warroom/api/v1/incidents/INC-1"
        );
    }
    assert_eq!(
        url_for("http://h:1/?x=1#f", &["incidents"]),
        "http://h:1/api/v1/incidents"
    );
}

#[test]
fn dot_and_empty_segments_are_refused() {
    let base = Url::parse("http://127.0.0.1:8080").unwrap();
    for bad in ["", ".", ".."] {
        let err = endpoint(&base, &["incidents", bad]).unwrap_err();
        assert!(err.to_string().contains("cannot be used"), "{err}");
    }
}

fn line(status: u16, body: &str) -> String {
    error_line(StatusCode::from_u16(status).unwrap(), body)
}

#[test]
fn error_bodies_become_one_line() {
    let sev = "severity: unknown severity `SEV-9`; the playbook has: SEV-0, SEV-1";
    let body =
        format!(r#"{{"error":{{"code":"invalid_field","message":"{sev}","field":"severity"}}}}"#);
    assert_eq!(line(422, &body), format!("HTTP 422: {sev}"));

    let body = r#"{"error":{"code":"bad_request","message":"must not be empty","field":"title"}}"#;
    assert_eq!(line(400, body), "HTTP 400: must not be empty (field title)");

    let body = r#"{"error":{"code":"illegal_transition","message":"cannot move INC-1 from closed to investigating:\n closed incidents are final","field":null}}"#;
    assert_eq!(
        line(409, body),
        "HTTP 409: cannot move INC-1 from closed to investigating: closed incidents are final"
    );
}

#[test]
fn auth_errors_carry_a_hint() {
    let body =
        r#"{"error":{"code":"unauthorized","message":"unknown or revoked token","field":null}}"#;
    assert_eq!(
        line(401, body),
        format!("HTTP 401: unknown or revoked token; {HINT_401}")
    );
    let body = r#"{"error":{"code":"forbidden","message":"token \"ro\" has the viewer role, which is read-only"}}"#;
    assert_eq!(
        line(403, body),
        "HTTP 403: token \"ro\" has the viewer role, which is read-only; your token's role may not do this"
    );
}

#[test]
fn other_bodies_are_cut_to_an_excerpt() {
    assert_eq!(line(502, ""), "HTTP 502: Bad Gateway");
    assert_eq!(
        line(500, "<html>\n<body>oops</body>\n</html>"),
        "HTTP 500: <html> <body>oops</body> </html>"
    );
    let long = "é".repeat(300);
    assert_eq!(line(500, &long), format!("HTTP 500: {}…", "é".repeat(200)));
    assert_eq!(line(404, "\u{1b}[31mnot here"), "HTTP 404: [31mnot here");
}

/// Answers one request on a fresh local port with `response` and hands back
/// the request's text.
async fn one_shot(response: &'static str) -> (Url, tokio::task::JoinHandle<String>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        let mut buf = [0; 4096];
        // Headers end with a blank line; the bodies sent here are small.
        while !String::from_utf8_lossy(&request).contains("\r\n\r\n") {
            let n = socket.read(&mut buf).await.unwrap();
            request.extend_from_slice(&buf[..n]);
        }
        socket.write_all(response.as_bytes()).await.unwrap();
        socket.shutdown().await.unwrap();
        String::from_utf8_lossy(&request).into_owned()
    });
    (base, server)
}

#[tokio::test]
async fn requests_carry_the_token_and_an_encoded_path() {
    let (base, server) = one_shot(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\
         connection: close\r\n\r\n{\"ok\":true}",
    )
    .await;
    let api = Api::new(&base, Some("wr_secret")).unwrap();
    let url = api
        .url(&["incidents", "INC 1/2", "roles", "Comms lead"])
        .unwrap();
    assert_eq!(api.get(url).await.unwrap(), r#"{"ok":true}"#);
    let request = server.await.unwrap();
    assert!(
        request.starts_with("GET /api/v1/incidents/INC%201%2F2/roles/Comms%20lead HTTP/1.1\r\n"),
        "{request}"
    );
    assert!(request
        .to_ascii_lowercase()
        .contains("authorization: bearer wr_secret\r\n"));
}

#[tokio::test]
async fn error_responses_become_the_error_line() {
    let (base, server) = one_shot(
        "HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: 80\r\n\
         connection: close\r\n\r\n\
         {\"error\":{\"code\":\"not_found\",\"message\":\"incident INC-9 not found\",\"field\":null}}",
    )
    .await;
    let api = Api::new(&base, Some("t")).unwrap();
    let err = api
        .get(api.url(&["incidents", "INC-9"]).unwrap())
        .await
        .unwrap_err();
    assert_eq!(format!("{err:#}"), "HTTP 404: incident INC-9 not found");
    server.await.unwrap();
}

#[tokio::test]
async fn an_unreachable_server_gets_a_hint() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    drop(listener);
    let api = Api::new(&base, Some("t")).unwrap();
    let err = api.get(api.url(&["incidents"]).unwrap()).await.unwrap_err();
    let text = format!("{err:#}");
    let server = base.as_str().trim_end_matches('/');
    assert!(
        text.starts_with(&format!("cannot reach Warroom at {server} (")),
        "{text}"
    );
    assert!(
        text.ends_with("is `warroom serve` running? Set --server or WARROOM_SERVER."),
        "{text}"
    );
}

#[test]
fn a_missing_token_is_explained_before_any_request() {
    let base = Url::parse("http://127.0.0.1:8080").unwrap();
    for token in [None, Some(""), Some("  ")] {
        let err = Api::new(&base, token).err().unwrap();
        assert_eq!(err.to_string(), format!("no API token; {HINT_401}"));
    }
}

#[test]
fn bodies_that_do_not_fit_say_why() {
    #[derive(Debug, serde::Deserialize)]
    struct Thing {
        #[allow(dead_code)]
        id: String,
    }
    let err = decode::<Thing>(r#"{"name":"x"}"#, "incident").unwrap_err();
    assert_eq!(
        format!("{err:#}"),
        "unexpected incident from the server (is it a different version?): missing field `id` at line 1 column 12"
    );
    let err = decode::<Thing>("<html>\n<h1>Welcome to nginx</h1>", "incident").unwrap_err();
    assert!(
        format!("{err:#}").starts_with("the server sent something that is not JSON: <html> <h1>Welcome to nginx</h1>: expected value"),
        "{err:#}"
    );
}
