//! Headless Chromium for the web UI's browser tests: a `chromedriver` child
//! process, WebDriver sessions (each its own profile, so its own cookies:
//! one signed-in person) in a light or dark theme at desktop or phone width,
//! polling helpers, and full-page screenshots under `target/screenshots/`.
//!
//! Uses Debian's `chromium` and `chromium-driver` (scripts/test installs them).

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::Engine;
use fantoccini::cookies::Cookie;
use fantoccini::wd::{Capabilities, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value as Json};

const INSTALL_HINT: &str =
    "install chromium-driver (apt-get install chromium chromium-driver) or run scripts/test";

/// How often the `wait_*` helpers look again.
const POLL: Duration = Duration::from_millis(50);

/// The colour scheme the emulated system prefers: what
/// `@media (prefers-color-scheme: dark)` sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Theme {
    Light,
    Dark,
}

/// The size of the page's viewport.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Viewport {
    /// 1280x800 CSS pixels, pixel ratio 1.
    Desktop,
    /// A 375x812 phone at pixel ratio 2, with touch (`window.innerWidth == 375`
    /// on pages with `<meta name="viewport" content="width=device-width">`).
    Phone,
}

impl Theme {
    fn as_str(self) -> &'static str {
        match self {
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }
}

impl Viewport {
    fn as_str(self) -> &'static str {
        match self {
            Viewport::Desktop => "desktop",
            Viewport::Phone => "phone",
        }
    }
}

/// A running `chromedriver`. Dropping it kills chromedriver and every
/// browser it started, and removes their profiles.
pub struct Browser {
    driver: Child,
    url: String,
    profiles: tempfile::TempDir,
    sessions: AtomicUsize,
}

