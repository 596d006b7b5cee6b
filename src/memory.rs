//! The memory limit confdrift runs under, and how many environments it
//! reads at once within it.
//!
//! A CronJob's `resources.limits.memory` is its container's cgroup limit:
//! past it the kernel kills the job, and a killed nightly job reports
//! nothing. Reading every environment at once is fastest, and reading one
//! at a time needs the least memory (each holds its raw objects while it is
//! read), so without `--jobs` confdrift reads as many at once as the limit
//! has room for.
//!
//! A leaf: it reads two files of the kernel's and uses nothing of
//! confdrift.

use std::path::{Path, PathBuf};

/// The room one environment being read takes, in the worst case measured:
/// 50,000 pods of 40 variables each (benches/README.md) peak at about
/// 130 MB above the finished ones, and the comparison of three needs the
/// rest. One environment at a time for each 512 MiB of limit.
pub const ROOM_PER_ENVIRONMENT: u64 = 512 * 1024 * 1024;

/// How many environments to read at once: all of them without a memory
/// limit, else one for each [`ROOM_PER_ENVIRONMENT`] of it, at least one.
pub fn default_jobs(envs: usize, limit: Option<u64>) -> usize {
    let envs = envs.max(1);
    match limit {
        None => envs,
        Some(bytes) => usize::try_from(bytes / ROOM_PER_ENVIRONMENT)
            .unwrap_or(usize::MAX)
            .clamp(1, envs),
    }
}

/// The memory limit of this process's cgroup, in bytes, if one is set: the
/// smallest `memory.max` of its cgroup and the ones above it (cgroup v2),
/// else `memory.limit_in_bytes` (cgroup v1). Inside a container
/// `/sys/fs/cgroup` is the container's own cgroup.
pub fn cgroup_limit() -> Option<u64> {
    let own = std::fs::read_to_string("/proc/self/cgroup").ok();
    limit_under(Path::new("/sys/fs/cgroup"), own.as_deref())
}

/// [`cgroup_limit`] with the cgroup filesystem mounted at `root` and
/// `/proc/self/cgroup` reading `own`.
pub fn limit_under(root: &Path, own: Option<&str>) -> Option<u64> {
    let lines = || own.into_iter().flat_map(str::lines);
    // cgroup v2: the line `0::/path/of/the/cgroup`.
    let v2 = lines()
        .find_map(|l| l.strip_prefix("0::"))
        .and_then(|path| smallest(root, path, "memory.max"));
    // cgroup v1: the line `N:memory:/path` (or `N:cpu,memory:/path`), under
    // the `memory` hierarchy; "unlimited" is a number near 2^63.
    let v1 = || {
        let path = lines().find_map(|l| {
            let mut parts = l.splitn(3, ':');
            let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
            controllers
                .split(',')
                .any(|c| c == "memory")
                .then_some(path)
        })?;
        smallest(&root.join("memory"), path, "memory.limit_in_bytes").filter(|&b| b < 1 << 60)
    };
    v2.or_else(v1)
}

/// The smallest number in `file` of the cgroup at `path` under `root` and
/// of every cgroup above it: a parent's limit (a pod's, a systemd slice's)
/// holds for its children.
fn smallest(root: &Path, path: &str, file: &str) -> Option<u64> {
    let mut dir: PathBuf = root.join(path.trim().trim_start_matches('/'));
    let mut limit: Option<u64> = None;
    loop {
        if let Some(bytes) = read_limit(&dir.join(file)) {
            limit = Some(limit.map_or(bytes, |l| l.min(bytes)));
        }
        if dir.as_path() == root || !dir.pop() || !dir.starts_with(root) {
            return limit;
        }
    }
}

/// A limit file's number; `max` (no limit) and anything unreadable: none.
fn read_limit(path: &Path) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024;

    #[test]
    fn without_a_limit_every_environment_is_read_at_once() {
        assert_eq!(default_jobs(3, None), 3);
        assert_eq!(default_jobs(0, None), 1);
    }

    #[test]
    fn a_cronjob_limit_of_256mi_reads_one_environment_at_a_time() {
        assert_eq!(default_jobs(3, Some(256 * MIB)), 1);
        assert_eq!(default_jobs(3, Some(512 * MIB)), 1);
        assert_eq!(default_jobs(3, Some(1024 * MIB)), 2);
        assert_eq!(default_jobs(3, Some(64 * 1024 * MIB)), 3);
        assert_eq!(default_jobs(3, Some(1)), 1);
    }

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn the_smallest_memory_max_of_the_cgroup_and_its_parents_is_the_limit() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        write(&r.join("memory.max"), "max\n");
        write(&r.join("kubepods/memory.max"), "1073741824\n");
        write(&r.join("kubepods/pod1/memory.max"), "max\n");
        write(&r.join("kubepods/pod1/c1/memory.max"), "268435456\n");
        let own = "0::/kubepods/pod1/c1\n";
        assert_eq!(limit_under(r, Some(own)), Some(256 * MIB));
        // A parent's limit holds when the cgroup's own is `max`.
        write(&r.join("kubepods/pod1/c1/memory.max"), "max\n");
        assert_eq!(limit_under(r, Some(own)), Some(1024 * MIB));
    }

    #[test]
    fn no_limit_anywhere_is_none_and_cgroup_v1_unlimited_is_none() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        write(&r.join("memory.max"), "max\n");
        assert_eq!(limit_under(r, Some("0::/\n")), None);
        assert_eq!(limit_under(r, None), None);
        // cgroup v1: a number near 2^63 means no limit; a real one counts.
        write(
            &r.join("memory/memory.limit_in_bytes"),
            "9223372036854771712\n",
        );
        let own = "4:memory:/job/c1\n0::/\n";
        assert_eq!(limit_under(r, Some(own)), None);
        write(&r.join("memory/job/memory.limit_in_bytes"), "536870912\n");
        assert_eq!(limit_under(r, Some(own)), Some(512 * MIB));
    }
}
