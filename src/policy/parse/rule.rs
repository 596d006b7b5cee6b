//! Decoding one rule of a policy file: its selector (`key`, `kind`,
//! `workload`, `when`), its type and unit, its checks (equal, presence,
//! ranges, tolerance, order relations, values) and its severity, each
//! problem reported at its field.

use super::*;

impl Decoder<'_> {
    pub(super) fn rule(&mut self, node: &Node, path: &str) -> Option<Rule> {
        // Name the rule in every message about it, even those found before
        // its `id` is read.
        if let NodeKind::Map(pairs) = &node.kind {
            self.rule = pairs
                .iter()
                .find(|(k, _)| k.scalar() == Some("id"))
                .and_then(|(_, v)| v.scalar())
                .map(str::to_string);
        }
        let unknown_before = self
            .diags
            .iter()
            .filter(|d| d.code == "unknown-field")
            .count();
        let fields = self.fields(node, path, RULE_FIELDS, "a rule")?;
        let misspelt = self
            .diags
            .iter()
            .filter(|d| d.code == "unknown-field")
            .count()
            > unknown_before;
        let get = |name: &str| fields.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
        let before = self.error_count();

        // The id first, so later messages can name the rule.
        let id = self.rule_id(get("id"), node.pos, path);
        self.rule = id.clone();

        let select = self.selector(&fields, path);
        if get("key").is_none() && get("key_regex").is_none() {
            self.error(
                "missing-field",
                node.pos,
                &join(path, "key"),
                "a rule needs `key` (a glob; \"*\" for every key) or `key_regex`".into(),
                None,
            );
        }

        // Type and unit decide how every other check reads values.
        let explicit_type = get("type").and_then(|v| {
            let s = self.choice(v, &join(path, "type"), ValueType::NAMES, "type")?;
            ValueType::parse(s)
        });
        let unit = get("unit").and_then(|v| {
            let f = join(path, "unit");
            let s = self.string(v, &f)?;
            match Unit::parse(&s) {
                Some(u) => Some(u),
                None => {
                    self.error(
                        "invalid-value",
                        v.pos,
                        &f,
                        format!("`{s}` is not a unit"),
                        Some(suggest(&s, &Unit::names(), "units")),
                    );
                    None
                }
            }
        });
        if let (Some(t), Some(u), Some(v)) = (explicit_type, unit, get("unit"))
            && t != u.dimension
        {
            self.error(
                "conflicting-fields",
                v.pos,
                &join(path, "unit"),
                format!(
                    "unit `{}` is for {} values, but the rule's type is {}",
                    u.name,
                    u.dimension.as_str(),
                    t.as_str()
                ),
                Some(format!(
                    "drop `unit` or use `type: {}`",
                    u.dimension.as_str()
                )),
            );
        }
        let value_type = explicit_type.or(unit.map(|u| u.dimension));
        let checks = self.checks(&fields, path, explicit_type.is_some(), value_type, unit);

        let when = get("when").and_then(|v| self.when(v, &join(path, "when")));
        let severity = get("severity")
            .map(|v| self.severity(v, &join(path, "severity")))
            .unwrap_or(Some(Severity::Warning));
        let severity_by_env = get("severity_by_env")
            .map(|v| self.severity_by_env(v, &join(path, "severity_by_env")))
            .unwrap_or_default();
        let stale = match get("stale") {
            None => Some(Stale::Report(Severity::Info)),
            Some(v) => self
                .severity_or_ignore(v, &join(path, "stale"))
                .map(|s| match s {
                    Some(s) => Stale::Report(s),
                    None => Stale::Ignore,
                }),
        };
        let description =
            get("description").and_then(|v| self.string(v, &join(path, "description")));

        let has_check_field = CHECK_FIELDS.iter().any(|c| get(c).is_some());
        // A misspelt check is already reported as an unknown field.
        if !has_check_field && !misspelt {
            self.error(
                "no-checks",
                node.pos,
                path,
                "the rule has no check, so it can never report anything".into(),
                Some(format!(
                    "give it one or more of: {}",
                    CHECK_FIELDS
                        .iter()
                        .map(|c| format!("`{c}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            );
        }

        if self.error_count() > before {
            return None;
        }
        Some(Rule {
            id: id?,
            description,
            at: self.location(node.pos),
            id_pos: get("id").map_or(node.pos, |v| v.pos),
            path: path.to_string(),
            select,
            when,
            value_type,
            unit,
            checks,
            severity: severity?,
            severity_by_env,
            stale: stale?,
        })
    }

    /// A rule's `id`: present, letters, digits, '-', '_' or '.', and not
    /// the id of a built-in finding.
    fn rule_id(&mut self, id: Option<&Node>, pos: Pos, path: &str) -> Option<String> {
        match id {
            None => {
                self.error(
                    "missing-field",
                    pos,
                    &join(path, "id"),
                    "a rule needs an `id`".into(),
                    Some(
                        "e.g. `id: db-pool-size`; findings and waivers refer to rules by id".into(),
                    ),
                );
                None
            }
            Some(v) => self.string(v, &join(path, "id")).and_then(|id| {
                let f = join(path, "id");
                if id.is_empty()
                    || !id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
                    || !id
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
                {
                    self.error(
                        "invalid-value",
                        v.pos,
                        &f,
                        format!("rule id `{id}` must be letters, digits, '-', '_' or '.'"),
                        None,
                    );
                    None
                } else if RESERVED_IDS.contains(&id.as_str()) {
                    self.error(
                        "reserved-rule-id",
                        v.pos,
                        &f,
                        format!("`{id}` is the rule id of confdrift's built-in findings"),
                        Some("choose another id".into()),
                    );
                    None
                } else {
                    Some(id)
                }
            }),
        }
    }

    /// The selector of a rule: which keys, kinds, workloads, containers,
    /// ConfigMaps, namespaces and environments it speaks to.
    fn selector(&mut self, fields: &[(&str, &Node)], path: &str) -> Selector {
        let mut select = Selector::default();
        let mut kinds_ok = true;
        for (name, v) in fields {
            let f = join(path, name);
            match *name {
                "key" => select.keys = self.patterns(v, &f).unwrap_or_default(),
                "key_regex" => select.key_regex = self.regex(v, &f),
                "kind" => {
                    for (i, (text, pos)) in self
                        .strings(v, &f)
                        .unwrap_or_default()
                        .into_iter()
                        .enumerate()
                    {
                        let node = Node {
                            pos,
                            kind: NodeKind::Scalar { text, plain: true },
                        };
                        let fi = if matches!(v.kind, NodeKind::Seq(_)) {
                            format!("{f}[{i}]")
                        } else {
                            f.clone()
                        };
                        match self.kind(&node, &fi) {
                            Some(k) => select.kinds.push(k),
                            None => kinds_ok = false,
                        }
                    }
                }
                "workload" => select.workloads = self.patterns(v, &f).unwrap_or_default(),
                "container" => select.containers = self.patterns(v, &f).unwrap_or_default(),
                "configmap" => select.configmaps = self.patterns(v, &f).unwrap_or_default(),
                "namespace" => select.namespaces = self.patterns(v, &f).unwrap_or_default(),
                "environments" => select.environments = self.patterns(v, &f).unwrap_or_default(),
                _ => {}
            }
        }
        let _ = kinds_ok;
        select
    }

    /// The checks of a rule, each read as the rule's type and unit say
    /// (`Check::Type` first when the type is written).
    fn checks(
        &mut self,
        fields: &[(&str, &Node)],
        path: &str,
        explicit_type: bool,
        value_type: Option<ValueType>,
        unit: Option<Unit>,
    ) -> Vec<Check> {
        let get = |name: &str| fields.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
        let typed_literals = value_type.is_some();
        let ordered = value_type.unwrap_or(ValueType::Number);

        let mut checks = Vec::new();
        if explicit_type {
            checks.push(Check::Type);
        }
        for (name, v) in fields {
            let f = join(path, name);
            match *name {
                "equal" if self.check_true(v, &f) => {
                    let allow_differ = get("allow_differ")
                        .and_then(|a| self.patterns(a, &join(path, "allow_differ")))
                        .unwrap_or_default();
                    checks.push(Check::Equal { allow_differ });
                }
                "allow_differ" if get("equal").is_none() => self.error(
                    "conflicting-fields",
                    v.pos,
                    &f,
                    "`allow_differ` lists exceptions to `equal`, but the rule has no `equal: true`"
                        .into(),
                    Some("add `equal: true` or remove `allow_differ`".into()),
                ),
                "required" if self.check_true(v, &f) => checks.push(Check::Required),
                "changes" if self.check_true(v, &f) => checks.push(Check::Changes),
                "forbid" | "one_of" => {
                    let mut lits = Vec::new();
                    let mut bad = false;
                    for (i, (text, pos)) in self
                        .strings(v, &f)
                        .unwrap_or_default()
                        .into_iter()
                        .enumerate()
                    {
                        let typed = if typed_literals {
                            match read(ordered, unit, &text) {
                                Ok(t) => Some(t),
                                Err(why) => {
                                    self.error(
                                        "invalid-value",
                                        pos,
                                        &format!("{f}[{i}]"),
                                        format!("`{text}` is not {}: {why}", ordered.described()),
                                        None,
                                    );
                                    bad = true;
                                    continue;
                                }
                            }
                        } else {
                            None
                        };
                        lits.push(Literal { text, typed });
                    }
                    if bad {
                        // Reported value by value above.
                    } else if lits.is_empty() {
                        self.error(
                            "invalid-value",
                            v.pos,
                            &f,
                            format!("`{name}` needs at least one value"),
                            None,
                        );
                    } else if *name == "forbid" {
                        checks.push(Check::Forbid(lits));
                    } else {
                        checks.push(Check::OneOf(lits));
                    }
                }
                "pattern" => {
                    if let Some((regex, text)) = self.regex(v, &f) {
                        checks.push(Check::Pattern { regex, text });
                    }
                }
                "range" => {
                    if self.needs_order(ordered, v, &f, "range")
                        && let Some(c) = self.range(v, &f, ordered, unit)
                    {
                        checks.push(c);
                    }
                }
                "tolerance" => {
                    if self.needs_order(ordered, v, &f, "tolerance")
                        && let Some(c) = self.tolerance(v, &f, ordered, unit)
                    {
                        checks.push(c);
                    }
                }
                "relation" if self.needs_order(ordered, v, &f, "relation") => {
                    let rels = self.relations(v, &f);
                    if !rels.is_empty() {
                        checks.push(Check::Relation(rels));
                    }
                }
                _ => {}
            }
        }
        checks
    }

    /// `severity_by_env`: environment globs and the severity for each.
    fn severity_by_env(&mut self, v: &Node, f: &str) -> Vec<(Pattern, Severity)> {
        let mut severity_by_env = Vec::new();
        match &v.kind {
            NodeKind::Map(pairs) => {
                for (k, s) in pairs {
                    let Some(env) = k.scalar() else {
                        self.wrong_type(k, f, "an environment name");
                        continue;
                    };
                    let fe = join(f, env);
                    let pat = Pattern::new(env)
                        .map_err(|e| {
                            self.error(
                                "bad-glob",
                                k.pos,
                                &fe,
                                format!("invalid glob `{env}`: {e}"),
                                None,
                            )
                        })
                        .ok();
                    if let (Some(p), Some(sev)) = (pat, self.severity(s, &fe)) {
                        severity_by_env.push((p, sev));
                    }
                }
            }
            _ => self.wrong_type(
                v,
                f,
                "a mapping of environment to severity, e.g. {prod: critical}",
            ),
        }
        severity_by_env
    }

    pub(super) fn error_count(&self) -> usize {
        self.diags.iter().filter(|d| d.is_error()).count()
    }

    /// Unknown fields so far: a misspelt field is reported once, not again
    /// as the field that is then missing.
    pub(super) fn unknown_count(&self) -> usize {
        self.diags
            .iter()
            .filter(|d| d.code == "unknown-field")
            .count()
    }

    /// `equal: true` / `required: true`; `false` would silently do nothing.
    pub(super) fn check_true(&mut self, v: &Node, field: &str) -> bool {
        match self.boolean(v, field) {
            Some(true) => true,
            Some(false) => {
                self.error(
                    "invalid-value",
                    v.pos,
                    field,
                    "`false` turns the check off; remove the field instead".into(),
                    None,
                );
                false
            }
            None => false,
        }
    }

    pub(super) fn needs_order(
        &mut self,
        ty: ValueType,
        v: &Node,
        field: &str,
        check: &str,
    ) -> bool {
        if ty.ordered() {
            return true;
        }
        self.error(
            "conflicting-fields",
            v.pos,
            field,
            format!(
                "`{check}` compares sizes, but the rule's type is {}, which has no order",
                ty.as_str()
            ),
            Some("use `type: int`, `number`, `duration` or `quantity`, or another check".into()),
        );
        false
    }

    pub(super) fn bound(
        &mut self,
        v: &Node,
        field: &str,
        ty: ValueType,
        unit: Option<Unit>,
    ) -> Option<Bound> {
        let text = match &v.kind {
            NodeKind::Scalar { text, .. } if !v.is_null() => text.clone(),
            _ => {
                self.wrong_type(
                    v,
                    field,
                    &format!("{} (a number or a string like 30s)", ty.described()),
                );
                return None;
            }
        };
        match read(ty, unit, &text) {
            Ok(Typed::Num(value)) => Some(Bound { text, value }),
            Ok(_) => None,
            Err(why) => {
                self.error(
                    "invalid-value",
                    v.pos,
                    field,
                    format!("`{text}` is not {}: {why}", ty.described()),
                    None,
                );
                None
            }
        }
    }

    pub(super) fn range(
        &mut self,
        v: &Node,
        path: &str,
        ty: ValueType,
        unit: Option<Unit>,
    ) -> Option<Check> {
        let unknown = self.unknown_count();
        let fields = self.fields(v, path, RANGE_FIELDS, "`range`")?;
        let misspelt = self.unknown_count() > unknown;
        let mut min = None;
        let mut max = None;
        for (name, b) in &fields {
            let bound = self.bound(b, &join(path, name), ty, unit);
            if *name == "min" {
                min = bound;
            } else {
                max = bound;
            }
        }
        if fields.is_empty() {
            if !misspelt {
                self.error(
                    "missing-field",
                    v.pos,
                    path,
                    "`range` needs `min`, `max` or both".into(),
                    None,
                );
            }
            return None;
        }
        if let (Some(lo), Some(hi)) = (&min, &max)
            && lo.value > hi.value
        {
            self.error(
                "invalid-value",
                v.pos,
                path,
                format!("min {} is greater than max {}", lo.text, hi.text),
                None,
            );
            return None;
        }
        if fields.len() != usize::from(min.is_some()) + usize::from(max.is_some()) {
            return None;
        }
        Some(Check::Range { min, max })
    }

    pub(super) fn tolerance(
        &mut self,
        v: &Node,
        path: &str,
        ty: ValueType,
        unit: Option<Unit>,
    ) -> Option<Check> {
        let unknown = self.unknown_count();
        let fields = self.fields(v, path, TOLERANCE_FIELDS, "`tolerance`")?;
        let misspelt = self.unknown_count() > unknown;
        let get = |name: &str| fields.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
        let baseline = get("baseline").and_then(|b| self.string(b, &join(path, "baseline")));
        let amount = match (get("percent"), get("absolute")) {
            (Some(p), None) => {
                let f = join(path, "percent");
                let n = self.number(p, &f)?;
                if n < 0.0 {
                    self.error(
                        "invalid-value",
                        p.pos,
                        &f,
                        "a tolerance cannot be negative".into(),
                        None,
                    );
                    return None;
                }
                Amount::Percent(n)
            }
            (None, Some(a)) => {
                Amount::Absolute(self.bound(a, &join(path, "absolute"), ty, unit)?)
            }
            (Some(_), Some(a)) => {
                self.error(
                    "conflicting-fields",
                    a.pos,
                    &join(path, "absolute"),
                    "give `percent` or `absolute`, not both".into(),
                    None,
                );
                return None;
            }
            (None, None) => {
                if !misspelt {
                    self.error(
                        "missing-field",
                        v.pos,
                        path,
                        "`tolerance` needs `percent` or `absolute`".into(),
                        Some("e.g. `tolerance: {percent: 20, baseline: prod}`".into()),
                    );
                }
                return None;
            }
        };
        if get("baseline").is_some() && baseline.is_none() {
            return None;
        }
        Some(Check::Tolerance { amount, baseline })
    }

    pub(super) fn relations(&mut self, v: &Node, field: &str) -> Vec<Relation> {
        let mut out = Vec::new();
        let many = matches!(v.kind, NodeKind::Seq(_));
        for (i, (text, pos)) in self
            .strings(v, field)
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            let f = if many {
                format!("{field}[{i}]")
            } else {
                field.to_string()
            };
            let parsed = Op::ALL.iter().find_map(|(sym, op)| {
                let (l, r) = text.split_once(sym)?;
                Some((l.trim().to_string(), *op, r.trim().to_string()))
            });
            let valid_env = |s: &str| {
                !s.is_empty()
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            };
            match parsed {
                Some((left, op, right)) if valid_env(&left) && valid_env(&right) && left != right => {
                    out.push(Relation { left, op, right })
                }
                _ => self.error(
                    "bad-relation",
                    pos,
                    &f,
                    format!("`{text}` is not a relation between two environments"),
                    Some("write `ENV OP ENV` with OP one of >=, >, <=, <, ==, !=, e.g. `prod >= staging`".into()),
                ),
            }
        }
        out
    }

    pub(super) fn when(&mut self, v: &Node, path: &str) -> Option<When> {
        let unknown = self.unknown_count();
        let fields = self.fields(v, path, WHEN_FIELDS, "`when`")?;
        let misspelt = self.unknown_count() > unknown;
        let get = |name: &str| fields.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
        let key = match get("key") {
            Some(k) => self.string(k, &join(path, "key")),
            None => {
                self.error(
                    "missing-field",
                    v.pos,
                    &join(path, "key"),
                    "`when` needs the `key` whose value decides".into(),
                    Some("e.g. `when: {key: FEATURE_X, is: \"true\"}`".into()),
                );
                None
            }
        };
        let kind = get("kind").and_then(|k| self.kind(k, &join(path, "kind")));
        let conds: Vec<&str> = ["is", "one_of", "present"]
            .into_iter()
            .filter(|c| get(c).is_some())
            .collect();
        let condition = match conds.as_slice() {
            ["is"] => get("is")
                .and_then(|n| self.string(n, &join(path, "is")))
                .map(Condition::Is),
            ["one_of"] => get("one_of")
                .and_then(|n| self.strings(n, &join(path, "one_of")))
                .map(|v| Condition::OneOf(v.into_iter().map(|(s, _)| s).collect())),
            ["present"] => get("present")
                .and_then(|n| self.boolean(n, &join(path, "present")))
                .map(Condition::Present),
            [] => {
                if !misspelt {
                    self.error(
                        "missing-field",
                        v.pos,
                        path,
                        "`when` needs a condition: `is`, `one_of` or `present`".into(),
                        None,
                    );
                }
                None
            }
            _ => {
                self.error(
                    "conflicting-fields",
                    v.pos,
                    path,
                    format!("`when` takes one condition, got {}", conds.join(", ")),
                    None,
                );
                None
            }
        };
        Some(When {
            key: key?,
            kind,
            condition: condition?,
        })
    }
}