impl Browser {
    /// Starts `chromedriver` on a free port and waits until it listens.
    pub fn start() -> Browser {
        let profiles = tempfile::tempdir().unwrap();
        let mut driver = match Command::new("chromedriver")
            .args(["--port=0", "--log-level=SEVERE"])
            // Chromium's scratch files (shared memory under
            // --disable-dev-shm-usage) go with the profiles, removed on drop.
            .env("TMPDIR", profiles.path())
            // Its own process group, so that drop can end the browsers with it.
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                panic!("chromedriver is not installed: {INSTALL_HINT}")
            }
            Err(e) => panic!("cannot start chromedriver ({e}): {INSTALL_HINT}"),
        };
        let stdout = driver.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // Keep draining after the port line so chromedriver never blocks.
                let _ = tx.send(line);
            }
        });
        let mut browser = Browser {
            driver,
            url: String::new(),
            profiles,
            sessions: AtomicUsize::new(0),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            // On timeout `browser` drops, which kills chromedriver.
            let line = rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|_| {
                    panic!("chromedriver did not start within 30 s: {INSTALL_HINT}")
                });
            // "ChromeDriver was started successfully on port 38393."
            if let Some(rest) = line.split(" started successfully on port ").nth(1) {
                let port = rest.trim_end_matches('.');
                browser.url = format!("http://127.0.0.1:{port}");
                return browser;
            }
        }
    }

    /// Opens a new headless Chromium with a fresh profile.
    pub async fn session(&self, theme: Theme, viewport: Viewport) -> Session {
        let n = self.sessions.fetch_add(1, Ordering::Relaxed);
        let profile = self.profiles.path().join(format!("profile-{n}"));
        let scheme = match theme {
            Theme::Dark => 0,
            Theme::Light => 1,
        };
        let mut args = vec![
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-gpu".to_owned(),
            "--hide-scrollbars".to_owned(),
            "--no-first-run".to_owned(),
            "--lang=en-US".to_owned(),
            format!("--user-data-dir={}", profile.display()),
            // No network beyond this machine. Chromedriver opens the new tab
            // page, which for Debian's default search engine loads a page from
            // the internet; unreachable, it held up the first `goto` by 5 s.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1, EXCLUDE [::1]".to_owned(),
            // What prefers-color-scheme sees: 0 dark, 1 light.
            format!("--blink-settings=preferredColorScheme={scheme}"),
        ];
        let (width, height, ratio, mobile) = match viewport {
            Viewport::Desktop => (1280, 800, 1, false),
            Viewport::Phone => (375, 812, 2, true),
        };
        args.push(format!("--window-size={width},{height}"));
        let mut options = json!({
            "args": args,
            // Exact viewport sizes: a headless window's viewport is smaller
            // than the window by the (invisible) browser frame.
            "mobileEmulation": {"deviceMetrics": {
                "width": width, "height": height, "pixelRatio": ratio,
                "mobile": mobile, "touch": mobile,
            }},
        });
        // Debian's /usr/bin/chromium is a wrapper script that adds flags
        // (extensions, GPU rasterization) and warns on stderr; use the browser itself.
        if Path::new("/usr/lib/chromium/chromium").exists() {
            options["binary"] = json!("/usr/lib/chromium/chromium");
        }
        let mut caps = Capabilities::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert("goog:chromeOptions".into(), options);
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("chromium did not start ({e}): {INSTALL_HINT}"));
        Session {
            client,
            theme,
            viewport,
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The whole group: chromedriver and the browsers it started.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.driver.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// One browser window with its own cookies. Every helper panics with what it
/// was looking for, so a failing test says where it stopped.
pub struct Session {
    client: Client,
    pub theme: Theme,
    pub viewport: Viewport,
}

impl Session {
    /// The WebDriver client, for what the helpers do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// `"phone-dark"`, `"desktop-light"`: a suffix for screenshot names.
    pub fn label(&self) -> String {
        format!("{}-{}", self.viewport.as_str(), self.theme.as_str())
    }

    /// Opens `url` and waits for it to load.
    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// The address of the current page.
    pub async fn url(&self) -> String {
        self.client.current_url().await.unwrap().to_string()
    }

    /// Replaces the value of the input matching `css` with `text`, typed as keys.
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field
            .clear()
            .await
            .unwrap_or_else(|e| panic!("clear {css}: {e}"));
        field
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    /// Clicks the element matching `css`. Live pages swap regions in place,
    /// so an element found a moment ago may be replaced before the click
    /// lands; then it finds the new one and clicks again.
    pub async fn click(&self, css: &str) {
        let mut attempts = 0;
        loop {
            match self.find(css).await.click().await {
                Ok(()) => return,
                Err(e) if attempts < 5 && e.to_string().contains("stale element") => {
                    attempts += 1;
                }
                Err(e) => panic!("click {css}: {e}"),
            }
        }
    }

    /// The visible text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        self.find(css)
            .await
            .text()
            .await
            .unwrap_or_else(|e| panic!("text of {css}: {e}"))
    }

    /// Whether an element matches `css` now.
    pub async fn exists(&self, css: &str) -> bool {
        let found = self
            .client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("find {css}: {e}"));
        !found.is_empty()
    }

    /// Waits until an element matches `css`.
    pub async fn wait_for(&self, css: &str, timeout: Duration) {
        self.wait_js(
            "return document.querySelector(arguments[0]) !== null",
            vec![json!(css)],
            &format!("an element matching {css}"),
            timeout,
        )
        .await;
    }

    /// Waits until the text of the first element matching `css` contains
    /// `needle`, and returns that text.
    pub async fn wait_for_text(&self, css: &str, needle: &str, timeout: Duration) -> String {
        let found = self
            .wait_js(
                "const e = document.querySelector(arguments[0]);\
                 return e !== null && e.innerText.includes(arguments[1]) ? e.innerText : null",
                vec![json!(css), json!(needle)],
                &format!("{needle:?} in {css}"),
                timeout,
            )
            .await;
        found.as_str().unwrap_or_default().to_owned()
    }

    /// Waits until the JavaScript expression `condition` is truthy, and returns its value.
    pub async fn wait_until(&self, condition: &str, timeout: Duration) -> Json {
        self.wait_js(&format!("return ({condition})"), vec![], condition, timeout)
            .await
    }

    /// Runs the body of a JavaScript function and returns what it returns
    /// (`"return window.innerWidth"`).
    pub async fn execute(&self, js: &str) -> Json {
        self.client
            .execute(js, vec![])
            .await
            .unwrap_or_else(|e| panic!("execute {js}: {e}"))
    }

    /// The cookies the browser holds for the current page.
    pub async fn cookies(&self) -> Vec<Cookie<'static>> {
        self.client.get_all_cookies().await.unwrap()
    }

    /// The whole page as a PNG: its full scroll height, not only the viewport,
    /// at the viewport's pixel ratio.
    pub async fn screenshot_png(&self) -> Vec<u8> {
        let metrics = self.cdp("Page.getLayoutMetrics", json!({})).await;
        let size = &metrics["cssContentSize"];
        let shot = self
            .cdp(
                "Page.captureScreenshot",
                json!({
                    "format": "png",
                    "captureBeyondViewport": true,
                    "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
                }),
            )
            .await;
        let data = shot["data"].as_str().expect("screenshot data");
        base64::engine::general_purpose::STANDARD
            .decode(data)
            .expect("screenshot is base64")
    }

    /// Saves the whole page as `target/screenshots/{name}.png` and returns its path.
    pub async fn screenshot_full_page(&self, name: &str) -> PathBuf {
        let png = self.screenshot_png().await;
        let dir = screenshots_dir();
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }

    /// Ends the browser. Dropping the session or the `Browser` does too.
    pub async fn close(self) {
        let _ = self.client.close().await;
    }

    async fn find(&self, css: &str) -> fantoccini::elements::Element {
        match self.client.find(Locator::Css(css)).await {
            Ok(element) => element,
            Err(e) => panic!("no element matches {css} on {}: {e}", self.url().await),
        }
    }

    /// Polls `script` (called with `args`) until it returns a truthy value.
    async fn wait_js(&self, script: &str, args: Vec<Json>, what: &str, timeout: Duration) -> Json {
        let deadline = Instant::now() + timeout;
        loop {
            let value = self
                .client
                .execute(script, args.clone())
                .await
                .unwrap_or_else(|e| panic!("while waiting for {what}: {e}"));
            if truthy(&value) {
                return value;
            }
            if Instant::now() >= deadline {
                let page = self
                    .execute("return document.body ? document.body.innerText : ''")
                    .await;
                let page: String = page
                    .as_str()
                    .unwrap_or_default()
                    .chars()
                    .take(2000)
                    .collect();
                panic!(
                    "waited {timeout:?} for {what} on {}; the page says:\n{page}",
                    self.url().await
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Runs a Chrome DevTools Protocol command through chromedriver.
    async fn cdp(&self, cmd: &'static str, params: Json) -> Json {
        self.client
            .issue_cmd(Cdp { cmd, params })
            .await
            .unwrap_or_else(|e| panic!("{cmd}: {e}"))
    }
}

fn truthy(value: &Json) -> bool {
    match value {
        Json::Null => false,
        Json::Bool(b) => *b,
        Json::Number(n) => n.as_f64() != Some(0.0),
        Json::String(s) => !s.is_empty(),
        Json::Array(_) | Json::Object(_) => true,
    }
}

/// `<target dir>/screenshots`: `CARGO_TARGET_DIR` if set, else the workspace's `target`.
fn screenshots_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .unwrap();
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => workspace.join(dir),
        None => workspace.join("target"),
    };
    target.join("screenshots")
}

/// chromedriver's `POST /session/{id}/goog/cdp/execute`.
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: Json,
}

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({"cmd": self.cmd, "params": self.params});
        (http::Method::POST, Some(body.to_string()))
    }
}

