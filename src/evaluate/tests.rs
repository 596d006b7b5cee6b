//! The rule engine, end to end from policy text to findings: every check,
//! selector, unit conversion, waiver state, and what is (not) suppressed.
//! Inventories are built by hand so each test shows exactly the values it
//! is about.

use std::collections::BTreeMap;

use super::{Evaluation, evaluate};
use crate::compare::compare;
use crate::model::{
    ConfigKind, Entry, Finding, Fingerprint, Inventory, Provenance, Scope, Severity, Subject,
    Value, WorkloadInfo,
};
use crate::policy::{Date, load_sources};

mod checks;
mod one_cause;
mod select;
mod unmatched;
mod unreadable;
mod waivers;

const HEAD: &str = "apiVersion: confdrift/v1\nkind: Policy\n";

fn today() -> Date {
    crate::policy::date::parse("2026-06-01").expect("a date")
}

/// One environment: workload `app` with container `main` in namespace `shop`.
struct Env {
    inv: Inventory,
    /// The subject added last, for `from`.
    last: Option<Subject>,
}

fn env(name: &str) -> Env {
    let mut inv = Inventory {
        env: name.to_string(),
        source: format!("{name}.yaml"),
        ..Inventory::default()
    };
    inv.workloads.insert(
        "app".into(),
        WorkloadInfo {
            kind: "Deployment".into(),
            namespace: "shop".into(),
            pods: 1,
            containers: ["main".to_string()].into_iter().collect(),
            origin: None,
        },
    );
    Env { inv, last: None }
}

impl Env {
    fn put(mut self, scope: Scope, kind: ConfigKind, key: &str, value: Value) -> Self {
        let subject = Subject {
            scope,
            kind,
            key: key.into(),
        };
        self.last = Some(subject.clone());
        self.inv.entries.insert(
            subject,
            Entry {
                value,
                provenance: Provenance::Literal,
                namespace: "shop".into(),
            },
        );
        self
    }
    /// `KEY=value` in app/main.
    fn var(self, key: &str, value: &str) -> Self {
        self.put(main(), ConfigKind::Env, key, Value::Text(value.into()))
    }
    fn flag(self, key: &str, value: &str) -> Self {
        self.put(main(), ConfigKind::Flag, key, Value::Text(value.into()))
    }
    fn secret(self, key: &str, mac: &str) -> Self {
        self.put(
            main(),
            ConfigKind::Env,
            key,
            Value::Secret(Box::new(Fingerprint {
                key_id: "k".into(),
                mac: mac.into(),
            })),
        )
    }
    fn workload(mut self, workload: &str, container: &str, ns: &str) -> Self {
        self.inv
            .workloads
            .entry(workload.into())
            .or_insert_with(|| WorkloadInfo {
                kind: "Deployment".into(),
                namespace: ns.into(),
                pods: 1,
                containers: Default::default(),
                origin: None,
            })
            .containers
            .insert(container.into());
        self
    }
    fn at(mut self, workload: &str, container: &str, key: &str, value: &str, ns: &str) -> Self {
        self = self.workload(workload, container, ns);
        let subject = Subject {
            scope: Scope::Container {
                workload: workload.into(),
                container: container.into(),
            },
            kind: ConfigKind::Env,
            key: key.into(),
        };
        self.last = Some(subject.clone());
        self.inv.entries.insert(
            subject,
            Entry {
                value: Value::Text(value.into()),
                provenance: Provenance::Literal,
                namespace: ns.into(),
            },
        );
        self
    }
    fn cm(mut self, name: &str, key: &str, value: &str) -> Self {
        self.inv.configmaps.insert(name.into());
        self.put(
            Scope::ConfigMap { name: name.into() },
            ConfigKind::ConfigMap,
            key,
            Value::Text(value.into()),
        )
        .from(Provenance::ConfigMapData {
            name: name.into(),
            key: key.into(),
        })
    }
    /// Sets the provenance of the entry added last.
    fn from(mut self, provenance: Provenance) -> Self {
        if let Some(s) = self.last.clone()
            && let Some(e) = self.inv.entries.get_mut(&s)
        {
            e.provenance = provenance;
        }
        self
    }
}

fn main() -> Scope {
    Scope::Container {
        workload: "app".into(),
        container: "main".into(),
    }
}

fn eval_at(policy: &str, envs: Vec<Env>, day: Date) -> Evaluation {
    let loaded = load_sources(&[("test.yaml".to_string(), format!("{HEAD}{policy}"))], day);
    assert_eq!(loaded.errors(), 0, "{}", loaded.render(None));
    let invs: Vec<Inventory> = envs.into_iter().map(|e| e.inv).collect();
    let baseline = invs.last().map(|i| i.env.clone()).unwrap_or_default();
    let cmp = compare(&invs, &baseline);
    evaluate(&cmp, &invs, &loaded.set, day)
}

fn eval(policy: &str, envs: Vec<Env>) -> Evaluation {
    eval_at(policy, envs, today())
}

/// `code rule severity: message` per finding, for compact assertions.
fn lines(e: &Evaluation) -> Vec<String> {
    e.findings
        .iter()
        .map(|f| {
            format!(
                "{} {} {}{}: {}",
                f.code,
                f.rule,
                f.severity,
                if f.waiver.is_some() { " waived" } else { "" },
                f.message
            )
        })
        .collect()
}

fn by_code<'a>(e: &'a Evaluation, code: &str) -> Vec<&'a Finding> {
    e.findings.iter().filter(|f| f.code == code).collect()
}

fn three(dev: Env, staging: Env, prod: Env) -> Vec<Env> {
    vec![dev, staging, prod]
}

// ---------------------------------------------------------------------------
// codes, determinism
// ---------------------------------------------------------------------------

#[test]
fn every_code_the_engine_emits_is_listed_and_output_is_deterministic() {
    let policy = "unmatched: info\nrules:\n  - id: all\n    key: \"*\"\n    required: true\n  - id: t\n    key: [T, S, U]\n    type: int\n    range: {min: 10}\n    tolerance: {percent: 1}\n    relation: [\"staging > prod\", \"prod > qa\"]\n    forbid: [\"99\"]\n    one_of: [\"1\", \"2\", \"99\"]\n    pattern: '[0-9]'\n    equal: true\n  - id: stale\n    key: NOPE\n    equal: true\nwaivers:\n  - rule: t\n    reason: old\n    expires: 2020-01-01\n  - rule: all\n    key: NOTHING\n    reason: unused\n";
    let envs = || {
        vec![
            env("staging")
                .var("T", "1")
                .var("U", "x")
                .secret("S", "a")
                .var("ONLY", "1"),
            env("prod").var("T", "99").var("U", "y").secret("S", "b"),
        ]
    };
    let e = eval(policy, envs());
    let known: Vec<&str> = crate::codes::FindingCode::ALL
        .iter()
        .map(|c| c.as_str())
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    for f in &e.findings {
        assert!(
            known.contains(&f.code.as_str()),
            "{} is not a FindingCode",
            f.code
        );
        seen.insert(f.code.clone());
    }
    for code in [
        "required-missing",
        "out-of-range",
        "out-of-tolerance",
        "relation-violated",
        "forbidden-value",
        "not-equal",
        "value-unreadable",
        "secret-unchecked",
        "stale-rule",
        "check-skipped",
        "waiver-expired",
        "waiver-unused",
    ] {
        assert!(seen.contains(code), "{code} not produced: {:#?}", lines(&e));
    }
    assert_eq!(lines(&e), lines(&eval(policy, envs())));
}
