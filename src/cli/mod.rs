//! The command line: the only place that knows clap. It turns arguments into
//! plain [`Settings`], calls the library, prints, and returns the exit code.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};

use crate::app;
use crate::config::{DEFAULT_CONFIG, Settings, parse_env_arg, parse_rename_arg};
use crate::error::{Error, Result};
use crate::fingerprint::FingerprintKey;
use crate::policy::{self, Date};
use crate::report::{self, FailOn, Format, Style, exit};

mod logging;

/// The one clock: `CONFDRIFT_NOW` (RFC 3339, or a date meaning its
/// midnight UTC) when set — tests, replays —, else the system time. Waiver
/// expiry uses its date (`CONFDRIFT_TODAY=YYYY-MM-DD` overrides just that);
/// the nightly history stamps runs with it.
pub const NOW_ENV: &str = crate::clock::NOW_ENV;
pub const TODAY_ENV: &str = "CONFDRIFT_TODAY";

#[derive(Debug, Parser)]
#[command(
    name = "confdrift",
    version,
    about = "Audit configuration drift between environments of a Kubernetes application",
    long_about = "Collects the environment variables, ConfigMap values, feature flags and mounted \
                  config files every workload really gets in each environment, resolves them the \
                  way Kubernetes does, compares the environments and reports the differences.\n\n\
                  Exit codes: 0 nothing at or above --fail-on, 1 findings at or above it, 2 usage, \
                  config, policy or input error, 3 an environment could not be read completely."
)]
pub struct Cli {
    /// Diagnostics on standard error: -v what was read and how long each stage
    /// took, -vv every API request and exec, -vvv every page and attempt.
    /// RUST_LOG (e.g. confdrift=debug), when set, wins. Never a value: names,
    /// counts, statuses and durations only
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Args)]
struct EnvArgs {
    /// Config file naming the environments [default: confdrift.yaml if present]
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// An environment: NAME=SOURCE, where SOURCE is a manifest file, a
    /// directory, a snapshot, or several joined by commas. Repeatable;
    /// replaces the config file's environments.
    #[arg(long = "env", value_name = "NAME=SOURCE")]
    envs: Vec<String>,
    /// Live environments: also read each workload's running process
    /// environment (`env` through the exec API; needs `create` on
    /// `pods/exec`) to catch variables baked into images or injected by webhooks
    #[arg(long)]
    runtime_env: bool,
    /// Compare an environment's workloads and ConfigMaps under other names:
    /// ENV:REGEX=REPLACEMENT, e.g. --rename staging:'^staging-(.*)$'='$1'.
    /// Repeatable; tried in order before the config file's `rename` rules of
    /// that environment, the first that matches wins
    #[arg(long = "rename", value_name = "ENV:REGEX=REPLACEMENT")]
    renames: Vec<String>,
    /// Keep names as they are: do not remove an environment's own name prefix
    /// or suffix (kustomize namePrefix/nameSuffix) to line environments up
    #[arg(long)]
    no_line_up: bool,
    /// Snapshots from object storage older than this are stale (problem
    /// `snapshot-stale`: the environment is incomplete): e.g. 26h, 90m, 2d.
    /// An environment's `max_age:` in confdrift.yaml wins [default: 26h]
    #[arg(long, value_name = "DURATION", value_parser = parse_max_age)]
    max_age: Option<std::time::Duration>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Collect all environments, compare them, report the findings.
    Audit {
        #[command(flatten)]
        envs: EnvArgs,
        /// The environment others are compared against [default: the last one]
        #[arg(long, value_name = "NAME")]
        baseline: Option<String>,
        /// Output format [default: table]
        #[arg(long, value_enum)]
        format: Option<FormatArg>,
        /// Write the report to FILE (atomically) instead of standard output
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// One more report from the same run: FORMAT, or FORMAT=FILE (written
        /// atomically; `-` is standard output). Repeatable, e.g.
        /// `--report table --report sarif=drift.sarif --report markdown=comment.md`;
        /// at most one report goes to standard output
        #[arg(long = "report", value_name = "FORMAT[=FILE]", value_parser = parse_report_arg)]
        reports: Vec<(FormatArg, Option<PathBuf>)>,
        /// Markdown: at most N characters (a PR comment limit, e.g. 65000); whole
        /// sections are cut from the end and the comment says what was cut
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
        max_length: Option<u64>,
        /// Exit 1 when a finding reaches this severity
        #[arg(long, value_enum, default_value_t = FailOnArg::Critical)]
        fail_on: FailOnArg,
        /// Do not exit 3 when an environment could not be read completely
        #[arg(long)]
        allow_partial: bool,
        /// A policy file or directory (its *.yaml files, by name). Repeatable;
        /// merged in the order given; replaces the config file's `policies`
        /// [default: policies/ if present]
        #[arg(long = "policy", value_name = "PATH")]
        policies: Vec<PathBuf>,
        /// What is about to be deployed (rendered manifests: a file, a directory,
        /// or any SOURCE), audited as environment `candidate` against the
        /// --against environments only
        #[arg(long, value_name = "PATH", requires = "against")]
        candidate: Option<String>,
        /// The configured environment(s) to compare the candidate with; the
        /// first is the baseline. Repeatable or comma-separated
        #[arg(
            long,
            value_name = "NAME",
            value_delimiter = ',',
            requires = "candidate"
        )]
        against: Vec<String>,
        /// With --candidate: findings that are there today already fail the
        /// gate too (by default only those the deploy introduces do)
        #[arg(long, requires = "candidate")]
        fail_on_existing: bool,
    },
    /// Show what differs between two environments, with where each value comes from.
    Diff {
        /// The two environments to compare (may be omitted when exactly two are configured)
        #[arg(value_name = "ENV")]
        pair: Vec<String>,
        #[command(flatten)]
        envs: EnvArgs,
        /// Show the keys that are equal too
        #[arg(long)]
        all: bool,
        /// Exit 1 when anything differs, like `git diff --exit-code`
        #[arg(long)]
        exit_code: bool,
        /// Only workloads (or ConfigMaps) whose name matches this glob
        #[arg(long, value_name = "GLOB")]
        workload: Option<String>,
        /// Only keys that match this glob (a file by its path or as `file PATH`)
        #[arg(long, value_name = "GLOB")]
        key: Option<String>,
        /// The environment the other is measured from (percentages, line
        /// diffs); one of the two [default: the configured baseline if it is
        /// one of them, else the one configured last]
        #[arg(long, value_name = "NAME")]
        baseline: Option<String>,
        /// A policy file or directory (its *.yaml files, by name). Repeatable;
        /// merged in the order given; replaces the config file's `policies`
        /// [default: policies/ if present]
        #[arg(long = "policy", value_name = "PATH")]
        policies: Vec<PathBuf>,
    },
    /// The nightly job: audit, keep the result in a history directory, and report what is new,
    /// what persists (since when) and what was resolved since the previous run.
    Report {
        #[command(flatten)]
        envs: EnvArgs,
        /// The history directory (created if missing); one JSON file per run and an index.
        /// Or an object storage prefix (s3://BUCKET/confdrift/history/), kept with
        /// conditional writes so that reporters running at once lose no run
        #[arg(long, value_name = "DIR|URL")]
        history: PathBuf,
        /// The environment others are compared against [default: the last one]
        #[arg(long, value_name = "NAME")]
        baseline: Option<String>,
        /// Policy file or directory (repeatable) [default: policies/ if present]
        #[arg(long = "policy", value_name = "PATH")]
        policies: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = NightlyFormat::Markdown)]
        format: NightlyFormat,
        /// Write the report to FILE (atomically) instead of standard output
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// More reports of the same run: FORMAT=FILE, repeatable, e.g.
        /// `--report html=/history/latest.html --report prometheus=/metrics/confdrift.prom`
        #[arg(long = "report", value_name = "FORMAT=FILE", value_parser = parse_nightly_report_arg)]
        reports: Vec<(NightlyFormat, PathBuf)>,
        /// Exit 1 when a finding reaches this severity
        #[arg(long, value_enum, default_value_t = FailOnArg::Critical)]
        fail_on: FailOnArg,
        /// Do not exit 3 when an environment could not be read completely
        #[arg(long)]
        allow_partial: bool,
    },
    /// Print a shell completion script: `confdrift completions bash > /etc/bash_completion.d/confdrift`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `confdrift man | man -l -`.
    Man,
    /// Save what was collected for one environment (Secrets fingerprinted) as a source for later audits.
    Snapshot {
        #[command(flatten)]
        envs: EnvArgs,
        /// Where to write the snapshot: a file, an object storage URL
        /// (s3://BUCKET/KEY.json.gz, gs://, az://, file:///), or a prefix
        /// ending in `/` (s3://BUCKET/confdrift/prod/), where it becomes
        /// PREFIX/<UTC time>.json.gz and PREFIX/latest points to it
        #[arg(long, value_name = "FILE|URL")]
        output: String,
    },
    /// Work with policy files.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Check policy files: every error with file:line:column. Exit 0 when
    /// valid, 2 when not.
    Lint {
        /// Policy files or directories [default: policies/]
        #[arg(value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FormatArg {
    /// Side by side, for a terminal or a CI log
    Table,
    /// The `confdrift.report/v1` JSON report
    Json,
    /// A pull-request comment (see --max-length)
    Markdown,
    /// SARIF 2.1.0, for code-scanning uploads
    Sarif,
    /// JUnit XML, for CI test views (a suite per rule)
    Junit,
}