/// The harness against a page that exists today: the acknowledge link's
/// error page, in a light desktop and a dark phone session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_harness_works() {
    let dir = tempfile::tempdir().unwrap();
    let server =
        crate::server::Server::start(&warroom_store::testing::sqlite_url(dir.path()), dir.path());
    let browser = Browser::start();
    let (desktop, phone) = tokio::join!(
        browser.session(Theme::Light, Viewport::Desktop),
        browser.session(Theme::Dark, Viewport::Phone),
    );
    let wait = Duration::from_secs(10);
    let page = format!("{}/ack/not-a-real-token", server.url);
    for session in [&desktop, &phone] {
        session.goto(&page).await;
        let title = session
            .wait_for_text("h1", "Invalid acknowledge link", wait)
            .await;
        assert_eq!(title, "Invalid acknowledge link");
        assert!(session.exists("main p").await);
        assert!(!session.exists("form").await);
    }

    let width = "return window.innerWidth";
    assert_eq!(desktop.execute(width).await, json!(1280));
    assert_eq!(phone.execute(width).await, json!(375));
    let dark = "return matchMedia('(prefers-color-scheme: dark)').matches";
    assert_eq!(desktop.execute(dark).await, json!(false));
    assert_eq!(phone.execute(dark).await, json!(true));

    // Full-page screenshots at the pixel ratio: 1 on the desktop, 2 on the phone.
    for (session, ratio) in [(&desktop, 1), (&phone, 2)] {
        let name = format!("harness-{}", session.label());
        let shot = session.screenshot_full_page(&name).await;
        // Under the target directory, wherever CARGO_TARGET_DIR puts it.
        assert!(
            shot.ends_with(format!("screenshots/{name}.png")),
            "{}",
            shot.display()
        );
        let png = std::fs::read(&shot).unwrap();
        assert_eq!(png_size(&png), page_size(session, ratio).await);
    }

    // Separate profiles: a cookie one session sets, the other does not see.
    desktop
        .execute("document.cookie = 'who=desktop; path=/'")
        .await;
    assert!(desktop.cookies().await.iter().any(|c| c.name() == "who"));
    assert!(phone.cookies().await.is_empty());

    // Full page: a page taller than the viewport is captured whole.
    phone
        .execute("document.body.style.minHeight = '3000px'")
        .await;
    let (_, height) = page_size(&phone, 2).await;
    assert!(height > 6000);
    assert_eq!(png_size(&phone.screenshot_png().await), (750, height));

    // The theme reaches CSS, and typing, clicking and waiting for the page
    // to change work. (No `#` in a data: URL: it would start the fragment.)
    let form = "data:text/html,<title>Form</title>\
                <meta name=viewport content='width=device-width'>\
                <style>body{background:rgb(255,255,255)}\
                @media (prefers-color-scheme: dark){body{background:rgb(0,0,0)}}</style>\
                <input id=name value=someone><button onclick=\"setTimeout(() => \
                document.body.insertAdjacentHTML('beforeend', '<p id=greeting>Hello ' + \
                document.getElementById('name').value + '</p>'), 300)\">Go</button>";
    let background = "return getComputedStyle(document.body).backgroundColor";
    for (session, color) in [(&desktop, "rgb(255, 255, 255)"), (&phone, "rgb(0, 0, 0)")] {
        session.goto(form).await;
        assert_eq!(session.execute(background).await, json!(color));
    }
    assert_eq!(desktop.client().title().await.unwrap(), "Form");
    desktop.fill("input", "Ada").await;
    desktop.click("button").await;
    assert!(
        !desktop.exists("p").await,
        "the greeting comes after 300 ms"
    );
    desktop.wait_for("p", wait).await;
    assert_eq!(desktop.wait_for_text("p", "Ada", wait).await, "Hello Ada");
    assert_eq!(desktop.text("p").await, "Hello Ada");
    let greetings = desktop
        .wait_until("document.querySelectorAll('p').length", wait)
        .await;
    assert_eq!(greetings, json!(1));

    desktop.close().await;
    phone.close().await;
}

/// The document's scroll width and height in device pixels.
async fn page_size(session: &Session, ratio: u32) -> (u32, u32) {
    let size = session
        .execute("const e = document.documentElement; return [e.scrollWidth, e.scrollHeight]")
        .await;
    let px = |i: usize| size[i].as_u64().unwrap() as u32 * ratio;
    (px(0), px(1))
}

/// The width and height in a PNG's IHDR chunk.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let word = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    (word(16), word(20))
}
