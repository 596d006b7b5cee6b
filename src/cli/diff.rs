//! `confdrift diff A B`: what differs between two environments.

use crate::error::{Error, Result};

/// The baseline of `diff A B`, as in `audit`: `--baseline` (one of the
/// two), else the configured baseline when it is one of the two, else the
/// one of them configured last (audit's default is the last environment).
pub(super) fn diff_baseline(
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
