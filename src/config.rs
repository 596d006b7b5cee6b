//! `confdrift.yaml`: names the environments once, so that the gate, the
//! nightly job and a person all mean the same thing by "prod".

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::Deserialize;

use crate::collect::{KubeTarget, Source};
use crate::diagnostic::Diagnostic;
use crate::display::visible;
use crate::error::{Error, Result};
use crate::fsio::{mebibytes, read_at_most};
use crate::limits::{MAX_CONFIG_BYTES, MAX_CONFIG_DEPTH};
use crate::normalize::DEFAULT_FLAG_PATTERNS;

pub const DEFAULT_CONFIG: &str = "confdrift.yaml";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    baseline: Option<String>,
    #[serde(default)]
    environments: IndexMap<String, EnvConfig>,
    #[serde(default)]
    flags: Option<FlagsConfig>,
    /// Policy files or directories, relative to the config file.
    #[serde(default)]
    policies: Option<Vec<PathBuf>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvConfig {
    #[serde(default)]
    files: Option<Vec<PathBuf>>,
    #[serde(default)]
    context: Option<String>,
    #[serde(default)]
    namespaces: Option<Vec<String>>,
    #[serde(default)]
    selector: Option<String>,
    /// How long the whole environment may take to read: `30s`, `2m`, or seconds.
    #[serde(default)]
    timeout: Option<serde_yaml::Value>,
    /// Objects per list request.
    #[serde(default)]
    page_size: Option<u32>,
    /// Rewrites of workload and ConfigMap names, first match wins:
    /// `[{match: "^(.*)-stg$", replace: "$1"}]`.
    #[serde(default)]
    rename: Vec<RenameRule>,
    /// Also read the containers' process environments (exec `env`).
    #[serde(default)]
    runtime_env: Option<bool>,
    /// Files: the namespace of objects that name none (`kubectl apply -n`).
    #[serde(default)]
    namespace: Option<String>,
    /// Files: a Helm chart's values files, relative to the chart directory.
    #[serde(default)]
    values: Option<Vec<PathBuf>>,
    /// Files: a Helm chart's release name.
    #[serde(default)]
    release: Option<String>,
    /// A snapshot in object storage: `s3://bucket/prefix/` (the latest) or
    /// one object's URL.
    #[serde(default)]
    url: Option<String>,
    /// `url:` environments: a snapshot older than this is stale (`26h`).
    #[serde(default)]
    max_age: Option<serde_yaml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RenameRule {
    #[serde(rename = "match")]
    pattern: String,
    replace: String,
}

/// A `files:` environment: paths relative to the config file, values
/// files relative to the chart (as on the command line).
fn file_source(
    files: Vec<PathBuf>,
    namespace: Option<&str>,
    values: Option<Vec<PathBuf>>,
    release: Option<&str>,
    dir: &Path,
) -> Result<Source> {
    use crate::collect::{FileSource, check_dns_label};
    Ok(Source::Files(FileSource {
        paths: files.into_iter().map(|f| dir.join(f)).collect(),
        namespace: namespace
            .map(|n| check_dns_label("namespace", n))
            .transpose()?,
        values: values.unwrap_or_default(),
        release: release.map(|r| check_dns_label("release", r)).transpose()?,
    }))
}

/// The `url:` (and `max_age:`) of an environment, checked: a url is the
/// environment's only source, and max_age applies to it alone.
/// `at` words an error of the environment.
fn object_env(
    env: &EnvConfig,
    at: impl Fn(String) -> Error,
) -> Result<Option<crate::collect::object::ObjectSource>> {
    let Some(url) = &env.url else {
        if env.max_age.is_some() {
            return Err(at(
                "max_age applies to snapshots in object storage (`url:`)".into(),
            ));
        }
        return Ok(None);
    };
    if env.files.is_some() || env.context.is_some() {
        return Err(at("give one of files, context and url".into()));
    }
    if env.namespace.is_some() || env.values.is_some() || env.release.is_some() {
        return Err(at(
            "namespace, values and release apply to files; a snapshot in object storage is read as it was taken".into(),
        ));
    }
    let mut source =
        crate::collect::object::ObjectSource::parse(url).map_err(|e| at(e.to_string()))?;
    if let Some(v) = &env.max_age {
        let text = match v {
            serde_yaml::Value::String(s) => s.clone(),
            serde_yaml::Value::Number(n) => n.to_string(),
            _ => String::new(),
        };
        source.max_age = Some(
            crate::clock::parse_duration(&text)
                .filter(|d| !d.is_zero())
                .ok_or_else(|| at("max_age must be like 26h, 90m, 2d, or seconds".into()))?,
        );
    }
    Ok(Some(source))
}

/// Reads a timeout: seconds (`30`, as a number or text), or a duration as
/// [`crate::clock::duration`] reads it (`30s`, `2m`, `1h`).
pub fn parse_timeout(v: &serde_yaml::Value) -> Option<std::time::Duration> {
    match v {
        serde_yaml::Value::Number(n) => n.as_u64().map(std::time::Duration::from_secs),
        serde_yaml::Value::String(s) => crate::clock::parse_duration(s),
        _ => None,
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FlagsConfig {
    /// Env var name globs that are feature flags (replace the defaults).
    #[serde(default)]
    env: Option<Vec<String>>,
    /// ConfigMap name globs whose data keys are flags.
    #[serde(default)]
    configmaps: Option<Vec<String>>,
}

/// Everything a run needs to know, however it was given.
#[derive(Debug, Clone)]
pub struct Settings {
    pub envs: Vec<(String, Source)>,
    pub baseline: Option<String>,
    pub flag_patterns: Vec<String>,
    pub flag_configmaps: Vec<String>,
    /// Policy files or directories, merged in this order; none: every
    /// difference is `unmatched`.
    pub policies: Vec<PathBuf>,
    /// Per environment: name rewrites `(regex, replacement)` so that
    /// `checkout-stg` lines up with `checkout`.
    pub renames: std::collections::BTreeMap<String, Vec<(String, String)>>,
    /// Strip an environment's own name prefix or suffix (kustomize
    /// `namePrefix`/`nameSuffix`) automatically; see
    /// [`crate::normalize::lineup`].
    pub line_up: bool,
    /// How many environments are collected and normalized at once; `None`:
    /// all. One environment's raw objects are the largest part of a run's
    /// memory while it is read, so `Some(1)` trades wall time for a lower
    /// peak (a CronJob under a memory limit).
    pub jobs: Option<usize>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            envs: Vec::new(),
            baseline: None,
            flag_patterns: DEFAULT_FLAG_PATTERNS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            flag_configmaps: Vec::new(),
            policies: Vec::new(),
            renames: std::collections::BTreeMap::new(),
            line_up: true,
            jobs: None,
        }
    }
}

impl Settings {
    /// Reads a config file; relative paths in it are relative to the file.
    /// Names from the file are quoted in errors through
    /// [`crate::display::visible`].
    pub fn load(path: &Path) -> Result<Settings> {
        let text = read_config(path)?;
        let file: ConfigFile =
            serde_yaml::from_str(&text).map_err(|e| syntax_error(path, &text, &e))?;
        check_rules(path, &text, &file)?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut settings = Settings {
            baseline: file.baseline,
            ..Settings::default()
        };
        for (name, env) in file.environments {
            let shown = visible(&name);
            let object = object_env(&env, |msg| {
                env_error(path, &text, &name, format!("environment {shown}: {msg}"))
            })?;
            let source = match (env.files, env.context) {
                (Some(files), None) => {
                    if env.namespaces.is_some()
                        || env.selector.is_some()
                        || env.timeout.is_some()
                        || env.page_size.is_some()
                        || env.runtime_env.is_some()
                    {
                        return Err(env_error(
                            path,
                            &text,
                            &name,
                            format!(
                                "environment {shown}: namespaces, selector, timeout, page_size and runtime_env apply to live sources (context), not to files"
                            ),
                        ));
                    }
                    file_source(
                        files,
                        env.namespace.as_deref(),
                        env.values.clone(),
                        env.release.as_deref(),
                        dir,
                    )
                    .map_err(|e| {
                        env_error(path, &text, &name, format!("environment {shown}: {e}"))
                    })?
                }
                (None, Some(context)) => {
                    if env.namespace.is_some() || env.values.is_some() || env.release.is_some() {
                        return Err(env_error(
                            path,
                            &text,
                            &name,
                            format!(
                                "environment {shown}: namespace, values and release apply to files; a live source names its namespaces with `namespaces: [...]`"
                            ),
                        ));
                    }
                    let mut target = KubeTarget {
                        context: (!context.is_empty() && context != "current").then_some(context),
                        namespaces: env.namespaces.unwrap_or_default(),
                        selector: env.selector,
                        runtime_env: env.runtime_env.unwrap_or(false),
                        ..KubeTarget::default()
                    };
                    if let Some(t) = &env.timeout {
                        target.timeout = parse_timeout(t).ok_or_else(|| {
                            env_error(path, &text, &name, format!("environment {shown}: timeout must be seconds or like 30s, 2m, 1h"))
                        })?;
                    }
                    if let Some(p) = env.page_size {
                        target.page_size = p.max(1);
                    }
                    Source::Kube(target)
                }
                (Some(_), Some(_)) => {
                    return Err(env_error(
                        path,
                        &text,
                        &name,
                        format!("environment {shown} has both files and context; give one"),
                    ));
                }
                (None, None) => match object {
                    Some(o) => Source::Object(o),
                    None => {
                        return Err(env_error(
                            path,
                            &text,
                            &name,
                            format!(
                                "environment {shown} needs `files: [...]`, `context: NAME` or `url: s3://BUCKET/PREFIX/`"
                            ),
                        ));
                    }
                },
            };
            if !env.rename.is_empty() {
                settings.renames.insert(
                    name.clone(),
                    env.rename
                        .into_iter()
                        .map(|r| (r.pattern, r.replace))
                        .collect(),
                );
            }
            settings.envs.push((name, source));
        }
        if let Some(policies) = file.policies {
            settings.policies = policies.into_iter().map(|p| dir.join(p)).collect();
        }
        if let Some(flags) = file.flags {
            if let Some(env) = flags.env {
                settings.flag_patterns = env;
            }
            if let Some(cms) = flags.configmaps {
                settings.flag_configmaps = cms;
            }
        }
        Ok(settings)
    }

    /// The baseline: as configured, else the last environment listed.
    pub fn baseline(&self) -> Result<String> {
        match &self.baseline {
            Some(b) if self.envs.iter().any(|(n, _)| n == b) => Ok(b.clone()),
            Some(b) => Err(Error::Usage(format!(
                "baseline {} is not one of the environments ({})",
                visible(b),
                visible(&self.env_names().join(", "))
            ))),
            None => self
                .envs
                .last()
                .map(|(n, _)| n.clone())
                .ok_or_else(|| Error::Usage("no environments given".into())),
        }
    }

    pub fn env_names(&self) -> Vec<String> {
        self.envs.iter().map(|(n, _)| n.clone()).collect()
    }
}

/// An error of environment `name`, at the line that names it, shown.
fn env_error(path: &Path, text: &str, name: &str, message: String) -> Error {
    use crate::collect::manifest::{Seg, field_line};
    let at = [Seg::Key("environments".into()), Seg::Key(name.into())];
    let line = field_line(text, &at);
    let d = Diagnostic::error(
        "invalid-environment",
        path.display().to_string(),
        line,
        0,
        message,
    );
    Error::diagnostic(d.with_source(text, 1))
}

/// serde's error as a diagnostic: its whole message (only the trailing
/// position, which the location says, taken off), at its line, with that
/// line shown and, for an unknown field, the fields there are.
fn syntax_error(path: &Path, text: &str, e: &serde_yaml::Error) -> Error {
    let (line, col) = e
        .location()
        .map(|l| (l.line(), l.column()))
        .unwrap_or((0, 0));
    let msg = e.to_string();
    let suffix = format!(" at line {line} column {col}");
    let msg = msg.strip_suffix(&suffix).unwrap_or(&msg);
    let mut d = Diagnostic::error(
        "config-syntax",
        path.display().to_string(),
        line,
        col,
        visible(msg),
    )
    .with_source(text, 1);
    if msg.contains("unknown field") {
        d.code = "unknown-field";
        d.help = Some(
            "valid fields: baseline, environments, flags, policies; per environment: files \
             (with namespace, values, release), or context, namespaces, selector, timeout, \
             page_size, runtime_env, or url, max_age; and rename"
                .into(),
        );
    }
    Error::diagnostic(d)
}

/// Every `rename` rule's `match` is a valid regular expression and every
/// flag pattern a valid glob; one that is not is an error at its line,
/// before any environment is read.
fn check_rules(path: &Path, text: &str, file: &ConfigFile) -> Result<()> {
    use crate::collect::manifest::{Seg, field_line};
    let flags = file.flags.as_ref();
    let lists = [
        ("env", flags.and_then(|f| f.env.as_ref())),
        ("configmaps", flags.and_then(|f| f.configmaps.as_ref())),
    ];
    for (list, patterns) in lists {
        for (i, p) in patterns.into_iter().flatten().enumerate() {
            let Err(e) = globset::Glob::new(p) else {
                continue;
            };
            let at = [
                Seg::Key("flags".into()),
                Seg::Key(list.into()),
                Seg::Index(i),
            ];
            let mut d = Diagnostic::error(
                "invalid-flag-pattern",
                path.display().to_string(),
                field_line(text, &at),
                0,
                format!("`{}` is not a valid glob: {}", visible(p), e.kind()),
            )
            .with_source(text, 1);
            d.field = format!("flags.{list}[{i}]");
            d.help = Some("a flag pattern is a glob: `FEATURE_*`, `*_ENABLED`, `flags-*`".into());
            return Err(Error::diagnostic(d));
        }
    }
    for (name, env) in &file.environments {
        for (i, rule) in env.rename.iter().enumerate() {
            let Err(e) = regex::Regex::new(&rule.pattern) else {
                continue;
            };
            let at = [
                Seg::Key("environments".into()),
                Seg::Key(name.clone()),
                Seg::Key("rename".into()),
                Seg::Index(i),
                Seg::Key("match".into()),
            ];
            // regex draws its own caret under the pattern; its last line says what is wrong.
            let why = e.to_string();
            let why = why
                .lines()
                .last()
                .unwrap_or("")
                .trim_start_matches("error: ");
            let mut d = Diagnostic::error(
                "invalid-rename",
                path.display().to_string(),
                field_line(text, &at),
                0,
                format!(
                    "`{}` is not a valid regular expression: {why}",
                    visible(&rule.pattern)
                ),
            )
            .with_source(text, 1);
            d.field = format!("environments.{}.rename[{i}].match", visible(name));
            d.help = Some("a rename rule is `{match: REGEX, replace: TEXT}`, e.g. `{match: \"^(.*)-stg$\", replace: \"$1\"}`".into());
            return Err(Error::diagnostic(d));
        }
    }
    Ok(())
}

/// The text of a config file, within [`MAX_CONFIG_BYTES`] and
/// [`MAX_CONFIG_DEPTH`].
fn read_config(path: &Path) -> Result<String> {
    let shown = path.display();
    let bytes = read_at_most(path, MAX_CONFIG_BYTES).map_err(|e| {
        if e.kind() == std::io::ErrorKind::FileTooLarge {
            Error::Usage(format!(
                "{shown}: {e}, larger than the {} confdrift reads from a config file; a \
                 confdrift.yaml names environments, renames and flags in a few kilobytes: \
                 is this the right file? (give it with --config FILE)",
                mebibytes(MAX_CONFIG_BYTES)
            ))
        } else {
            Error::io(path, e)
        }
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        Error::Usage(format!(
            "{shown}:{}: not valid UTF-8 (byte {}); a config file is UTF-8 text",
            1 + valid.iter().filter(|b| **b == b'\n').count(),
            valid.len()
        ))
    })?;
    check_depth(&text).map_err(|(line, column)| {
        Error::Usage(format!(
            "{shown}:{line}:{column}: YAML nested deeper than {MAX_CONFIG_DEPTH} levels; a config \
             file needs 5 at most"
        ))
    })?;
    Ok(text)
}

/// Where `text` first nests deeper than [`MAX_CONFIG_DEPTH`], found with
/// yaml-rust2's event parser, which is linear in the depth and stops at 255
/// levels of `[`/`{` itself. Other syntax errors are left to serde_yaml,
/// which words them.
fn check_depth(text: &str) -> std::result::Result<(), (usize, usize)> {
    use yaml_rust2::parser::{Event, Parser};
    let mut parser = Parser::new_from_str(text);
    let mut depth = 0usize;
    loop {
        match parser.next_token() {
            Ok((Event::StreamEnd, _)) => return Ok(()),
            Ok((Event::SequenceStart(..) | Event::MappingStart(..), mark)) => {
                depth += 1;
                if depth > MAX_CONFIG_DEPTH {
                    return Err((mark.line(), mark.col() + 1));
                }
            }
            Ok((Event::SequenceEnd | Event::MappingEnd, _)) => depth = depth.saturating_sub(1),
            Ok(_) => {}
            Err(e) if e.info() == "recursion limit exceeded" => {
                return Err((e.marker().line(), e.marker().col() + 1));
            }
            Err(_) => return Ok(()),
        }
    }
}

/// Parses `NAME=SOURCE` of `--env`.
pub fn parse_env_arg(arg: &str) -> Result<(String, Source)> {
    let (name, source) = arg.split_once('=').ok_or_else(|| {
        Error::Usage(format!(
            "--env {arg}: expected NAME=SOURCE, e.g. --env prod=dumps/prod.yaml or --env prod=kube:gke-prod/shop"
        ))
    })?;
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return Err(Error::Usage(format!(
            "--env {arg}: environment name {name:?} must be letters, digits, '-', '_' or '.'"
        )));
    }
    Ok((name.to_string(), Source::parse(source)?))
}