/// Formats of the nightly report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum NightlyFormat {
    /// New, persisting and resolved findings, for a chat message or wiki page
    Markdown,
    /// The JSON report with `status`, `first_seen`, `age_days` per finding and a `history` section
    Json,
    /// One self-contained page: summary, trend, coverage, findings, diffs
    Html,
    /// Prometheus text exposition, for a textfile collector or Pushgateway
    Prometheus,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FailOnArg {
    Critical,
    Warning,
    Info,
    Never,
}

impl From<FailOnArg> for FailOn {
    fn from(f: FailOnArg) -> Self {
        match f {
            FailOnArg::Critical => FailOn::Critical,
            FailOnArg::Warning => FailOn::Warning,
            FailOnArg::Info => FailOn::Info,
            FailOnArg::Never => FailOn::Never,
        }
    }
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Table => Format::Table,
            FormatArg::Json => Format::Json,
            FormatArg::Markdown => Format::Markdown,
            FormatArg::Sarif => Format::Sarif,
            FormatArg::Junit => Format::Junit,
        }
    }
}

impl EnvArgs {
    fn settings(&self) -> Result<Settings> {
        let config = match &self.config {
            Some(path) => Some(path.as_path()),
            // Read exactly as if given with --config: --env replaces only
            // its environments, never the renames, flags or policies.
            None if Path::new(DEFAULT_CONFIG).is_file() => Some(Path::new(DEFAULT_CONFIG)),
            None => None,
        };
        let mut settings = match config {
            Some(path) => {
                let settings = Settings::load(path)?;
                tracing::info!(
                    path = %path.display(),
                    environments = settings.envs.len(),
                    policies = settings.policies.len(),
                    "config file loaded"
                );
                settings
            }
            None => Settings::default(),
        };
        if !self.envs.is_empty() {
            settings.envs = self
                .envs
                .iter()
                .map(|e| parse_env_arg(e))
                .collect::<Result<_>>()?;
            if let Some(b) = &settings.baseline
                && !settings.envs.iter().any(|(n, _)| n == b)
            {
                settings.baseline = None;
            }
            tracing::debug!(
                environments = settings.envs.len(),
                "environments from --env"
            );
        }
        let mut from_cli: std::collections::BTreeMap<String, Vec<(String, String)>> =
            Default::default();
        for arg in &self.renames {
            let (env, rule) = parse_rename_arg(arg)?;
            // `candidate` is added later by --candidate.
            if env != "candidate" && !settings.envs.iter().any(|(n, _)| *n == env) {
                return Err(Error::Usage(format!(
                    "--rename {}: there is no environment {} (environments: {})",
                    report::visible(arg),
                    report::visible(&env),
                    report::visible(&settings.env_names().join(", "))
                )));
            }
            from_cli.entry(env).or_default().push(rule);
        }
        for (env, mut rules) in from_cli {
            let configured = settings.renames.remove(&env).unwrap_or_default();
            rules.extend(configured);
            settings.renames.insert(env, rules);
        }
        settings.line_up = !self.no_line_up;
        if self.runtime_env {
            for (_, source) in &mut settings.envs {
                if let crate::collect::Source::Kube(target) = source {
                    target.runtime_env = true;
                }
            }
        }
        if let Some(max_age) = self.max_age {
            for (_, source) in &mut settings.envs {
                if let crate::collect::Source::Object(o) = source {
                    o.max_age.get_or_insert(max_age);
                }
            }
        }
        if settings.policies.is_empty() {
            settings.policies = policy::default_paths();
        }
        Ok(settings)
    }
}

