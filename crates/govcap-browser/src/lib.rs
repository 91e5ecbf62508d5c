//! Locate and drive headless Chromium through its command line.
//!
//! Why the command line and not the DevTools protocol: govcap needs two things from a browser
//! — print a report page to PDF, and the DOM of a page after its scripts ran — and Chromium's
//! own flags (`--print-to-pdf`, `--dump-dom`, `--virtual-time-budget`) do both. A process per
//! job, with a throw-away profile, a deadline and a kill, keeps the dependency tree at `std`
//! (plus `libc` for the kill) and leaves nothing behind.
//!
//! Every run is bounded: a wall-clock timeout after which the whole process group (Chromium
//! forks helpers) is killed, a cap on what it may write to stdout, and a fresh profile
//! directory removed afterwards. Chromium is optional everywhere in govcap: [`find_chromium`]
//! returns `None` when it is absent and callers say what they skipped.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// Names tried on `PATH`, in order.
pub const NAMES: &[&str] = &[
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
];

/// Environment variable naming the Chromium binary (overrides the `PATH` search).
pub const ENV_BINARY: &str = "GOVCAP_CHROMIUM";
/// Environment variable that forces `--no-sandbox` for a non-root user (containers without
/// user namespaces, where the sandbox cannot start).
pub const ENV_NO_SANDBOX: &str = "GOVCAP_CHROMIUM_NO_SANDBOX";

/// Bytes of stderr kept for error messages (the tail: Chromium's last words matter).
const STDERR_TAIL: usize = 8 * 1024;
/// How often a running browser is polled.
const POLL: Duration = Duration::from_millis(20);

/// Why a browser run gave no result.
#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    #[error("cannot start {binary}: {source}")]
    Start {
        binary: String,
        source: std::io::Error,
    },
    #[error("cannot create a browser profile: {0}")]
    Profile(std::io::Error),
    #[error("no result after {0:.1} s; the browser was stopped")]
    Timeout(f64),
    #[error("the browser wrote more than {0} bytes; it was stopped")]
    TooLarge(usize),
    #[error("exit status {status}: {detail}")]
    Failed { status: String, detail: String },
    #[error("not a URL the browser may open: {0:?}")]
    BadUrl(String),
    #[error("the page navigated {0} times (a reload loop?); the browser was stopped")]
    TooManyNavigations(u32),
    #[error("stopped: {0}")]
    Stopped(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The Chromium binary: `GOVCAP_CHROMIUM` when set, else the first of the usual names on
/// `PATH`. `None` when there is none.
pub fn find_chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(ENV_BINARY) {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in NAMES {
            let c = dir.join(name);
            if c.is_file() {
                return Some(c);
            }
        }
    }
    None
}

/// `file://` URL of an absolute path, percent-encoding everything but unreserved characters
/// and `/`.
pub fn file_url(path: &Path) -> String {
    let mut out = String::from("file://");
    for b in path.to_string_lossy().bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// True when this process runs as root (Chromium refuses to start its sandbox as root).
pub fn is_root() -> bool {
    // Linux: the real uid is the first number of the `Uid:` line.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|r| r.split_whitespace().next().map(|u| u == "0"))
        })
        .unwrap_or(false)
}

/// True when the sandbox must be turned off: as root, or when `GOVCAP_CHROMIUM_NO_SANDBOX`
/// is set to a non-empty value other than `0`.
pub fn needs_no_sandbox() -> bool {
    let forced = std::env::var(ENV_NO_SANDBOX).is_ok_and(|v| !v.is_empty() && v != "0");
    forced || is_root()
}

/// The flags every headless run uses: no GPU, none of the background traffic a fresh profile
/// would start, the given profile, and `--no-sandbox` only when [`needs_no_sandbox`].
pub fn headless_args(profile: &Path) -> Vec<String> {
    let mut args: Vec<String> = vec!["--headless".into()];
    if needs_no_sandbox() {
        args.push("--no-sandbox".into());
    }
    args.extend(
        [
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-dev-shm-usage",
            "--mute-audio",
            "--hide-scrollbars",
        ]
        .map(String::from),
    );
    args.push(format!("--user-data-dir={}", profile.display()));
    args
}

/// A fresh profile directory under the system temp dir, removed on drop.
pub struct Profile(PathBuf);

