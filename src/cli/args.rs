//! The arguments as typed: clap's view of the command line, and their
//! translation into plain [`Settings`]. Nothing here reads an environment
//! or writes a report.

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};

use crate::config::{DEFAULT_CONFIG, Settings, parse_env_arg, parse_rename_arg};
use crate::error::{Error, Result};
use crate::policy;
use crate::report::{self, FailOn, Format};

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
    pub(super) verbose: u8,
    #[command(subcommand)]
    pub(super) command: Command,
}

#[derive(Debug, clap::Args)]
pub(super) struct EnvArgs {
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
    /// How many environments are read and normalized at once [default: all].
    /// Each holds its raw objects in memory while it is read: 1 gives the
    /// lowest peak memory (a CronJob under a memory limit), at the cost of
    /// wall time
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    jobs: Option<u16>,
}

#[derive(Debug, Subcommand)]
pub(super) enum Command {
    /// Collect all environments, compare them, report the findings.
    Audit(AuditArgs),
    /// Show what differs between two environments, with where each value comes from.
    Diff(DiffArgs),
    /// The nightly job: audit, keep the result in a history directory, and report what is new,
    /// what persists (since when) and what was resolved since the previous run.
    Report(ReportArgs),
    /// Print a shell completion script: `confdrift completions bash > /etc/bash_completion.d/confdrift`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `confdrift man | man -l -`.
    Man,
    /// Save what was collected for one environment (Secrets fingerprinted) as a source for later audits.
    Snapshot(SnapshotArgs),
    /// Work with policy files.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
}

#[derive(Debug, clap::Args)]
pub(super) struct AuditArgs {
    #[command(flatten)]
    pub(super) envs: EnvArgs,
    /// The environment others are compared against [default: the last one]
    #[arg(long, value_name = "NAME")]
    pub(super) baseline: Option<String>,
    /// Output format [default: table]
    #[arg(long, value_enum)]
    pub(super) format: Option<FormatArg>,
    /// Write the report to FILE (atomically) instead of standard output
    #[arg(long, value_name = "FILE")]
    pub(super) output: Option<PathBuf>,
    /// One more report from the same run: FORMAT, or FORMAT=FILE (written
    /// atomically; `-` is standard output). Repeatable, e.g.
    /// `--report table --report sarif=drift.sarif --report markdown=comment.md`;
    /// at most one report goes to standard output
    #[arg(long = "report", value_name = "FORMAT[=FILE]", value_parser = parse_report_arg)]
    pub(super) reports: Vec<(FormatArg, Option<PathBuf>)>,
    /// Markdown: at most N characters (a PR comment limit, e.g. 65000); whole
    /// sections are cut from the end and the comment says what was cut
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub(super) max_length: Option<u64>,
    /// Exit 1 when a finding reaches this severity
    #[arg(long, value_enum, default_value_t = FailOnArg::Critical)]
    pub(super) fail_on: FailOnArg,
    /// Do not exit 3 when an environment could not be read completely
    #[arg(long)]
    pub(super) allow_partial: bool,
    /// A policy file or directory (its *.yaml files, by name). Repeatable;
    /// merged in the order given; replaces the config file's `policies`
    /// [default: policies/ if present]
    #[arg(long = "policy", value_name = "PATH")]
    pub(super) policies: Vec<PathBuf>,
    /// What is about to be deployed (rendered manifests: a file, a directory,
    /// or any SOURCE), audited as environment `candidate` against the
    /// --against environments only
    #[arg(long, value_name = "PATH", requires = "against")]
    pub(super) candidate: Option<String>,
    /// The configured environment(s) to compare the candidate with; the
    /// first is the baseline. Repeatable or comma-separated
    #[arg(
        long,
        value_name = "NAME",
        value_delimiter = ',',
        requires = "candidate"
    )]
    pub(super) against: Vec<String>,
    /// With --candidate: findings that are there today already fail the
    /// gate too (by default only those the deploy introduces do)
    #[arg(long, requires = "candidate")]
    pub(super) fail_on_existing: bool,
}

