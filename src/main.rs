//! `govcap`: the command line. Thin: it parses arguments, calls the core and the adapters,
//! prints, and maps errors to exit codes (2 = the user's input is wrong, 1 = anything else).

mod alerts_cmd;
mod audit_cmd;
mod audit_out;
mod classify_cmd;
mod clock;
mod demo;
mod evaluation;
mod framework_cmd;
mod import_cmd;
mod monitor_cmd;
mod report_cmd;
mod run_folder;
mod runs;
mod serve_cmd;
mod summary;
mod synth_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// An error in what the user gave us (a file, a flag); exits with code 2.
#[derive(Debug)]
pub struct UserError(pub String);

impl std::fmt::Display for UserError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UserError {}

/// Shorthand for returning a [`UserError`].
pub fn user_error<T>(msg: impl Into<String>) -> anyhow::Result<T> {
    Err(UserError(msg.into()).into())
}

#[derive(Parser)]
#[command(
    name = "govcap",
    version,
    about = "Evaluate the internet service capability of local governments (政府互联网服务能力评价)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Write CSV files without the UTF-8 byte-order mark (it is there by default so that Excel
    /// on Chinese Windows shows the Chinese text correctly).
    #[arg(long, global = true)]
    no_bom: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Run the whole job on the built-in 337 units with synthetic 2020 and 2021 data.
    Demo(demo::DemoArgs),
    /// Score one year of observations: results, rankings, tiers, analyses, Excel.
    Evaluate(evaluation::EvaluateArgs),
    /// Check or show an indicator framework file.
    #[command(subcommand)]
    Framework(framework_cmd::FrameworkCommand),
    /// Classify any numeric column into classes (tiers).
    Classify(classify_cmd::ClassifyArgs),
    /// Validate an observations file and store it in the database (all rows or none).
    Import(import_cmd::ImportArgs),
    /// List, show, compare and re-run recorded runs.
    #[command(subcommand)]
    Runs(runs::RunsCommand),
    /// Generate a larger synthetic data set (units and observations) for benchmarks.
    Synth(synth_cmd::SynthArgs),
    /// Write the blue-book report (HTML, optional PDF) of a recorded run.
    Report(report_cmd::ReportArgs),
    /// Rank uncertainty and sensitivity analysis (Monte Carlo over modelling choices).
    Audit(audit_cmd::AuditArgs),
    /// Monitor government portals: crawl politely, archive evidence (WARC), run named checks.
    #[command(subcommand)]
    Monitor(monitor_cmd::MonitorCommand),
    /// Look up archived evidence (WARC records) by id.
    #[command(subcommand)]
    Evidence(monitor_cmd::EvidenceCommand),
    /// List the early-warning alerts recorded by `monitor run --db`.
    Alerts(alerts_cmd::AlertsArgs),
    /// The team workspace: dashboard, staff views and API over the run database.
    Serve(serve_cmd::ServeArgs),
    /// Workspace accounts: add, list, disable, enable, passwd.
    #[command(subcommand)]
    Users(serve_cmd::UsersCommand),
    /// The workspace's audit trail.
    #[command(subcommand)]
    Log(serve_cmd::LogCommand),
}

/// Language of headers and console text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum LangArg {
    #[default]
    Zh,
    En,
}

impl From<LangArg> for govcap_io::export::Lang {
    fn from(l: LangArg) -> Self {
        match l {
            LangArg::Zh => govcap_io::export::Lang::Zh,
            LangArg::En => govcap_io::export::Lang::En,
        }
    }
}

/// Where runs are recorded.
#[derive(Args, Debug, Clone)]
pub struct DbArgs {
    /// SQLite file, or a postgres:// URL.
    #[arg(long, default_value = "govcap.db", env = "GOVCAP_DB")]
    pub db: String,
}

