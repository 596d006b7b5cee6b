//! Every limit confdrift puts on what it reads, in one place: the size of a
//! file, of a value, of a YAML tree, and the work spent on one input. Each
//! says why it is what it is; the README's "Limits" table lists them.
//!
//! A leaf: it uses nothing of confdrift, and holds no logic, only numbers.

// ---- Files ----

/// The largest file confdrift reads: 256 MiB. A `kubectl get -o json` dump
/// of some 50,000 pods fits; anything larger is refused before it is read,
/// so a wrong path (a disk image, `/dev/zero`) cannot exhaust memory.
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// The largest object confdrift reads from an object store (compressed):
/// the same 256 MiB as a file ([`MAX_FILE_BYTES`]).
pub const MAX_OBJECT_BYTES: u64 = MAX_FILE_BYTES;

/// The largest history index read: the runs of years and every open finding.
pub const MAX_INDEX_BYTES: u64 = 64 * 1024 * 1024;

// ---- Manifests ----

/// The largest value read (a ConfigMap or Secret key, an env value): 1 MiB,
/// what Kubernetes allows a whole ConfigMap or Secret, so no real object
/// has a larger one; it also bounds the line diffs of config files and the
/// `$(VAR)` expansion of one value.
pub const MAX_VALUE_BYTES: usize = 1024 * 1024;

/// The deepest nesting of YAML flow collections (`[…]`, `{…}`) read: 128,
/// the recursion limit serde_yaml and serde_json apply anyway. It is checked
/// before parsing because libyaml's scanner spends time proportional to this
/// depth on every token: 100,000 `[` would take minutes.
pub const MAX_NESTING: usize = 128;

/// The most nodes one YAML document may hold, aliases counted as what they
/// expand to: 10 million, about 100 MB of `kubectl get -o yaml`. serde_yaml
/// keeps all of a document's events in memory (up to some 250 bytes a
/// node), and replays an anchored node at every alias, so this bounds both
/// memory and "billion laughs" alias bombs. JSON is read item by item.
pub const MAX_YAML_NODES: usize = 10_000_000;

/// How many bytes of one document may be parsed again to find the lines of
/// values the API server would refuse: 16 MiB. Each one is found by
/// reading the document from its start, so a hostile document with a
/// hundred thousand of them would otherwise take hours; past the budget a
/// value is reported at the document's first line.
pub const LOCATE_BUDGET_BYTES: usize = 16 * 1024 * 1024;

// ---- confdrift.yaml ----

/// The largest config file read: 1 MiB. One names its environments, rename
/// rules and flag globs in a few kilobytes; anything near the limit is the
/// wrong file (`--config dump.yaml`, `/dev/zero`), refused before it fills
/// memory.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// The deepest nesting of a config file: 32 levels of mappings and lists
/// (one needs 5). Checked before serde_yaml parses it, because its scanner
/// (libyaml) spends time proportional to the depth of `[`/`{` on every
/// token: half a million `[` took minutes.
pub const MAX_CONFIG_DEPTH: usize = 32;

// ---- Policies ----

/// The largest policy file read: 16 MiB. A policy of a thousand rules and
/// waivers takes a few hundred kilobytes; 16 MiB leaves room for generated
/// ones and refuses a wrong path (a dump, `/dev/zero`) before it fills
/// memory. Within it, [`MAX_POLICY_NODES`] bounds the tree parsed from it.
pub const MAX_POLICY_BYTES: u64 = 16 * 1024 * 1024;

/// The most nodes a policy file may hold, aliases counted as what they
/// expand to: a million, far beyond any real policy. Aliases are expanded
/// into the tree, so without it a "billion laughs" file of a few hundred
/// bytes would take gigabytes.
pub const MAX_POLICY_NODES: usize = 1_000_000;

/// The deepest nesting of a policy file: 128 levels (a policy needs 5).
/// The tree is dropped and decoded recursively, so this bounds the stack.
pub const MAX_POLICY_DEPTH: usize = 128;

// ---- Comparing ----

/// No line diff is drawn when either side has more lines than this, or more
/// bytes than [`MAX_DIFF_BYTES`]: the diff's time grows with the product of
/// the sides' lengths (two 1 MiB values of 500,000 lines took seconds, and
/// values may be that large), and a diff that long is not read. A size cut
/// rather than a timeout, so the same input always gives the same report;
/// a one-line note says what was skipped and why. Two sides of 10,000
/// lines each, all different, take a few tenths of a second.
pub const MAX_DIFF_LINES: usize = 10_000;

/// See [`MAX_DIFF_LINES`]: 256 KiB per side.
pub const MAX_DIFF_BYTES: usize = 256 * 1024;