/// Parses `ENV:REGEX=REPLACEMENT` of `--rename`: the same rewrite as a
/// `rename: [{match: REGEX, replace: REPLACEMENT}]` entry of the
/// environment in confdrift.yaml. The regex is checked here, so a typo is a
/// usage error before anything is read.
pub fn parse_rename_arg(arg: &str) -> Result<(String, (String, String))> {
    let usage = || {
        Error::Usage(format!(
            "--rename {}: expected ENV:REGEX=REPLACEMENT, e.g. --rename staging:'^staging-(.*)$'='$1'",
            visible(arg)
        ))
    };
    let (env, rule) = arg.split_once(':').ok_or_else(usage)?;
    let (pattern, replace) = rule.split_once('=').ok_or_else(usage)?;
    if env.is_empty() || pattern.is_empty() {
        return Err(usage());
    }
    regex::Regex::new(pattern).map_err(|e| {
        Error::Usage(format!(
            "--rename {}: invalid regex: {}",
            visible(arg),
            visible(&e.to_string())
        ))
    })?;
    Ok((env.to_string(), (pattern.to_string(), replace.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error of loading `text` as a config file: its one-line form and
    /// what the run prints.
    fn load_error(text: &str) -> (String, String) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("confdrift.yaml");
        std::fs::write(&path, text).unwrap();
        let e = Settings::load(&path).expect_err("an error");
        let shown = path.display().to_string();
        (
            e.to_string().replace(&shown, "confdrift.yaml"),
            e.report().replace(&shown, "confdrift.yaml"),
        )
    }

    #[test]
    fn serde_s_message_is_kept_whole_at_its_line_with_the_fields_there_are() {
        let (one, all) = load_error("environments:\n  prod:\n    contxt: gke-prod\n");
        assert!(
            one.starts_with(
                "confdrift.yaml:3:5: environments.prod: unknown field `contxt`, expected one of `files`"
            ),
            "{one}"
        );
        assert!(one.ends_with("\n  help: valid fields: baseline, environments, flags, policies; per environment: files (with namespace, values, release), or context, namespaces, selector, timeout, page_size, runtime_env, or url, max_age; and rename"), "{one}");
        assert!(
            all.contains("3 |     contxt: gke-prod\n  |     ^^^^^^"),
            "{all}"
        );
        // A position inside the message (where a mapping started) is kept.
        let (one, _) = load_error("environments:\n  prod: {files: [a.yaml]\n");
        assert!(one.contains("at line 2 column"), "{one}");
    }

    #[test]
    fn a_rename_rule_that_is_no_regex_is_an_error_at_its_line() {
        let text = "environments:\n  staging:\n    files: [s.yaml]\n    rename:\n      - {match: \"^(.*)-stg$\", replace: \"$1\"}\n      - {match: \"(unclosed\", replace: x}\n  prod: {files: [p.yaml]}\n";
        let (one, all) = load_error(text);
        assert_eq!(
            one.lines().next().unwrap(),
            "confdrift.yaml:6: environments.staging.rename[1].match: `(unclosed` is not a valid regular expression: unclosed group"
        );
        assert!(
            all.contains("6 |       - {match: \"(unclosed\", replace: x}"),
            "{all}"
        );
    }

    #[test]
    fn a_flag_pattern_that_is_no_glob_is_an_error_at_its_line() {
        let text = "environments:\n  dev: {files: [d.yaml]}\nflags:\n  env:\n    - FEATURE_*\n    - \"FLAG_[\"\n";
        let (one, all) = load_error(text);
        assert_eq!(
            one.lines().next().unwrap(),
            "confdrift.yaml:6: flags.env[1]: `FLAG_[` is not a valid glob: unclosed character class; missing ']'"
        );
        assert!(all.contains("6 |     - \"FLAG_[\""), "{all}");
    }

    #[test]
    fn an_environment_s_error_names_the_line_of_the_environment() {
        let text =
            "environments:\n  dev: {files: [d.yaml]}\n  prod: {files: [p.yaml], context: gke}\n";
        let (one, _) = load_error(text);
        assert_eq!(
            one,
            "confdrift.yaml:3: environment prod has both files and context; give one"
        );
    }
}
