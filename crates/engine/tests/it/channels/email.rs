//! E-mail against a real SMTP server: Debian's `python3-aiosmtpd`, started
//! by each test on a free local port.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use warroom_domain::notify::{ChannelConfig, ChannelSettings, SmtpSecurity};
use warroom_engine::delivery::{message_id, ChannelSet, Channels};
use warroom_engine::ManualClock;

use super::{
    assert_permanent, assert_temporary, channel, env, message, now, page, secrets, update,
};

/// An SMTP server on a free local port, as aiosmtpd's own protocol class
/// (plain, AUTH PLAIN/LOGIN allowed without TLS for the test). It parses
/// each message with Python's `email` package and writes it as JSON (part
/// contents with SMTP's CRLF line ends as `\n`, trailing ones dropped).
/// Recipients starting with `reject` get 550, with `busy` 451. The only
/// login is `warroom` / `pw-smtp`. It stops when its stdin closes.
const SMTP_SERVER: &str = r#"
import asyncio, email, email.policy, json, logging, os, sys
logging.getLogger("mail.log").setLevel(logging.ERROR)  # aiosmtpd 1.4 warns about its own login_data
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

outdir = sys.argv[1]

class Recorder:
    def __init__(self):
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("reject"):
            return "550 5.1.1 No such user"
        if address.startswith("busy"):
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        parts = [
            {"content_type": p.get_content_type(), "charset": p.get_content_charset(), "content": p.get_content().replace("\r\n", "\n").rstrip("\n")}
            for p in msg.walk() if not p.is_multipart()
        ]
        auth = session.auth_data
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "login": auth.login.decode() if isinstance(auth, LoginPassword) else None,
            "headers": {k: str(v) for k, v in msg.items()},
            "content_type": msg.get_content_type(),
            "parts": parts,
        }
        path = os.path.join(outdir, "%04d.json" % self.count)
        with open(path + ".tmp", "w") as f:
            json.dump(record, f)
        os.rename(path + ".tmp", path)
        return "250 2.0.0 Ok: queued as TEST%d" % self.count

def authenticate(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"warroom" and auth_data.password == b"pw-smtp"
    return AuthResult(success=ok, handled=False, auth_data=auth_data)

async def main():
    loop = asyncio.get_running_loop()
    recorder = Recorder()
    server = await loop.create_server(
        lambda: SMTP(recorder, hostname="mx.test", authenticator=authenticate, auth_require_tls=False),
        "127.0.0.1", 0)
    print("ready", server.sockets[0].getsockname()[1], flush=True)
    await loop.run_in_executor(None, sys.stdin.read)

asyncio.run(main())
"#;

pub(crate) struct SmtpServer {
    pub(crate) port: u16,
    dir: tempfile::TempDir,
    _child: tokio::process::Child,
}

impl SmtpServer {
    pub(crate) async fn start() -> SmtpServer {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("smtp_server.py");
        std::fs::write(&script, SMTP_SERVER).unwrap();
        let out = dir.path().join("mail");
        std::fs::create_dir(&out).unwrap();
        let mut child = tokio::process::Command::new("/usr/bin/python3")
            .arg(&script)
            .arg(&out)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("run /usr/bin/python3 (the e-mail tests need Debian's python3-aiosmtpd)");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        tokio::time::timeout(
            Duration::from_secs(20),
            BufReader::new(stdout).read_line(&mut line),
        )
        .await
        .expect("the SMTP server did not start in 20 s")
        .unwrap();
        let port = line
            .strip_prefix("ready ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| {
                panic!("the SMTP server did not start (is python3-aiosmtpd installed?): {line:?}")
            });
        SmtpServer {
            port,
            dir,
            _child: child,
        }
    }

    fn mail_dir(&self) -> PathBuf {
        self.dir.path().join("mail")
    }

    /// The messages received so far, oldest first.
    pub(crate) fn received(&self) -> Vec<Value> {
        read_mail(&self.mail_dir())
    }

    fn channel(&self, name: &str, with_login: bool) -> ChannelConfig {
        channel(
            name,
            ChannelSettings::Smtp {
                host: "127.0.0.1".to_owned(),
                port: self.port,
                security: SmtpSecurity::None,
                username: with_login.then(|| "warroom".to_owned()),
                password: with_login.then(|| env("SMTP_PASSWORD")),
                from: "Warroom <alerts@warroom.example.com>".to_owned(),
            },
        )
    }
}

fn read_mail(dir: &Path) -> Vec<Value> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
        .collect()
}

