//! `confdrift policy lint`: checks policy files and lists every problem.

use std::path::PathBuf;

use super::output::emit;
use super::today;
use crate::error::{Error, Result};
use crate::policy;
use crate::report::exit;

/// `confdrift policy lint`: every problem of every file, then a summary.
pub(super) fn run(paths: Vec<PathBuf>) -> Result<i32> {
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
