//! Lining environments up: names that differ only by an environment's own
//! prefix or suffix are compared under one name, and environments that
//! still do not line up are reported instead of passing as "all missing".
//!
//! kustomize's `namePrefix`/`nameSuffix` rename every object of an overlay
//! and every reference to it (`staging-checkout`, `checkout-stg`), so the
//! same application has different names in each environment. Without this
//! step every workload is "missing" somewhere, no value is compared, and the
//! gate passes: the silent pass confdrift exists to prevent.
//!
//! Only what is certain is stripped: an affix carried by *every* workload
//! and ConfigMap name of an environment, not by every name of the others,
//! and only when stripping makes more names meet. When two ways of
//! stripping line up equally well, nothing is stripped and the ambiguity is
//! reported. Pure: works on inventories, never guesses silently.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{Inventory, Issue, Name, Problem, Scope, Severity};

/// Characters an affix must end (prefix) or start (suffix) with: kustomize
/// overlays use `staging-`, `-stg`, and sometimes `.` or `_`.
const SEPARATORS: &[char] = &['-', '.', '_'];

/// At most this many candidate prefixes (and suffixes) per environment: the
/// longest common prefix of one or two names has many separators, none of
/// which is more likely than the shorter ones.
const MAX_CANDIDATES: usize = 4;

/// Above this many combinations of candidates the search goes environment
/// by environment instead of trying every combination.
const MAX_COMBINATIONS: usize = 4096;

/// How many names of each side a `environments-do-not-line-up` message shows.
const SHOWN_NAMES: usize = 4;

/// What is stripped from one environment's names.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Affix {
    pub(crate) prefix: String,
    pub(crate) suffix: String,
}

impl Affix {
    fn is_empty(&self) -> bool {
        self.prefix.is_empty() && self.suffix.is_empty()
    }

    fn len(&self) -> usize {
        self.prefix.len() + self.suffix.len()
    }

    /// `removing prefix `staging-``, `removing prefix `s-` and suffix `-x``.
    fn describe(&self) -> String {
        match (self.prefix.is_empty(), self.suffix.is_empty()) {
            (false, true) => format!("removing prefix `{}`", self.prefix),
            (true, false) => format!("removing suffix `{}`", self.suffix),
            _ => format!(
                "removing prefix `{}` and suffix `{}`",
                self.prefix, self.suffix
            ),
        }
    }

    /// The name without the affix; `None` when it does not carry it or
    /// nothing would be left.
    fn strip<'a>(&self, name: &'a str) -> Option<&'a str> {
        let rest = name.strip_prefix(self.prefix.as_str())?;
        let rest = rest.strip_suffix(self.suffix.as_str())?;
        (!rest.is_empty()).then_some(rest)
    }
}