impl Profile {
    pub fn new(tag: &str) -> std::io::Result<Self> {
        use std::sync::atomic::AtomicU64;
        static SERIAL: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        // Short: Chromium's singleton socket lives below it (see `TMPDIR` in `run`), and a
        // Unix socket path may not pass 107 bytes.
        let dir = std::env::temp_dir().join(format!(
            "gcr-{tag}-{}-{}-{nanos:x}",
            std::process::id(),
            SERIAL.fetch_add(1, Ordering::Relaxed)
        ));
        // `create_dir`, not `create_dir_all`: a directory someone made under this name first is
        // an error, never reused.
        std::fs::create_dir(&dir)?;
        Ok(Profile(dir))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

/// Bytes Chromium appends to TMPDIR for its singleton socket
/// (`/org.chromium.Chromium.XXXXXX/SingletonSocket`).
const SINGLETON_SUFFIX: usize = 46;

/// The longest Unix socket path (`sun_path` holds 108 bytes with the final NUL).
const MAX_SOCKET_PATH: usize = 107;

impl Drop for Profile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Bounds of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wall time; the process group is killed after it.
    pub timeout: Duration,
    /// Most bytes read from stdout; more stops the browser.
    pub max_stdout: usize,
}

/// What a finished run left.
#[derive(Debug, Clone)]
pub struct Output {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    /// The last few KiB of stderr.
    pub stderr_tail: String,
    pub elapsed: Duration,
}

impl Output {
    /// The last `n` lines of stderr joined with ` | ` (for one-line error messages).
    pub fn stderr_lines(&self, n: usize) -> String {
        let tail: Vec<&str> = self
            .stderr_tail
            .lines()
            .filter(|l| !l.trim().is_empty())
            .rev()
            .take(n)
            .collect();
        tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
    }
}

/// How long output readers get to finish once the browser's process group is gone.
const READER_GRACE: Duration = Duration::from_secs(2);

/// Runs `read` on its own thread; its result arrives on the returned channel.
fn reader<T: Send + 'static>(read: impl FnOnce() -> T + Send + 'static) -> mpsc::Receiver<T> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(read());
    });
    rx
}