/// Runs the CLI and returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    logging::init(cli.verbose);
    match execute(cli) {
        Ok(code) => code,
        Err(e) => {
            // An error can quote input (a key, a path, a policy's text):
            // escapes and bidi overrides in it are written out, not obeyed.
            eprintln!(
                "confdrift: error: {}",
                crate::report::visible_lines(&e.to_string())
            );
            exit::USAGE
        }
    }
}

fn style_for(to_terminal: bool) -> Style {
    let color = to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    Style {
        color,
        // A CI log is wide and no terminal to ask: `COLUMNS`, else 120.
        width: if to_terminal {
            None
        } else {
            Some(
                std::env::var("COLUMNS")
                    .ok()
                    .and_then(|c| c.trim().parse::<u16>().ok())
                    .map_or(120, |c| c.max(60)),
            )
        },
        ..Style::default()
    }
}

fn execute(cli: Cli) -> Result<i32> {
    let key = FingerprintKey::from_env();
    match cli.command {
        Command::Audit {
            envs,
            baseline,
            format,
            output,
            reports,
            max_length,
            fail_on,
            allow_partial,
            policies,
            candidate,
            against,
            fail_on_existing,
        } => {
            let outputs = audit_outputs(format, output, reports, max_length.is_some())?;
            let mut settings = envs.settings()?;
            if let Some(path) = &candidate {
                with_candidate(&mut settings, path, &against)?;
            }
            if baseline.is_some() {
                settings.baseline = baseline;
            }
            if !policies.is_empty() {
                settings.policies = policies;
            }
            let audit = match (&candidate, against.first()) {
                (Some(_), Some(target)) => app::deploy_gate(
                    &settings,
                    &key,
                    today()?,
                    target,
                    CANDIDATE,
                    fail_on_existing,
                )?,
                _ => app::audit(&settings, &key, today()?)?,
            };
            // Everything is rendered before anything is written.
            let mut rendered = Vec::new();
            for (format, output) in outputs {
                let to_terminal = output.is_none() && std::io::stdout().is_terminal();
                let style = Style {
                    fail_on: fail_on.into(),
                    allow_partial,
                    max_length: max_length.map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
                    ..style_for(to_terminal)
                };
                let mut buf = Vec::new();
                report::render(&audit.report, format.into(), style, &mut buf)
                    .map_err(|e| Error::io("<report>", e))?;
                rendered.push((output, buf));
            }
            for (output, buf) in &rendered {
                emit(output.as_deref(), buf)?;
            }
            Ok(report::exit_code(
                &audit.report,
                fail_on.into(),
                allow_partial,
            ))
        }
        Command::Diff {
            pair,
            envs,
            all,
            exit_code,
            workload,
            key: key_glob,
            baseline,
            policies,
        } => {
            let mut settings = envs.settings()?;
            if !policies.is_empty() {
                settings.policies = policies;
            }
            let names = settings.env_names();
            let (a, b) = match pair.as_slice() {
                [a, b] => (a.clone(), b.clone()),
                [] if names.len() == 2 => (names[0].clone(), names[1].clone()),
                _ => {
                    return Err(Error::Usage(format!(
                        "diff needs two environments: confdrift diff ENV_A ENV_B (configured: {})",
                        names.join(", ")
                    )));
                }
            };
            let mut chosen = Vec::new();
            for n in [&a, &b] {
                let Some(found) = settings.envs.iter().find(|(name, _)| name == n) else {
                    return Err(Error::Usage(format!(
                        "unknown environment {n} (configured: {})",
                        names.join(", ")
                    )));
                };
                chosen.push(found.clone());
            }
            settings.baseline = Some(diff_baseline(
                baseline.as_deref(),
                settings.baseline.as_deref(),
                &chosen,
                &settings.envs,
            )?);
            settings.envs = chosen;
            let filter = report::diff::Filter::new(workload.as_deref(), key_glob.as_deref())?;
            let mut audit = app::audit(&settings, &key, today()?)?;
            filter.check(&audit.inventories)?;
            audit.report.findings.retain(|f| filter.keeps(f));
            let style = style_for(std::io::stdout().is_terminal());
            let mut buf = Vec::new();
            report::diff::render(&audit.report, style, &mut buf)
                .map_err(|e| Error::io("<diff>", e))?;
            if all {
                let equal = report::diff::equal_entries(&audit.inventories, &filter);
                report::diff::render_equal(&equal, style, &mut buf)
                    .map_err(|e| Error::io("<diff>", e))?;
            }
            emit(None, &buf)?;
            let differs = report::diff::difference_count(&audit.report) > 0;
            Ok(if !audit.report.complete() {
                exit::INCOMPLETE
            } else if exit_code && differs {
                exit::FINDINGS
            } else {
                exit::OK
            })
        }
        Command::Report {
            envs,
            history,
            baseline,
            policies,
            format,
            output,
            reports,
            fail_on,
            allow_partial,
        } => {
            let mut settings = envs.settings()?;
            if baseline.is_some() {
                settings.baseline = baseline;
            }
            if !policies.is_empty() {
                settings.policies = policies;
            }
            let now = now()?;
            let run = app::nightly(&settings, &key, today()?, &now.to_string(), &history)?;
            let mut outputs = vec![(format, output)];
            outputs.extend(reports.into_iter().map(|(f, p)| (f, Some(p))));
            for (format, output) in outputs {
                let mut buf = Vec::new();
                match format {
                    NightlyFormat::Json => {
                        serde_json::to_writer_pretty(&mut buf, &run.json)
                            .map_err(|e| Error::Usage(e.to_string()))?;
                        buf.push(b'\n');
                    }
                    NightlyFormat::Html => report::html::render(&run.json, &mut buf)
                        .map_err(|e| Error::io("<report>", e))?,
                    NightlyFormat::Prometheus => {
                        report::prometheus::render(&run.json, now.as_second(), &mut buf)
                            .map_err(|e| Error::io("<report>", e))?
                    }
                    NightlyFormat::Markdown => report::nightly::render(&run.json, &mut buf)
                        .map_err(|e| Error::io("<report>", e))?,
                }
                emit(output.as_deref(), &buf)?;
            }
            Ok(report::exit_code(
                &run.report,
                fail_on.into(),
                allow_partial,
            ))
        }
        Command::Completions { shell } => {
            let mut buf = Vec::new();
            clap_complete::generate(
                shell,
                &mut <Cli as clap::CommandFactory>::command(),
                "confdrift",
                &mut buf,
            );
            emit(None, &buf)?;
            Ok(exit::OK)
        }
        Command::Man => {
            let mut buf = Vec::new();
            clap_mangen::Man::new(<Cli as clap::CommandFactory>::command())
                .render(&mut buf)
                .map_err(|e| Error::io("<man>", e))?;
            emit(None, &buf)?;
            Ok(exit::OK)
        }
        Command::Snapshot { envs, output } => {
            let settings = envs.settings()?;
            let [(name, source)] = settings.envs.as_slice() else {
                return Err(Error::Usage(format!(
                    "snapshot takes exactly one environment (--env NAME=SOURCE); got {}",
                    settings.envs.len()
                )));
            };
            if !key.stable {
                eprintln!(
                    "confdrift: warning: {} is not set; the snapshot's Secret fingerprints use a \
                     one-off key and cannot be compared with other runs",
                    crate::fingerprint::KEY_ENV
                );
            }
            let snapshot = app::snapshot(name, source, &key, now()?)?;
            let written = app::save_snapshot(snapshot, &output)?;
            eprintln!("confdrift: wrote snapshot of {name} to {written}");
            Ok(exit::OK)
        }
        Command::Policy {
            command: PolicyCommand::Lint { paths },
        } => lint(paths),
    }
}

