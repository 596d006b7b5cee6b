//! How to normalize, from `confdrift.yaml`: which variables and ConfigMaps
//! are feature flags (globs), and the name rewrites of an environment.
//! Built once per environment; never reads anything.

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::error::{Error, Result};

/// Env var names treated as feature flags unless configured otherwise.
pub(crate) const DEFAULT_FLAG_PATTERNS: &[&str] = &[
    "FEATURE_*",
    "FF_*",
    "ENABLE_*",
    "DISABLE_*",
    "*_ENABLED",
    "*_DISABLED",
];

/// How to normalize; built from `confdrift.yaml`.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub(super) flag_env: GlobSet,
    pub(super) flag_configmaps: GlobSet,
    /// The fingerprint key of this run; Secret fingerprints made with another
    /// key cannot be compared.
    pub(crate) key_id: String,
    /// Name rewrites of this environment (`checkout-stg` → `checkout`), so
    /// that workloads and ConfigMaps line up with other environments.
    pub(super) renames: Vec<(regex::Regex, String)>,
}

impl Options {
    pub(crate) fn new(
        flag_patterns: &[String],
        flag_configmaps: &[String],
        key_id: &str,
    ) -> Result<Self> {
        Ok(Options {
            flag_env: globs(flag_patterns, "flags.env")?,
            flag_configmaps: globs(flag_configmaps, "flags.configmaps")?,
            key_id: key_id.to_string(),
            renames: Vec::new(),
        })
    }

    /// Adds name rewrites: `(regex, replacement)` with `$1`-style groups;
    /// the first rule that matches a name rewrites it.
    pub(crate) fn with_renames(mut self, renames: &[(String, String)]) -> Result<Self> {
        self.renames = renames
            .iter()
            .map(|(pattern, replace)| {
                regex::Regex::new(pattern)
                    .map(|r| (r, replace.clone()))
                    .map_err(|e| Error::Usage(format!("rename: invalid pattern {pattern:?}: {e}")))
            })
            .collect::<Result<_>>()?;
        Ok(self)
    }

    /// A workload's or ConfigMap's name after this environment's rewrites.
    pub(super) fn rename(&self, name: &str) -> String {
        for (re, replace) in &self.renames {
            if re.is_match(name) {
                return re.replace(name, replace.as_str()).into_owned();
            }
        }
        name.to_string()
    }

    #[cfg(test)]
    pub(crate) fn with_defaults(key_id: &str) -> Self {
        let patterns: Vec<String> = DEFAULT_FLAG_PATTERNS
            .iter()
            .map(|s| s.to_string())
            .collect();
        Options::new(&patterns, &[], key_id).expect("default flag patterns are valid globs")
    }

    pub(super) fn is_flag(&self, name: &str) -> bool {
        self.flag_env.is_match(name)
    }
}

pub(super) fn globs(patterns: &[String], field: &str) -> Result<GlobSet> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        let g =
            Glob::new(p).map_err(|e| Error::Usage(format!("{field}: invalid glob {p:?}: {e}")))?;
        b.add(g);
    }
    b.build().map_err(|e| Error::Usage(format!("{field}: {e}")))
}
