//! A `warroom serve` child process and helpers to talk to it.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_warroom");

/// A running server. Dropping it kills the process.
pub struct Server {
    child: Child,
    pub url: String,
    /// The admin token printed on first start, if this start printed one.
    pub first_token: Option<String>,
    /// The first admin account's password printed on first start, if this start printed one.
    pub first_password: Option<String>,
    /// What the server printed before it listened (the first-start banner).
    pub banner: Vec<String>,
}

impl Server {
    /// Starts `warroom serve` on a free port in `dir` and waits until it listens.
    pub fn start(database_url: &str, dir: &Path) -> Server {
        Server::start_with(database_url, dir, &[])
    }

    /// Like `start`, with more arguments for `serve` (`--playbook F`, `--clock-offset 6m`).
    pub fn start_with(database_url: &str, dir: &Path, extra: &[&str]) -> Server {
        Server::start_with_env(database_url, dir, extra, &[])
    }

    /// Like `start_with`, on a fixed address, so a restarted server is
    /// where browsers expect it.
    pub fn start_on(database_url: &str, dir: &Path, listen: &str, extra: &[&str]) -> Server {
        Server::spawn(database_url, dir, listen, extra, &[])
    }

    /// Like `start_with`, with environment variables (channel secrets).
    pub fn start_with_env(
        database_url: &str,
        dir: &Path,
        extra: &[&str],
        envs: &[(&str, &str)],
    ) -> Server {
        Server::spawn(database_url, dir, "127.0.0.1:0", extra, envs)
    }

    /// The `warroom serve` command a start runs.
    fn command(
        database_url: &str,
        dir: &Path,
        listen: &str,
        extra: &[&str],
        envs: &[(&str, &str)],
    ) -> Command {
        // PostgreSQL needs a secret file shared by every start; SQLite's
        // default is `<database>.secret`, made on first start.
        let shared_secret = dir.join("server.secret");
        let mut secret_env = Vec::new();
        if database_url.starts_with("postgres") {
            if !shared_secret.exists() {
                std::fs::write(&shared_secret, warroom_engine::ServerSecrets::generate()).unwrap();
                #[cfg(unix)]
                std::fs::set_permissions(
                    &shared_secret,
                    std::os::unix::fs::PermissionsExt::from_mode(0o600),
                )
                .unwrap();
            }
            secret_env.push(("WARROOM_SECRET_FILE", shared_secret.into_os_string()));
        }
        let mut command = Command::new(BIN);
        command
            .args(["serve", "--listen", listen])
            .args(extra)
            .env_remove("WARROOM_SECRET_FILE")
            .envs(secret_env)
            .envs(envs.iter().copied())
            .env("WARROOM_DATABASE_URL", database_url)
            .env_remove("WARROOM_PLAYBOOK")
            .env("WARROOM_LOG", "warn")
            // Load tests here are about durability; throttling is tested in warroom-web.
            .env("WARROOM_INGEST_RATE_LIMIT", "0")
            .current_dir(dir);
        command
    }

    /// Runs `warroom serve` expecting it to refuse to start; its stderr.
    /// Panics if it is still running after a minute.
    pub fn refused(database_url: &str, dir: &Path, extra: &[&str]) -> String {
        let mut child = Server::command(database_url, dir, "127.0.0.1:0", extra, &[])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn warroom serve");
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while child.try_wait().unwrap().is_none() {
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                panic!("warroom serve did not exit within a minute");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = child.wait_with_output().unwrap();
        assert!(!out.status.success(), "warroom serve exited 0");
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    fn spawn(
        database_url: &str,
        dir: &Path,
        listen: &str,
        extra: &[&str],
        envs: &[(&str, &str)],
    ) -> Server {
        let mut child = Server::command(database_url, dir, listen, extra, envs)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn warroom serve");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    // Keep draining so the server never blocks on a full pipe.
                    continue;
                }
            }
        });
        let mut server = Server {
            child,
            url: String::new(),
            first_token: None,
            first_password: None,
            banner: Vec::new(),
        };
        loop {
            // On timeout `server` drops, which kills and reaps the process.
            let line = rx
                .recv_timeout(Duration::from_secs(60))
                .expect("the server should print its address within a minute");
            if let Some(token) = line.trim().strip_prefix("export WARROOM_TOKEN=") {
                server.first_token = Some(token.to_owned());
            }
            if let Some(password) = line.trim().strip_prefix("WARROOM_ADMIN_PASSWORD=") {
                server.first_password = Some(password.to_owned());
            }
            if let Some(rest) = line.strip_prefix("warroom listening on ") {
                server.url = rest.split_whitespace().next().unwrap().to_owned();
                return server;
            }
            server.banner.push(line);
        }
    }

    /// SIGTERM, then waits up to `limit` for the exit (killing it past
    /// that); its exit status.
    pub fn terminate(mut self, limit: Duration) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success(), "kill -TERM {pid}");
        let deadline = std::time::Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the server did not exit within {limit:?} of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// `kill -9`: no shutdown hooks, no flushing.
    pub fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the CLI with `args` against `server` and returns (success, stdout, stderr).
pub fn cli(server: &Server, token: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .env("WARROOM_SERVER", &server.url)
        .env("WARROOM_TOKEN", token)
        .output()
        .expect("run warroom");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Creates an integration of `kind` for the service `api`; its key.
pub async fn integration_key(server: &Server, token: &str, name: &str, kind: &str) -> String {
    let created: serde_json::Value = http()
        .post(format!("{}/api/v1/integrations", server.url))
        .bearer_auth(token)
        .json(&serde_json::json!({"service": "api", "name": name, "kind": kind}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    created["key"]
        .as_str()
        .expect("an integration key")
        .to_owned()
}