/// Lines the environments up (see the module docs), then checks that they
/// overlap: when fewer than half of the workloads of the smaller of an
/// environment and the baseline have a counterpart in the other, the
/// environment gets an `environments-do-not-line-up` problem that makes it
/// incomplete. `auto` off keeps the names as they are (the overlap is still
/// checked).
pub(crate) fn line_up(invs: &mut [Inventory], baseline: &str, auto: bool) {
    if auto && invs.len() > 1 {
        let affixes = choose_affixes(invs);
        for (inv, outcome) in invs.iter_mut().zip(affixes) {
            match outcome {
                Choice::Strip(affix) => {
                    let message = format!("names lined up by {}", affix.describe());
                    apply(inv, &affix);
                    inv.problems.push(Problem {
                        code: crate::codes::ProblemCode::NamesLinedUp.into(),
                        severity: Severity::Info,
                        incomplete: false,
                        location: inv.source.clone(),
                        message,
                    });
                }
                Choice::Ambiguous(options) => {
                    let options: Vec<String> = options.iter().map(Affix::describe).collect();
                    inv.problems.push(Problem {
                        code: crate::codes::ProblemCode::NamesAmbiguous.into(),
                        severity: Severity::Warning,
                        incomplete: false,
                        location: inv.source.clone(),
                        message: format!(
                            "names could be lined up with the other environments by {}, equally \
                             well; none was applied. Say which with --rename {}:REGEX=REPLACEMENT \
                             or `rename:` in confdrift.yaml",
                            options.join(" or by "),
                            inv.env
                        ),
                    });
                }
                Choice::Keep => {}
            }
            inv.problems.sort();
        }
    }
    check_overlap(invs, baseline);
    super::fill_missing_mounts(invs);
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Choice {
    Keep,
    Strip(Affix),
    Ambiguous(Vec<Affix>),
}

/// The names an environment is compared under, without namespace
/// qualifiers (`ns/name` → `name`).
fn names(inv: &Inventory) -> BTreeSet<&str> {
    inv.workloads
        .keys()
        .chain(inv.configmaps.iter())
        .map(|n| unqualified(n))
        .collect()
}

fn unqualified(id: &str) -> &str {
    id.rsplit_once('/').map_or(id, |(_, name)| name)
}

/// The affixes an environment's names could carry: prefixes of their
/// longest common prefix that end with a separator, suffixes of their
/// longest common suffix that start with one, and every combination.
fn candidates(names: &BTreeSet<&str>) -> Vec<Affix> {
    let mut out = vec![Affix::default()];
    let Some(first) = names.iter().next() else {
        return out;
    };
    let mut lcp = *first;
    let mut lcs = *first;
    for n in names {
        lcp = &lcp[..common_prefix_len(lcp, n)];
        lcs = &lcs[lcs.len() - common_suffix_len(lcs, n)..];
    }
    let prefixes: Vec<&str> = lcp
        .char_indices()
        .filter(|(_, c)| SEPARATORS.contains(c))
        .map(|(i, c)| &lcp[..i + c.len_utf8()])
        .filter(|p| p.len() > 1)
        .rev()
        .take(MAX_CANDIDATES)
        .collect();
    let suffixes: Vec<&str> = lcs
        .char_indices()
        .filter(|(_, c)| SEPARATORS.contains(c))
        .map(|(i, _)| &lcs[i..])
        .filter(|s| s.len() > 1)
        .take(MAX_CANDIDATES)
        .collect();
    for p in prefixes.iter().copied().chain([""]) {
        for s in suffixes.iter().copied().chain([""]) {
            let affix = Affix {
                prefix: p.to_string(),
                suffix: s.to_string(),
            };
            if affix.is_empty() {
                continue;
            }
            // Every name keeps something, and no two names become one.
            let stripped: Option<BTreeSet<&str>> = names.iter().map(|n| affix.strip(n)).collect();
            if stripped.is_some_and(|s| s.len() == names.len()) {
                out.push(affix);
            }
        }
    }
    out
}

/// Bytes at the start of `a` and `b` that are equal, on a char boundary.
fn common_prefix_len(a: &str, b: &str) -> usize {
    a.char_indices()
        .zip(b.chars())
        .find(|((_, x), y)| x != y)
        .map_or(a.len().min(b.len()), |((i, _), _)| i)
}

/// Bytes at the end of `a` and `b` that are equal, on a char boundary.
fn common_suffix_len(a: &str, b: &str) -> usize {
    let mut n = 0;
    for (x, y) in a.chars().rev().zip(b.chars().rev()) {
        if x != y {
            break;
        }
        n += x.len_utf8();
    }
    n
}

/// How well the environments meet: for every pair, how many names they
/// share.
fn score(stripped: &[BTreeSet<&str>]) -> usize {
    let mut total = 0;
    for (i, a) in stripped.iter().enumerate() {
        for b in &stripped[i + 1..] {
            total += a.intersection(b).count();
        }
    }
    total
}

fn stripped<'a>(names: &BTreeSet<&'a str>, affix: &Affix) -> BTreeSet<&'a str> {
    names.iter().filter_map(|n| affix.strip(n)).collect()
}