#[derive(Debug, clap::Args)]
pub(super) struct DiffArgs {
    /// The two environments to compare (may be omitted when exactly two are configured)
    #[arg(value_name = "ENV")]
    pub(super) pair: Vec<String>,
    #[command(flatten)]
    pub(super) envs: EnvArgs,
    /// Show the keys that are equal too
    #[arg(long)]
    pub(super) all: bool,
    /// Exit 1 when anything differs, like `git diff --exit-code`
    #[arg(long)]
    pub(super) exit_code: bool,
    /// Only workloads (or ConfigMaps) whose name matches this glob
    #[arg(long, value_name = "GLOB")]
    pub(super) workload: Option<String>,
    /// Only keys that match this glob (a file by its path or as `file PATH`)
    #[arg(long, value_name = "GLOB")]
    pub(super) key: Option<String>,
    /// The environment the other is measured from (percentages, line
    /// diffs); one of the two [default: the configured baseline if it is
    /// one of them, else the one configured last]
    #[arg(long, value_name = "NAME")]
    pub(super) baseline: Option<String>,
    /// A policy file or directory (its *.yaml files, by name). Repeatable;
    /// merged in the order given; replaces the config file's `policies`
    /// [default: policies/ if present]
    #[arg(long = "policy", value_name = "PATH")]
    pub(super) policies: Vec<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub(super) struct ReportArgs {
    #[command(flatten)]
    pub(super) envs: EnvArgs,
    /// The history directory (created if missing); one JSON file per run and an index.
    /// Or an object storage prefix (s3://BUCKET/confdrift/history/), kept with
    /// conditional writes so that reporters running at once lose no run
    #[arg(long, value_name = "DIR|URL")]
    pub(super) history: PathBuf,
    /// The environment others are compared against [default: the last one]
    #[arg(long, value_name = "NAME")]
    pub(super) baseline: Option<String>,
    /// Policy file or directory (repeatable) [default: policies/ if present]
    #[arg(long = "policy", value_name = "PATH")]
    pub(super) policies: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = NightlyFormat::Markdown)]
    pub(super) format: NightlyFormat,
    /// Write the report to FILE (atomically) instead of standard output
    #[arg(long, value_name = "FILE")]
    pub(super) output: Option<PathBuf>,
    /// More reports of the same run: FORMAT=FILE, repeatable, e.g.
    /// `--report html=/history/latest.html --report prometheus=/metrics/confdrift.prom`
    #[arg(long = "report", value_name = "FORMAT=FILE", value_parser = parse_nightly_report_arg)]
    pub(super) reports: Vec<(NightlyFormat, PathBuf)>,
    /// Exit 1 when a finding reaches this severity
    #[arg(long, value_enum, default_value_t = FailOnArg::Critical)]
    pub(super) fail_on: FailOnArg,
    /// Do not exit 3 when an environment could not be read completely
    #[arg(long)]
    pub(super) allow_partial: bool,
}

#[derive(Debug, clap::Args)]
pub(super) struct SnapshotArgs {
    #[command(flatten)]
    pub(super) envs: EnvArgs,
    /// Where to write the snapshot: a file, an object storage URL
    /// (s3://BUCKET/KEY.json.gz, gs://, az://, file:///), or a prefix
    /// ending in `/` (s3://BUCKET/confdrift/prod/), where it becomes
    /// PREFIX/<UTC time>.json.gz and PREFIX/latest points to it
    #[arg(long, value_name = "FILE|URL")]
    pub(super) output: String,
}

#[derive(Debug, Subcommand)]
pub(super) enum PolicyCommand {
    /// Check policy files: every error with file:line:column. Exit 0 when
    /// valid, 2 when not.
    Lint {
        /// Policy files or directories [default: policies/]
        #[arg(value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum FormatArg {
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
pub(super) enum NightlyFormat {
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
pub(super) enum FailOnArg {
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
    pub(super) fn settings(&self) -> Result<Settings> {
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
        settings.jobs = self.jobs.map(usize::from);
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

/// `--max-age 26h`.
fn parse_max_age(arg: &str) -> std::result::Result<std::time::Duration, String> {
    crate::clock::parse_duration(arg)
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{arg}: expected a duration like 26h, 90m, 2d or seconds"))
}

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

/// Parses `--report FORMAT[=FILE]`; FILE `-` (or none) is standard output.
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
