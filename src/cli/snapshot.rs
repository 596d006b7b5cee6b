//! `confdrift snapshot`: one environment saved as a source for later audits.

use super::args::SnapshotArgs;
use super::now;
use super::progress::Bars;
use crate::app;
use crate::error::{Error, Result};
use crate::fingerprint::FingerprintKey;
use crate::report::exit;

/// `confdrift snapshot`: warns when the fingerprint key is a one-off, so
/// the snapshot's Secrets could not be compared with another run's.
pub(super) fn run(args: SnapshotArgs, key: &FingerprintKey) -> Result<i32> {
    let SnapshotArgs { envs, output } = args;
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
    let snapshot = app::snapshot(name, source, key, now()?, &Bars::for_stderr())?;
    let written = app::save_snapshot(snapshot, &output)?;
    eprintln!("confdrift: wrote snapshot of {name} to {written}");
    Ok(exit::OK)
}