/// Per environment: keep, strip an affix, or report that it is ambiguous.
fn choose_affixes(invs: &[Inventory]) -> Vec<Choice> {
    let all: Vec<BTreeSet<&str>> = invs.iter().map(names).collect();
    let options: Vec<Vec<Affix>> = all.iter().map(candidates).collect();
    let views: Vec<Vec<BTreeSet<&str>>> = all
        .iter()
        .zip(&options)
        .map(|(names, opts)| opts.iter().map(|a| stripped(names, a)).collect())
        .collect();
    let keep = vec![0usize; invs.len()];
    let base = score(&all);

    let combinations = options
        .iter()
        .try_fold(1usize, |acc, o| acc.checked_mul(o.len()))
        .unwrap_or(usize::MAX);
    // Every best choice, with the total length stripped.
    let mut best: Vec<Vec<usize>> = Vec::new();
    let mut best_score = base;
    let mut consider = |choice: &[usize]| {
        let view: Vec<BTreeSet<&str>> = choice
            .iter()
            .enumerate()
            .map(|(e, &o)| views[e][o].clone())
            .collect();
        let s = score(&view);
        if s > best_score {
            best_score = s;
            best = vec![choice.to_vec()];
        } else if s == best_score && s > base {
            best.push(choice.to_vec());
        }
    };
    if combinations <= MAX_COMBINATIONS {
        let mut choice = keep.clone();
        loop {
            consider(&choice);
            // The next combination, like an odometer.
            let mut e = 0;
            while e < choice.len() {
                choice[e] += 1;
                if choice[e] < options[e].len() {
                    break;
                }
                choice[e] = 0;
                e += 1;
            }
            if e == choice.len() {
                break;
            }
        }
    } else {
        // Each environment's own affixes against the others as they are.
        let mut choice = keep.clone();
        for e in 0..invs.len() {
            for o in 0..options[e].len() {
                choice[e] = o;
                consider(&choice);
            }
            choice[e] = 0;
        }
    }
    if best.is_empty() {
        return vec![Choice::Keep; invs.len()];
    }
    // The least stripping that meets as well: `staging-` rather than
    // `staging-shop-` when both work.
    let length = |c: &Vec<usize>| -> usize {
        c.iter()
            .enumerate()
            .map(|(e, &o)| options[e][o].len())
            .sum()
    };
    let least = best.iter().map(length).min().unwrap_or(0);
    best.retain(|c| length(c) == least);
    (0..invs.len())
        .map(|e| {
            let picked: BTreeSet<usize> = best.iter().map(|c| c[e]).collect();
            match picked.len() {
                1 => match picked.into_iter().next() {
                    Some(0) | None => Choice::Keep,
                    Some(o) => Choice::Strip(options[e][o].clone()),
                },
                _ => Choice::Ambiguous(
                    picked
                        .into_iter()
                        .filter(|&o| o != 0)
                        .map(|o| options[e][o].clone())
                        .collect(),
                ),
            }
        })
        .collect()
}

/// Renames every workload and ConfigMap of `inv`, remembering the names as
/// they were in `renamed`.
fn apply(inv: &mut Inventory, affix: &Affix) {
    let rename = |id: &str| -> String {
        let (ns, name) = match id.rsplit_once('/') {
            Some((ns, name)) => (Some(ns), name),
            None => (None, id),
        };
        let name = affix.strip(name).unwrap_or(name);
        match ns {
            Some(ns) => format!("{ns}/{name}"),
            None => name.to_string(),
        }
    };
    let mut renamed = BTreeMap::new();
    for id in inv.workloads.keys().chain(inv.configmaps.iter()) {
        let new = rename(id);
        if new != *id {
            let original = inv.renamed.remove(id).unwrap_or_else(|| id.clone());
            renamed.insert(new, original);
        }
    }
    inv.renamed.append(&mut renamed);
    inv.workloads = std::mem::take(&mut inv.workloads)
        .into_iter()
        .map(|(k, v)| (rename(&k), v))
        .collect();
    inv.configmaps = std::mem::take(&mut inv.configmaps)
        .iter()
        .map(|k| rename(k))
        .collect();
    inv.configmap_origins = std::mem::take(&mut inv.configmap_origins)
        .into_iter()
        .map(|(k, v)| (rename(&k), v))
        .collect();
    inv.runtime_read = std::mem::take(&mut inv.runtime_read)
        .into_iter()
        .map(|(w, c)| (rename(&w), c))
        .collect();
    let rename_scope = |scope: &mut Scope| match scope {
        Scope::Container { workload, .. } => *workload = Name::from(rename(workload)),
        Scope::ConfigMap { name } => *name = Name::from(rename(name)),
    };
    inv.entries = std::mem::take(&mut inv.entries)
        .into_iter()
        .map(|(mut subject, entry)| {
            rename_scope(&mut subject.scope);
            (subject, entry)
        })
        .collect();
    for issue in &mut inv.issues {
        match issue {
            Issue::DanglingReference { workload, .. } | Issue::StalePods { workload, .. } => {
                *workload = rename(workload)
            }
            Issue::Skew { subject, .. } => rename_scope(&mut subject.scope),
            Issue::RejectedByApiServer {
                workload,
                configmap,
                ..
            } => {
                for name in [workload, configmap].into_iter().flatten() {
                    *name = rename(name);
                }
            }
        }
    }
    inv.issues.sort();
}