/// Tier classification options shared by `evaluate` and `demo`.
#[derive(Args, Debug, Clone)]
pub struct TierArgs {
    /// How to cut tiers.
    #[arg(long, value_enum, default_value_t = TierMethodArg::NaturalBreaks)]
    pub tier_method: TierMethodArg,
    /// Number of tiers.
    #[arg(long, default_value_t = 4)]
    pub classes: usize,
    /// Cut lines for `--tier-method thresholds`, lowest first, e.g. 55,70,83.59.
    #[arg(long, value_delimiter = ',')]
    pub cuts: Vec<f64>,
    /// Tier names of which edition.
    #[arg(long, value_enum, default_value_t = TierNamesArg::E2021)]
    pub tier_names: TierNamesArg,
    /// How to split tiers A–C into sub-levels.
    #[arg(long, value_enum, default_value_t = SublevelArg::EqualWidth)]
    pub sublevels: SublevelArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TierMethodArg {
    Difference,
    NaturalBreaks,
    Thresholds,
    Quantile,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TierNamesArg {
    #[value(name = "2021")]
    E2021,
    #[value(name = "2019")]
    E2019,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SublevelArg {
    EqualWidth,
    Quantile,
}

impl TierMethodArg {
    /// `flag` is the option that chose the method (`--tier-method`, `--method`), named in the
    /// error when the cut lines are missing.
    pub fn method(self, cuts: &[f64], flag: &str) -> anyhow::Result<govcap_core::classify::Method> {
        use govcap_core::classify::{DifferenceParams, Method};
        Ok(match self {
            TierMethodArg::Difference => Method::Difference(DifferenceParams::default()),
            TierMethodArg::NaturalBreaks => Method::NaturalBreaks,
            TierMethodArg::Quantile => Method::Quantile,
            TierMethodArg::Thresholds => {
                if cuts.is_empty() {
                    return user_error(format!(
                        "{flag} thresholds needs --cuts, e.g. --cuts 55,70,83.59"
                    ));
                }
                Method::Thresholds {
                    cuts: cuts.to_vec(),
                }
            }
        })
    }
}

impl TierArgs {
    pub fn params(&self) -> anyhow::Result<govcap_core::tiers::TierParams> {
        use govcap_core::classify::SublevelMethod;
        use govcap_core::tiers::{TierNames, TierParams};
        let k = if self.tier_method == TierMethodArg::Thresholds {
            self.cuts.len() + 1
        } else {
            self.classes
        };
        Ok(TierParams {
            method: self.tier_method.method(&self.cuts, "--tier-method")?,
            k,
            names: match self.tier_names {
                TierNamesArg::E2021 => TierNames::Edition2021,
                TierNamesArg::E2019 => TierNames::Edition2019,
            },
            sublevel_method: match self.sublevels {
                SublevelArg::EqualWidth => SublevelMethod::EqualWidth,
                SublevelArg::Quantile => SublevelMethod::Quantile,
            },
            sublevels: 3,
        })
    }
}

fn is_user_error(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.is::<UserError>()
            || c.is::<govcap_io::ImportError>()
            || c.is::<govcap_core::framework::FrameworkError>()
            || c.is::<govcap_core::evaluate::EvaluateError>()
            || c.is::<govcap_core::classify::ClassifyError>()
            || matches!(
                c.downcast_ref::<govcap_store::StoreError>(),
                Some(govcap_store::StoreError::NoDatabase { .. })
            )
    })
}

/// mimalloc: the evaluation builds many per-unit records on rayon's threads and frees them on
/// another; with glibc's allocator the 3,000-unit benchmark took 7× the page faults and ~20 %
/// longer (the bench binary uses the same allocator and setting).
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
    let cli = Cli::parse();
    govcap_io::export::set_csv_bom(!cli.no_bom);
    if !matches!(cli.command, Command::Serve(_) | Command::Monitor(_)) {
        quiet_on_closed_pipe();
    }
    let result = match cli.command {
        Command::Demo(a) => demo::run(a),
        Command::Evaluate(a) => evaluation::run(a),
        Command::Framework(c) => framework_cmd::run(c),
        Command::Classify(a) => classify_cmd::run(a),
        Command::Import(a) => import_cmd::run(a),
        Command::Runs(c) => runs::run(c),
        Command::Synth(a) => synth_cmd::run(a),
        Command::Report(a) => report_cmd::run(a),
        Command::Audit(a) => audit_cmd::run(a),
        Command::Monitor(c) => monitor_cmd::run(c),
        Command::Evidence(c) => monitor_cmd::evidence(c),
        Command::Alerts(a) => alerts_cmd::run(a),
        Command::Serve(a) => serve_cmd::serve(a),
        Command::Users(c) => serve_cmd::users(c),
        Command::Log(c) => match serve_cmd::log(c) {
            Ok(code) => return code,
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            if is_user_error(&e) {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// `govcap evaluate … | head` must end quietly when `head` has read enough, as `cat` does:
/// Rust ignores SIGPIPE, so every later `println!` would panic on the closed pipe. Restoring
/// the default action ends the process at the first such write instead. Not for `serve` and
/// `monitor`, which talk to sockets and must outlive a peer that hangs up.
fn quiet_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: called once at start-up before any thread exists; SIG_DFL is a valid action.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Resolves a path relative to the current directory for messages.
pub fn shown(p: &std::path::Path) -> String {
    p.display().to_string()
}

/// Default output directory of the demo.
pub fn demo_dir() -> PathBuf {
    PathBuf::from("govcap-demo")
}