/// Reads the one clock (see [`TODAY_ENV`]).
/// Now, from `CONFDRIFT_NOW` or the system clock, to the second.
fn now() -> Result<jiff::Timestamp> {
    crate::clock::now().map_err(Error::Usage)
}

fn today() -> Result<Date> {
    match std::env::var(TODAY_ENV) {
        Ok(s) if !s.is_empty() => Date::parse(&s)
            .ok_or_else(|| Error::Usage(format!("{TODAY_ENV}={s}: expected a date as YYYY-MM-DD"))),
        _ => match std::env::var(NOW_ENV) {
            Ok(s) if !s.is_empty() => {
                let d = now()?.to_zoned(jiff::tz::TimeZone::UTC).date();
                Date::parse(&d.to_string())
                    .ok_or_else(|| Error::Usage(format!("{NOW_ENV}: bad date")))
            }
            _ => Ok(Date::system_today()),
        },
    }
}

/// `confdrift policy lint`: every problem of every file, then a summary.
fn lint(paths: Vec<PathBuf>) -> Result<i32> {
    let paths = if paths.is_empty() {
        policy::default_paths()
    } else {
        paths
    };
    if paths.is_empty() {
        return Err(Error::Usage(format!(
            "no policy to lint: give PATH... or create {}/",
            policy::DEFAULT_DIR
        )));
    }
    let loaded = policy::load(&paths, today()?);
    let mut out = loaded.render(None);
    let errors = loaded.errors();
    let warnings = loaded.diagnostics.len() - errors;
    let set = &loaded.set;
    if errors == 0 {
        out.push_str(&format!(
            "policy lint: ok: {} file(s), {} rule(s), {} waiver(s){}\n",
            set.files.len(),
            set.rules.len(),
            set.waivers.len(),
            if warnings > 0 {
                format!(", {warnings} warning(s)")
            } else {
                String::new()
            }
        ));
    } else {
        out.push_str(&format!(
            "policy lint: {errors} error(s), {warnings} warning(s) in {} file(s)\n",
            set.files.len().max(1)
        ));
    }
    emit(None, crate::report::visible_lines(&out).as_bytes())?;
    Ok(if errors == 0 { exit::OK } else { exit::USAGE })
}