#[tokio::test]
async fn email_goes_out_threaded_with_text_and_html_parts() {
    let smtp = SmtpServer::start().await;
    let set = ChannelSet::resolve(&[smtp.channel("email", true)], secrets(&[]))
        .unwrap()
        .with_clock(Arc::new(ManualClock::new(now())));

    let answer = set
        .send(&update("email", "Management <mgmt@example.com>"))
        .await
        .unwrap();
    assert_eq!(answer, "250 2.0.0 Ok: queued as TEST1");

    let mail = smtp.received();
    assert_eq!(mail.len(), 1);
    let m = &mail[0];
    assert_eq!(m["mail_from"], "alerts@warroom.example.com");
    assert_eq!(m["rcpt_tos"], json!(["mgmt@example.com"]));
    assert_eq!(m["login"], "warroom", "AUTH with the configured login");
    let h = &m["headers"];
    assert_eq!(h["From"], "Warroom <alerts@warroom.example.com>");
    assert_eq!(h["To"], "Management <mgmt@example.com>");
    assert_eq!(h["Subject"], "[SEV-1] INC-2026-0007: Checkout is down");
    let id = message_id(
        "test:email:Management <mgmt@example.com>",
        "warroom.example.com",
    );
    assert_eq!(h["Message-ID"], id.as_str());
    assert!(id.len() == "<@warroom.example.com>".len() + 32, "{id}");
    assert_eq!(
        h["In-Reply-To"],
        "<incident-INC-2026-0007@warroom.example.com>"
    );
    assert_eq!(
        h["References"],
        "<incident-INC-2026-0007@warroom.example.com>"
    );
    assert_eq!(h["Auto-Submitted"], "auto-generated");
    assert_eq!(h["Date"], "Wed, 25 Nov 2026 14:00:00 +0000");
    assert_eq!(m["content_type"], "multipart/alternative");
    assert_eq!(
        m["parts"],
        json!([
            {"content_type": "text/plain", "charset": "utf-8",
             "content": "Payments are failing over to the second region."},
            {"content_type": "text/html", "charset": "utf-8",
             "content": "<p>Payments are failing over to the <b>second</b> region.</p>"},
        ])
    );

    // Non-ASCII and long lines survive the transfer encoding.
    let long = format!("Zahlungen schlagen fehl — Ursache: {}", "ü".repeat(300));
    let mut m = message(
        "email",
        "mgmt@example.com",
        "Störung: Kasse",
        json!({"kind": "status_update", "text": long, "thread": "INC 7/ö"}),
    );
    m.idempotency_key = "second".to_owned();
    set.send(&m).await.unwrap();
    let m = &smtp.received()[1];
    assert_eq!(m["headers"]["Subject"], "Störung: Kasse");
    let root = m["headers"]["References"].as_str().unwrap();
    assert!(
        root.starts_with("<incident-")
            && root.ends_with("@warroom.example.com>")
            && !root.contains(' '),
        "{root}"
    );
    assert_eq!(m["parts"][0]["content"], long.as_str());
}

#[tokio::test]
async fn email_pages_use_the_first_smtp_channel_and_plain_text() {
    let smtp = SmtpServer::start().await;
    let set = ChannelSet::resolve(
        &[
            channel(
                "ops",
                ChannelSettings::Slack {
                    webhook_url: env("UNUSED_URL"),
                },
            ),
            smtp.channel("mail-relay", false),
        ],
        secrets(&[("UNUSED_URL", "http://127.0.0.1:9/".to_owned())]),
    )
    .unwrap();
    // A page to Alice's e-mail contact method: channel `email`, no channel of that name.
    let mut m = page("email", "alice@example.com");
    m.idempotency_key = "page:INC-2026-0007:1:0:alice:primary".to_owned();
    set.send(&m).await.unwrap();
    // Sent again (a crash before the commit): the same Message-ID.
    set.send(&m).await.unwrap();

    let mail = smtp.received();
    assert_eq!(mail.len(), 2);
    let h = &mail[0]["headers"];
    assert_eq!(h["To"], "alice@example.com");
    assert_eq!(mail[0]["login"], Value::Null, "no AUTH without a username");
    assert_eq!(
        h["Message-ID"],
        message_id(
            "page:INC-2026-0007:1:0:alice:primary",
            "warroom.example.com"
        )
        .as_str()
    );
    assert_eq!(mail[1]["headers"]["Message-ID"], h["Message-ID"]);
    assert_eq!(h.get("In-Reply-To"), None, "no thread in a page body");
    assert_eq!(mail[0]["content_type"], "text/plain");
    assert_eq!(
        mail[0]["parts"],
        json!([{"content_type": "text/plain", "charset": "utf-8",
                "content": "[SEV-1] INC-2026-0007: Checkout is down\n\nAcknowledge: https://warroom.example.com/ack/tok"}])
    );
}

#[tokio::test]
async fn email_failures_are_temporary_or_permanent_by_smtp_code() {
    let smtp = SmtpServer::start().await;
    let set = ChannelSet::resolve(&[smtp.channel("email", true)], secrets(&[])).unwrap();
    assert_permanent(
        set.send(&update("email", "reject@example.com")).await,
        "550",
    );
    assert_temporary(set.send(&update("email", "busy@example.com")).await, "451");
    assert_permanent(
        set.send(&update("email", "not an address")).await,
        "not an e-mail address",
    );

    let wrong = ChannelSet::resolve(
        &[smtp.channel("email", true)],
        secrets(&[("SMTP_PASSWORD", "wrong".to_owned())]),
    )
    .unwrap();
    assert_permanent(wrong.send(&update("email", "a@example.com")).await, "535");

    // STARTTLS is required: a server without it is refused before AUTH or DATA.
    let mut starttls = smtp.channel("email", true);
    if let ChannelSettings::Smtp { security, .. } = &mut starttls.settings {
        *security = SmtpSecurity::Starttls;
    }
    let tls = ChannelSet::resolve(&[starttls], secrets(&[])).unwrap();
    assert_temporary(
        tls.send(&update("email", "a@example.com")).await,
        "STARTTLS",
    );
    assert!(smtp.received().is_empty());

    // Nothing listening: temporary.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut gone = smtp.channel("email", false);
    if let ChannelSettings::Smtp { port: p, .. } = &mut gone.settings {
        *p = port;
    }
    let gone = ChannelSet::resolve(&[gone], secrets(&[])).unwrap();
    assert_temporary(
        gone.send(&update("email", "a@example.com")).await,
        "SMTP 127.0.0.1",
    );
}
