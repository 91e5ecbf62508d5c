//! `govcap-bench`: timing govcap against reference implementations.
//!
//! Each subcommand lives in its own module with a `run(args)` entry point and a one-line
//! summary in [`SUBCOMMANDS`], so new benchmarks (e.g. `evaluate`) plug in without touching
//! the others.

mod audit;
mod classify;
mod crawl;
mod evaluate;
mod prng;

use std::process::ExitCode;

/// A subcommand's entry point: it receives the arguments after its name.
type Run = fn(&[String]) -> Result<(), String>;

/// Name, summary and entry point of every subcommand.
const SUBCOMMANDS: &[(&str, &str, Run)] = &[
    (
        "classify",
        "natural breaks: ours vs jenkspy 0.4.1 (time and identical breaks)",
        classify::run,
    ),
    (
        "audit",
        "rank uncertainty audit and Sobol' estimation vs SALib 1.6",
        audit::run,
    ),
    (
        "evaluate",
        "full evaluation: 337 units, and 3,000 units x 2 years",
        evaluate::run,
    ),
    (
        "crawl",
        "monitor crawl of the loopback fixture vs Scrapy 2.19 (time, pages, RSS)",
        crawl::run,
    ),
];

fn usage() -> String {
    let mut s = String::from("usage: govcap-bench SUBCOMMAND [OPTIONS]   (SUBCOMMAND --help for its options)\n\nsubcommands:\n");
    for (name, summary, _) in SUBCOMMANDS {
        s.push_str(&format!("  {name:<12} {summary}\n"));
    }
    s
}

/// The same allocator and setting as the `govcap` binary, so figures are the product's.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `purge_delay` (option 15 in its stable option enum): return freed memory to the
/// OS after a second rather than 10 ms, so back-to-back evaluations reuse their pages instead
/// of faulting them in again.
fn tune_allocator() {
    // SAFETY: sets a plain integer option, before any other thread exists.
    unsafe { libmimalloc_sys::mi_option_set(15, 1000) }
}

fn main() -> ExitCode {
    tune_allocator();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(name) = args.first() else {
        eprint!("{}", usage());
        return ExitCode::from(2);
    };
    if matches!(name.as_str(), "-h" | "--help" | "help") {
        print!("{}", usage());
        return ExitCode::SUCCESS;
    }
    let Some((_, _, run)) = SUBCOMMANDS.iter().find(|(n, _, _)| n == name) else {
        eprint!("unknown subcommand {name:?}\n\n{}", usage());
        return ExitCode::from(2);
    };
    match run(&args[1..]) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