/// Writes to the output file, or stdout; a closed pipe (`| head`) is not an error.
fn emit(output: Option<&Path>, buf: &[u8]) -> Result<()> {
    match output {
        Some(path) => app::write_output(path, buf),
        None => {
            let mut stdout = std::io::stdout().lock();
            match stdout.write_all(buf).and_then(|_| stdout.flush()) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                Err(e) => Err(Error::io("<stdout>", e)),
                Ok(()) => Ok(()),
            }
        }
    }
}

/// `--max-age 26h`.
fn parse_max_age(arg: &str) -> std::result::Result<std::time::Duration, String> {
    crate::clock::parse_duration(arg)
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{arg}: expected a duration like 26h, 90m, 2d or seconds"))
}

/// Parses `--report FORMAT[=FILE]`; FILE `-` (or none) is standard output.
/// `--report FORMAT=FILE` of `confdrift report`.
fn parse_nightly_report_arg(arg: &str) -> std::result::Result<(NightlyFormat, PathBuf), String> {
    let Some((name, file)) = arg.split_once('=').filter(|(_, f)| !f.is_empty()) else {
        return Err(format!(
            "{arg}: expected FORMAT=FILE, e.g. html=report.html"
        ));
    };
    let format = NightlyFormat::from_str(name, true)
        .map_err(|_| format!("unknown format `{name}` (markdown, json, html or prometheus)"))?;
    Ok((format, PathBuf::from(file)))
}

