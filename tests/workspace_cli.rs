//! `govcap users …`, `govcap log verify` and `govcap serve` as a user runs them.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use common::{govcap, text, tmp};

fn with_stdin(args: &[&str], dir: &std::path::Path, input: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_govcap"))
        .args(args)
        .current_dir(dir)
        .env_remove("GOVCAP_DB")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn users_and_the_audit_chain_from_the_command_line() {
    let d = tmp("workspace-cli");
    let o = with_stdin(
        &[
            "users",
            "add",
            "alice",
            "--role",
            "admin",
            "--password-stdin",
            "--db",
            "w.db",
        ],
        &d,
        "a-very-long-password\n",
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("added alice (admin)"));
    // Refusals are exit code 2 with the reason, and change nothing.
    let o = with_stdin(
        &[
            "users",
            "add",
            "alice",
            "--role",
            "lead",
            "--password-stdin",
            "--db",
            "w.db",
        ],
        &d,
        "another-long-password\n",
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("already exists"));
    let o = with_stdin(
        &[
            "users",
            "add",
            "bob",
            "--role",
            "root",
            "--password-stdin",
            "--db",
            "w.db",
        ],
        &d,
        "another-long-password\n",
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("unknown role \"root\""), "{}", text(&o));
    let o = with_stdin(
        &[
            "users",
            "add",
            "bob",
            "--role",
            "lead",
            "--password-stdin",
            "--db",
            "w.db",
        ],
        &d,
        "short\n",
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("too short"));
    let o = with_stdin(
        &[
            "users",
            "add",
            "bj",
            "--role",
            "unit",
            "--password-stdin",
            "--db",
            "w.db",
        ],
        &d,
        "another-long-password\n",
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("needs the unit codes"));
    let o = with_stdin(
        &[
            "users",
            "add",
            "bj",
            "--role",
            "unit",
            "--units",
            "110000,120000",
            "--password-stdin",
            "--db",
            "w.db",
        ],
        &d,
        "another-long-password\n",
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = govcap(&["users", "disable", "bj", "--db", "w.db"], &d);
    assert!(o.status.success(), "{}", text(&o));
    let o = with_stdin(
        &[
            "users",
            "passwd",
            "alice",
            "--password-stdin",
            "--db",
            "w.db",
        ],
        &d,
        "a-new-long-password\n",
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = govcap(&["users", "list", "--db", "w.db"], &d);
    let list = text(&o);
    assert!(
        list.contains("alice")
            && list.contains("bj")
            && list.contains("disabled")
            && list.contains("110000,120000"),
        "{list}"
    );
    assert!(!list.contains("argon2"), "no hash is ever shown");
    let o = govcap(&["users", "disable", "nobody", "--db", "w.db"], &d);
    assert_eq!(o.status.code(), Some(2));

    // Every change is in the chain, and the chain is intact.
    let o = govcap(&["log", "verify", "--db", "w.db"], &d);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("audit log intact: 4 entries"),
        "{}",
        text(&o)
    );

    // An intruder with database access edits an entry: verify says so and exits 1.
    let mut store = govcap_store::open(d.join("w.db").to_str().unwrap()).unwrap();
    govcap_store::transact(store.as_mut(), true, |tx| {
        tx.exec("DROP TRIGGER audit_log_no_update", &[])?;
        tx.exec(
            "UPDATE audit_log SET after_json = '{\"role\":\"admin\"}' WHERE seq = 2",
            &[],
        )?;
        Ok(())
    })
    .unwrap();
    drop(store);
    let o = govcap(&["log", "verify", "--db", "w.db"], &d);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("entry 2 was changed after it was written"),
        "{}",
        text(&o)
    );
}

/// The server as a process: starts on a free port, answers, and stops cleanly on SIGTERM.
#[test]
fn serve_starts_answers_and_stops_cleanly() {
    let d = tmp("workspace-serve");
    let o = with_stdin(
        &[
            "users",
            "add",
            "lead",
            "--role",
            "lead",
            "--password-stdin",
            "--db",
            "s.db",
        ],
        &d,
        "a-very-long-password\n",
    );
    assert!(o.status.success(), "{}", text(&o));
    let mut child = Command::new(env!("CARGO_BIN_EXE_govcap"))
        .args(["serve", "--db", "s.db", "--listen", "127.0.0.1:0"])
        .current_dir(&d)
        .env_remove("GOVCAP_DB")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    let addr = loop {
        line.clear();
        assert!(
            err.read_line(&mut line).unwrap() > 0,
            "serve exited before listening"
        );
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.split('/').next().unwrap().to_string();
        }
    };
    let get = |path: &str| {
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut out = String::new();
        std::io::Read::read_to_string(&mut s, &mut out).unwrap();
        out
    };
    let r = get("/readyz");
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    assert!(r.contains("ready (SQLite)"));
    let r = get("/");
    assert!(
        r.starts_with("HTTP/1.1 200") && r.contains("content-security-policy"),
        "{r}"
    );
    // SIGTERM: graceful shutdown, exit status 0.
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let status = child.wait().unwrap();
    assert!(status.success(), "serve stopped with {status}");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut err, &mut rest).unwrap();
    assert!(
        rest.contains("\"request\"") || rest.contains("request"),
        "structured request logs: {rest}"
    );
    assert!(rest.contains("stopped"), "{rest}");
}