/// Reports every environment whose workloads mostly have no counterpart in
/// the baseline (or the baseline's in it, whichever has fewer).
fn check_overlap(invs: &mut [Inventory], baseline: &str) {
    let Some(b) = invs.iter().position(|i| i.env == baseline) else {
        return;
    };
    let base: BTreeSet<String> = invs[b].workloads.keys().cloned().collect();
    let base_env = invs[b].env.clone();
    for (e, inv) in invs.iter_mut().enumerate() {
        if e == b {
            continue;
        }
        let mine: BTreeSet<&String> = inv.workloads.keys().collect();
        let smaller = mine.len().min(base.len());
        if smaller == 0 {
            continue;
        }
        let matched = mine.iter().filter(|w| base.contains(w.as_str())).count();
        if matched * 2 >= smaller {
            continue;
        }
        let only_mine: Vec<&str> = mine
            .iter()
            .filter(|w| !base.contains(w.as_str()))
            .take(SHOWN_NAMES)
            .map(|s| s.as_str())
            .collect();
        let only_base: Vec<&str> = base
            .iter()
            .filter(|w| !inv.workloads.contains_key(*w))
            .take(SHOWN_NAMES)
            .map(String::as_str)
            .collect();
        let (which, total) = if mine.len() <= base.len() {
            (inv.env.as_str(), mine.len())
        } else {
            (base_env.as_str(), base.len())
        };
        let message = format!(
            "only {matched} of the {total} workloads of {which} have a counterpart in the other \
             environment ({env} has {} …; {base_env} has {} …), so almost nothing was compared. \
             If they are the same application under other names, line the names up with \
             --rename {env}:'^PREFIX-(.*)$'='$1' or `rename:` in confdrift.yaml; if the sources \
             are wrong, fix them",
            only_mine.join(", "),
            only_base.join(", "),
            env = inv.env,
        );
        inv.problems.push(Problem {
            code: crate::codes::ProblemCode::EnvironmentsDoNotLineUp.into(),
            severity: Severity::Critical,
            incomplete: true,
            location: inv.source.clone(),
            message,
        });
        inv.problems.sort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::WorkloadInfo;

    fn inv(env: &str, workloads: &[&str], configmaps: &[&str]) -> Inventory {
        Inventory {
            env: env.into(),
            source: format!("{env}.yaml"),
            workloads: workloads
                .iter()
                .map(|w| (w.to_string(), WorkloadInfo::default()))
                .collect(),
            configmaps: configmaps.iter().map(|c| c.to_string()).collect(),
            ..Inventory::default()
        }
    }

    fn workloads(inv: &Inventory) -> Vec<&str> {
        inv.workloads.keys().map(String::as_str).collect()
    }

    fn codes(inv: &Inventory) -> Vec<&str> {
        inv.problems.iter().map(|p| p.code.as_str()).collect()
    }

    #[test]
    fn kustomize_name_prefix_on_both_overlays_is_stripped_from_both() {
        let mut invs = vec![
            inv(
                "staging",
                &["staging-cart", "staging-checkout"],
                &["staging-shop-config"],
            ),
            inv(
                "prod",
                &["prod-cart", "prod-checkout"],
                &["prod-shop-config"],
            ),
        ];
        line_up(&mut invs, "prod", true);
        assert_eq!(workloads(&invs[0]), ["cart", "checkout"]);
        assert_eq!(workloads(&invs[1]), ["cart", "checkout"]);
        assert!(invs[1].configmaps.contains("shop-config"));
        assert_eq!(invs[0].renamed["cart"], "staging-cart");
        assert_eq!(
            invs[0].problems[0].message,
            "names lined up by removing prefix `staging-`"
        );
        assert!(invs.iter().all(Inventory::complete));
    }

    #[test]
    fn name_suffix_on_one_environment_is_stripped_and_the_other_kept() {
        let mut invs = vec![
            inv("staging", &["cart-stg", "checkout-stg"], &["config-stg"]),
            inv("prod", &["cart", "checkout"], &["config"]),
        ];
        line_up(&mut invs, "prod", true);
        assert_eq!(workloads(&invs[0]), ["cart", "checkout"]);
        assert_eq!(codes(&invs[0]), ["names-lined-up"]);
        assert!(invs[1].problems.is_empty());
        assert!(invs[1].renamed.is_empty());
    }

    #[test]
    fn a_prefix_every_environment_shares_is_left_alone() {
        let mut invs = vec![
            inv("staging", &["shop-cart", "shop-checkout"], &[]),
            inv("prod", &["shop-cart", "shop-checkout"], &[]),
        ];
        line_up(&mut invs, "prod", true);
        assert_eq!(workloads(&invs[0]), ["shop-cart", "shop-checkout"]);
        assert!(invs.iter().all(|i| i.problems.is_empty()));
    }

    #[test]
    fn one_workload_candidate_against_a_large_prod_keeps_its_name_and_passes_the_overlap() {
        let mut invs = vec![
            inv("candidate", &["checkout-server"], &[]),
            inv(
                "prod",
                &["cart", "checkout-server", "frontend", "payments", "search"],
                &[],
            ),
        ];
        line_up(&mut invs, "prod", true);
        assert_eq!(workloads(&invs[0]), ["checkout-server"]);
        assert!(invs.iter().all(|i| i.problems.is_empty()), "{invs:?}");
    }

    #[test]
    fn a_release_prefix_on_a_single_workload_candidate_is_stripped() {
        let mut invs = vec![
            inv("candidate", &["shop-checkout"], &["shop-checkout-config"]),
            inv("prod", &["cart", "checkout"], &["checkout-config"]),
        ];
        line_up(&mut invs, "prod", true);
        assert_eq!(workloads(&invs[0]), ["checkout"]);
    }

    #[test]
    fn environments_that_do_not_line_up_are_incomplete_with_names_and_a_rename_hint() {
        let mut invs = vec![
            inv("staging", &["alpha", "beta", "gamma"], &[]),
            inv("prod", &["delta", "epsilon", "zeta"], &[]),
        ];
        line_up(&mut invs, "prod", true);
        assert!(!invs[0].complete());
        let p = &invs[0].problems[0];
        assert_eq!(p.code, "environments-do-not-line-up");
        assert!(
            p.message.contains("only 0 of the 3 workloads"),
            "{}",
            p.message
        );
        assert!(p.message.contains("alpha, beta, gamma"), "{}", p.message);
        assert!(p.message.contains("delta, epsilon, zeta"), "{}", p.message);
        assert!(p.message.contains("--rename staging:"), "{}", p.message);
        assert!(invs[1].complete());
    }

    #[test]
    fn half_the_workloads_lining_up_is_enough() {
        let mut invs = vec![
            inv("staging", &["a", "b", "x", "y"], &[]),
            inv("prod", &["a", "b", "c", "d"], &[]),
        ];
        line_up(&mut invs, "prod", false);
        assert!(invs[0].complete());
    }

    #[test]
    fn two_equally_good_ways_of_stripping_are_reported_not_guessed() {
        let mut invs = vec![
            inv("staging", &["a-b-c"], &[]),
            inv("prod", &["a-b", "b-c"], &[]),
        ];
        line_up(&mut invs, "prod", true);
        assert_eq!(workloads(&invs[0]), ["a-b-c"]);
        // Nothing lined up, so the overlap check speaks too.
        assert_eq!(
            codes(&invs[0]),
            ["environments-do-not-line-up", "names-ambiguous"]
        );
        assert!(
            invs[0].problems[1]
                .message
                .contains("removing prefix `a-` or by removing suffix `-c`"),
            "{}",
            invs[0].problems[1].message
        );
    }

    #[test]
    fn namespace_qualified_names_are_stripped_after_the_namespace() {
        let mut i = inv("staging", &["a/staging-web", "b/staging-web"], &[]);
        apply(
            &mut i,
            &Affix {
                prefix: "staging-".into(),
                suffix: String::new(),
            },
        );
        assert_eq!(workloads(&i), ["a/web", "b/web"]);
    }

    #[test]
    fn turning_auto_off_keeps_names_but_still_reports_no_overlap() {
        let mut invs = vec![
            inv("staging", &["staging-a", "staging-b"], &[]),
            inv("prod", &["a", "b"], &[]),
        ];
        line_up(&mut invs, "prod", false);
        assert_eq!(workloads(&invs[0]), ["staging-a", "staging-b"]);
        assert_eq!(codes(&invs[0]), ["environments-do-not-line-up"]);
    }
}