fn parse_report_arg(arg: &str) -> std::result::Result<(FormatArg, Option<PathBuf>), String> {
    let (name, file) = match arg.split_once('=') {
        Some((name, file)) => (name, Some(file)),
        None => (arg, None),
    };
    let format = FormatArg::from_str(name, true).map_err(|_| {
        let known: Vec<String> = FormatArg::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value().map(|p| p.get_name().to_string()))
            .collect();
        format!(
            "unknown format `{name}` (one of {}), as FORMAT or FORMAT=FILE",
            known.join(", ")
        )
    })?;
    match file {
        Some("") => Err(format!(
            "{arg}: FILE is empty; use {name} or {name}=- for standard output"
        )),
        Some("-") | None => Ok((format, None)),
        Some(f) => Ok((format, Some(PathBuf::from(f)))),
    }
}

/// The reports of one `audit` run: `--format`/`--output` (if either is
/// given) and every `--report`; a table on standard output when none is.
fn audit_outputs(
    format: Option<FormatArg>,
    output: Option<PathBuf>,
    reports: Vec<(FormatArg, Option<PathBuf>)>,
    max_length: bool,
) -> Result<Vec<(FormatArg, Option<PathBuf>)>> {
    let mut outputs = Vec::new();
    if format.is_some() || output.is_some() || reports.is_empty() {
        outputs.push((format.unwrap_or(FormatArg::Table), output));
    }
    outputs.extend(reports);
    if outputs.iter().filter(|(_, o)| o.is_none()).count() > 1 {
        return Err(Error::Usage(
            "more than one report would go to standard output: give all but one a file (--report FORMAT=FILE, or --output FILE for --format)".into(),
        ));
    }
    let mut files = std::collections::BTreeSet::new();
    for (_, o) in &outputs {
        if let Some(path) = o
            && !files.insert(path)
        {
            return Err(Error::Usage(format!(
                "{} is the output of two reports",
                path.display()
            )));
        }
    }
    if max_length && !outputs.iter().any(|(f, _)| *f == FormatArg::Markdown) {
        return Err(Error::Usage(
            "--max-length applies to markdown output; add --format markdown or --report markdown=FILE".into(),
        ));
    }
    Ok(outputs)
}