/// Kills the child's whole process group (it leads one: see [`run`]), then reaps the child.
fn kill_group(child: &mut Child) {
    #[cfg(unix)]
    {
        // SAFETY: killpg only sends a signal; the group id is our own child's pid, which
        // leads the group it was started in (`process_group(0)`).
        unsafe {
            libc::killpg(child.id() as libc::pid_t, libc::SIGKILL);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Reads `r` to its end, keeping at most `cap` bytes; sets `over` when there was more (and
/// keeps draining, so the writer never blocks on a full pipe).
fn read_capped(mut r: impl Read, cap: usize, over: &AtomicBool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        match r.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                let room = cap.saturating_sub(out.len());
                out.extend_from_slice(&chunk[..n.min(room)]);
                if n > room {
                    over.store(true, Ordering::Relaxed);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        }
    }
    out
}

/// Reads `r` to its end, keeping the last [`STDERR_TAIL`] bytes.
fn read_tail(mut r: impl Read) -> String {
    let mut keep: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        match r.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                keep.extend_from_slice(&chunk[..n]);
                if keep.len() > 2 * STDERR_TAIL {
                    keep.drain(..keep.len() - STDERR_TAIL);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        }
    }
    if keep.len() > STDERR_TAIL {
        keep.drain(..keep.len() - STDERR_TAIL);
    }
    String::from_utf8_lossy(&keep).into_owned()
}

/// Runs `binary` with `args` in its own process group, reading stdout (capped) and stderr
/// (tail) while it runs. Past `limits.timeout`, or past `limits.max_stdout` bytes, the group
/// is killed and an error returned. A finished run is returned whatever its exit status;
/// helpers it left behind are killed with the group.
pub fn run(binary: &Path, args: &[String], limits: Limits) -> Result<Output, BrowserError> {
    run_watched(binary, args, limits, &mut || None)
}

/// [`run`], asking `watch` at every poll whether to stop: `Some(error)` kills the group and
/// returns that error.
pub fn run_watched(
    binary: &Path,
    args: &[String],
    limits: Limits,
    watch: &mut dyn FnMut() -> Option<BrowserError>,
) -> Result<Output, BrowserError> {
    let mut cmd = Command::new(binary);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    // Chromium keeps its singleton socket in $TMPDIR, outside the profile, and a killed browser
    // leaves it there: point TMPDIR into the profile so it is removed with it.
    // The socket is `TMPDIR/org.chromium.Chromium.XXXXXX/SingletonSocket` (46 more bytes) and
    // Chromium aborts when that passes the 107 bytes a Unix socket path may have: under a long
    // TMPDIR the redirect is skipped rather than the browser lost.
    if let Some(dir) = args.iter().find_map(|a| a.strip_prefix("--user-data-dir=")) {
        let tmp = Path::new(dir).join("t");
        if tmp.as_os_str().len() + SINGLETON_SUFFIX <= MAX_SOCKET_PATH
            && std::fs::create_dir_all(&tmp).is_ok()
        {
            cmd.env("TMPDIR", tmp);
        }
    }
    let start = Instant::now();
    let mut child = cmd.spawn().map_err(|source| BrowserError::Start {
        binary: binary.display().to_string(),
        source,
    })?;
    let over = Arc::new(AtomicBool::new(false));
    let out_reader = child.stdout.take().map(|o| {
        let over = over.clone();
        let cap = limits.max_stdout;
        reader(move || read_capped(o, cap, &over))
    });
    let err_reader = child.stderr.take().map(|e| reader(move || read_tail(e)));
    let collect = |kill: bool, child: &mut Child| {
        if kill {
            kill_group(child);
        } else {
            // The main process is done: stop any helper still holding the pipes.
            #[cfg(unix)]
            unsafe {
                // SAFETY: as in kill_group; the group outlives its leader while members remain.
                libc::killpg(child.id() as libc::pid_t, libc::SIGKILL);
            }
        }
        // A process that left the group (setsid) could hold the pipes open for ever: wait a
        // little for the readers, then leave them detached.
        let stdout = out_reader
            .and_then(|r| r.recv_timeout(READER_GRACE).ok())
            .unwrap_or_default();
        let stderr = err_reader
            .and_then(|r| r.recv_timeout(READER_GRACE).ok())
            .unwrap_or_default();
        (stdout, stderr)
    };
    let status = loop {
        if over.load(Ordering::Relaxed) {
            collect(true, &mut child);
            return Err(BrowserError::TooLarge(limits.max_stdout));
        }
        if let Some(e) = watch() {
            collect(true, &mut child);
            return Err(e);
        }
        match child.try_wait() {
            Ok(Some(st)) => break st,
            Ok(None) if start.elapsed() > limits.timeout => {
                collect(true, &mut child);
                return Err(BrowserError::Timeout(limits.timeout.as_secs_f64()));
            }
            Ok(None) => std::thread::sleep(POLL),
            Err(e) => {
                collect(true, &mut child);
                return Err(BrowserError::Io(e));
            }
        }
    };
    let (stdout, stderr_tail) = collect(false, &mut child);
    if over.load(Ordering::Relaxed) {
        return Err(BrowserError::TooLarge(limits.max_stdout));
    }
    Ok(Output {
        status,
        stdout,
        stderr_tail,
        elapsed: start.elapsed(),
    })
}

/// A PNG screenshot of `url` as a visitor sees it (`--screenshot`): what an evaluator's
/// "capture now" keeps beside the archived response, so a reviewer sees the page as it was.
/// Only `http` and `https` URLs; bounded by `timeout`; the profile is removed afterwards.
pub fn screenshot(
    chromium: &Path,
    url: &str,
    window: (u32, u32),
    timeout: Duration,
) -> Result<Vec<u8>, BrowserError> {
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://"))
        || url.chars().any(char::is_whitespace)
    {
        return Err(BrowserError::BadUrl(url.to_string()));
    }
    let profile = Profile::new("shot").map_err(BrowserError::Profile)?;
    let png = profile.path().join("shot.png");
    let mut args = headless_args(profile.path());
    args.push(format!("--screenshot={}", png.display()));
    args.push(format!("--window-size={},{}", window.0, window.1));
    args.push("--virtual-time-budget=3000".into());
    args.push(url.to_string());
    let out = run(
        chromium,
        &args,
        Limits {
            timeout,
            max_stdout: 1 << 20,
        },
    )?;
    match std::fs::read(&png) {
        Ok(bytes) if bytes.starts_with(b"\x89PNG") => Ok(bytes),
        _ => Err(BrowserError::Failed {
            status: out.status.to_string(),
            detail: out.stderr_lines(3),
        }),
    }
}

/// How [`dump_dom`] loads a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomOptions {
    /// Wall time for the whole browser run.
    pub timeout: Duration,
    /// The `User-Agent` to send (`None`: Chromium's own, which names it HeadlessChrome).
    pub user_agent: Option<String>,
    /// Virtual time the page's scripts and timers get before the DOM is taken (ms).
    pub virtual_time_budget_ms: u64,
    /// Window size (width, height) in CSS pixels.
    pub window: (u32, u32),
    /// Largest DOM accepted, in bytes.
    pub max_bytes: usize,
    /// Load images (off by default: the DOM does not need them, and the site is spared the
    /// requests).
    pub images: bool,
    /// Most main-frame navigations (the first load, redirects, reloads) before the browser
    /// is stopped; `None`: no limit. A challenge page that reloads itself for ever would
    /// otherwise hit the site many times a second until the timeout (with a virtual-time
    /// budget Chromium never finishes such a page).
    pub max_navigations: Option<u32>,
}

impl Default for DomOptions {
    fn default() -> Self {
        DomOptions {
            timeout: Duration::from_secs(30),
            user_agent: None,
            virtual_time_budget_ms: 5_000,
            window: (1280, 900),
            max_bytes: 8 * 1024 * 1024,
            images: false,
            max_navigations: Some(5),
        }
    }
}

/// The command-line arguments of a [`dump_dom`] run (without the binary).
pub fn dom_args(profile: &Path, url: &str, opts: &DomOptions) -> Vec<String> {
    let mut args = headless_args(profile);
    args.push("--dump-dom".into());
    args.push(format!(
        "--virtual-time-budget={}",
        opts.virtual_time_budget_ms
    ));
    args.push(format!("--window-size={},{}", opts.window.0, opts.window.1));
    if let Some(ua) = &opts.user_agent {
        args.push(format!("--user-agent={ua}"));
    }
    if !opts.images {
        args.push("--blink-settings=imagesEnabled=false".into());
    }
    args.push(url.to_string());
    args
}

/// The page's DOM after its scripts ran (`--dump-dom`), serialised as HTML. Only `http`,
/// `https` and `file` URLs are opened (anything else could be read as a flag). Bounded by
/// `opts.timeout` and `opts.max_bytes`; the profile is removed afterwards.
pub fn dump_dom(chromium: &Path, url: &str, opts: &DomOptions) -> Result<String, BrowserError> {
    let lower = url.to_ascii_lowercase();
    let scheme_ok = ["http://", "https://", "file://"]
        .iter()
        .any(|s| lower.starts_with(s));
    if !scheme_ok || url.chars().any(char::is_whitespace) {
        return Err(BrowserError::BadUrl(url.to_string()));
    }
    let profile = Profile::new("dom").map_err(BrowserError::Profile)?;
    let mut args = dom_args(profile.path(), url, opts);
    let limits = Limits {
        timeout: opts.timeout,
        max_stdout: opts.max_bytes,
    };
    let out = match opts.max_navigations {
        None => run(chromium, &args, limits)?,
        Some(max) => {
            // Chromium's NetLog, written as it goes, logs each main-frame request once.
            let log = profile.path().join("netlog.json");
            let at = args.len() - 1;
            args.insert(at, format!("--log-net-log={}", log.display()));
            let mut counter = NavigationCounter::new(log);
            let mut last = Instant::now();
            run_watched(chromium, &args, limits, &mut || {
                if last.elapsed() < Duration::from_millis(100) {
                    return None;
                }
                last = Instant::now();
                let n = counter.update();
                (n > max).then_some(BrowserError::TooManyNavigations(n))
            })?
        }
    };
    drop(profile);
    let dom = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() || dom.trim().is_empty() {
        return Err(BrowserError::Failed {
            status: out.status.to_string(),
            detail: format!("{} bytes of DOM; {}", out.stdout.len(), out.stderr_lines(3)),
        });
    }
    Ok(dom)
}

/// Counts main-frame requests in a NetLog file as it grows, reading only the new bytes.
struct NavigationCounter {
    path: PathBuf,
    offset: u64,
    /// The end of the previous read, so a marker split across reads is still seen.
    tail: Vec<u8>,
    count: u32,
}

/// How a NetLog marks a top-level navigation request (URL_REQUEST_START_JOB params).
const MAIN_FRAME_MARKER: &[u8] = b"\"request_type\":\"main frame\"";

impl NavigationCounter {
    fn new(path: PathBuf) -> Self {
        NavigationCounter {
            path,
            offset: 0,
            tail: Vec::new(),
            count: 0,
        }
    }

    fn update(&mut self) -> u32 {
        use std::io::{Seek, SeekFrom};
        let Ok(mut f) = std::fs::File::open(&self.path) else {
            return self.count;
        };
        if f.seek(SeekFrom::Start(self.offset)).is_err() {
            return self.count;
        }
        let mut fresh = Vec::new();
        if f.take(16 << 20).read_to_end(&mut fresh).is_err() || fresh.is_empty() {
            return self.count;
        }
        self.offset += fresh.len() as u64;
        let mut buf = std::mem::take(&mut self.tail);
        buf.extend_from_slice(&fresh);
        self.count += count_marker(&buf, MAIN_FRAME_MARKER) as u32;
        // Keep less than one marker, so no occurrence is counted twice.
        let keep = MAIN_FRAME_MARKER.len() - 1;
        self.tail = buf[buf.len().saturating_sub(keep)..].to_vec();
        self.count
    }
}

fn count_marker(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_urls_are_percent_encoded() {
        assert_eq!(
            file_url(Path::new("/tmp/my report/索引.html")),
            "file:///tmp/my%20report/%E7%B4%A2%E5%BC%95.html"
        );
    }

    #[test]
    fn dom_args_carry_the_options_and_end_with_the_url() {
        let opts = DomOptions {
            user_agent: Some("govcap-monitor/0.1 (+x)".into()),
            virtual_time_budget_ms: 1234,
            window: (390, 844),
            ..DomOptions::default()
        };
        let a = dom_args(Path::new("/tmp/p"), "http://127.0.0.1:9/x", &opts);
        assert_eq!(a[0], "--headless");
        for want in [
            "--dump-dom",
            "--virtual-time-budget=1234",
            "--window-size=390,844",
            "--user-agent=govcap-monitor/0.1 (+x)",
            "--user-data-dir=/tmp/p",
            "--disable-gpu",
            "--blink-settings=imagesEnabled=false",
        ] {
            assert!(a.iter().any(|x| x == want), "{want} missing from {a:?}");
        }
        assert_eq!(a.last().unwrap(), "http://127.0.0.1:9/x");
        assert_eq!(
            a.iter().any(|x| x == "--no-sandbox"),
            needs_no_sandbox(),
            "--no-sandbox exactly when root (or forced)"
        );
    }

    #[test]
    fn urls_that_could_be_flags_are_refused() {
        let bin = Path::new("/nonexistent/chromium");
        for bad in [
            "--remote-debugging-port=9222",
            "javascript:alert(1)",
            "http://a b/",
        ] {
            assert!(matches!(
                dump_dom(bin, bad, &DomOptions::default()),
                Err(BrowserError::BadUrl(_))
            ));
        }
        assert!(matches!(
            dump_dom(bin, "http://127.0.0.1/", &DomOptions::default()),
            Err(BrowserError::Start { .. })
        ));
    }

    #[test]
    fn navigations_are_counted_across_reads() {
        let p = std::env::temp_dir().join(format!("govcap-netlog-{}.json", std::process::id()));
        let ev = "{\"params\":{\"method\":\"GET\",\"request_type\":\"main frame\",\"url\":\"http://a/\"}},\n";
        std::fs::write(&p, format!("{{\"events\":[\n{ev}{}", &ev[..30])).unwrap();
        let mut c = NavigationCounter::new(p.clone());
        assert_eq!(c.update(), 1);
        // The rest of the split event, and one more.
        let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        use std::io::Write;
        write!(f, "{}{ev}", &ev[30..]).unwrap();
        assert_eq!(c.update(), 3);
        assert_eq!(c.update(), 3, "nothing new, nothing counted");
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn profiles_are_distinct_and_removed() {
        let a = Profile::new("t").unwrap();
        let b = Profile::new("t").unwrap();
        assert_ne!(a.path(), b.path());
        let p = a.path().to_path_buf();
        std::fs::write(p.join("x"), b"1").unwrap();
        drop(a);
        assert!(!p.exists());
    }
}