/// The environment name `--candidate` reads its source as.
const CANDIDATE: &str = "candidate";

/// `--candidate PATH --against NAME[,NAME]`: the candidate, as environment
/// `candidate`, compared with the named configured environments only; the
/// first of them is the baseline (unless --baseline says otherwise).
/// The baseline of `diff A B`, as in `audit`: `--baseline` (one of the
/// two), else the configured baseline when it is one of the two, else the
/// one of them configured last (audit's default is the last environment).
fn diff_baseline(
    given: Option<&str>,
    configured: Option<&str>,
    chosen: &[(String, impl Sized)],
    all: &[(String, impl Sized)],
) -> Result<String> {
    let in_pair = |n: &str| chosen.iter().any(|(c, _)| c == n);
    if let Some(b) = given {
        if !in_pair(b) {
            return Err(Error::Usage(format!(
                "--baseline {} is not one of the two environments compared ({})",
                crate::report::visible(b),
                crate::report::visible(
                    &chosen
                        .iter()
                        .map(|(n, _)| n.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            )));
        }
        return Ok(b.to_string());
    }
    if let Some(b) = configured.filter(|b| in_pair(b)) {
        return Ok(b.to_string());
    }
    all.iter()
        .rev()
        .find(|(n, _)| in_pair(n))
        .map(|(n, _)| n.clone())
        .ok_or_else(|| Error::Usage("diff needs two environments".into()))
}

fn with_candidate(settings: &mut Settings, path: &str, against: &[String]) -> Result<()> {
    let names = settings.env_names();
    if names.iter().any(|n| n == CANDIDATE) {
        return Err(Error::Usage(
            "--candidate adds an environment named `candidate`, but one is already configured; rename it or use --env NAME=SOURCE".into(),
        ));
    }
    let mut chosen = Vec::new();
    for name in against {
        let Some(found) = settings.envs.iter().find(|(n, _)| n == name) else {
            return Err(Error::Usage(format!(
                "--against {name}: no such environment (configured: {})",
                if names.is_empty() {
                    "none; give --config FILE or --env NAME=SOURCE".to_string()
                } else {
                    names.join(", ")
                }
            )));
        };
        if !chosen.iter().any(|(n, _): &(String, _)| n == name) {
            chosen.push(found.clone());
        }
    }
    let source = crate::collect::Source::parse(path)
        .map_err(|e| Error::Usage(format!("--candidate {path}: {e}")))?;
    chosen.push((CANDIDATE.to_string(), source));
    settings.envs = chosen;
    settings.baseline = against.first().cloned();
    Ok(())
}
