//! What the table, Markdown and HTML show of values: never two different
//! values that look the same. Shortened values keep the place where they
//! differ; `COLUMNS` is honoured when the output is not a terminal; an
//! empty value, a trailing newline and a surrounding space are written out;
//! and an env value with a trailing newline is a different value (Go's
//! `strconv.Atoi("20\n")` and Java's `Integer.parseInt("20\n")` reject it).

use crate::support::*;

fn audit(columns: Option<&str>, format: &str) -> Run {
    let mut cmd = confdrift();
    cmd.args(["audit", "--format", format, "--policy", NO_RULES])
        .arg("--env")
        .arg(format!("staging={}", data("display/staging.yaml")))
        .arg("--env")
        .arg(format!("prod={}", data("display/prod.yaml")));
    if let Some(c) = columns {
        cmd.env("COLUMNS", c);
    }
    let r = run(&mut cmd);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    r
}

fn row<'a>(out: &'a str, key: &str) -> &'a str {
    out.lines()
        .find(|l| l.split_whitespace().nth(1) == Some(key))
        .unwrap_or_else(|| panic!("no row {key} in\n{out}"))
}

/// The cells of a table row: separated by two spaces or more.
fn cells(line: &str) -> Vec<String> {
    line.split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(String::from)
        .collect()
}

#[test]
fn columns_is_honoured_when_the_output_is_not_a_terminal() {
    let out = audit(Some("250"), "table").stdout;
    let line = row(&out, "JAVA_OPTS");
    assert!(
        line.contains("-Xms64m -Xmx512m -XX:+UseG1GC -Dspring.profiles.active=staging")
            && line.contains("-Xms64m -Xmx512m -XX:+UseG1GC -Dspring.profiles.active=production"),
        "{out}"
    );
}

#[test]
fn without_columns_a_log_gets_120_columns() {
    let out = audit(None, "table").stdout;
    // The JAVA_OPTS values are wider than 100 columns together: the table
    // takes the 120 a CI log has, and no more.
    let table_width = row(&out, "JAVA_OPTS").chars().count();
    assert!(
        table_width > 100 && table_width <= 120,
        "{table_width}:\n{out}"
    );
}

#[test]
fn a_narrow_table_keeps_where_two_values_differ_visible() {
    for columns in ["60", "80", "100", "120"] {
        let out = audit(Some(columns), "table").stdout;
        let java = cells(row(&out, "JAVA_OPTS"));
        // SEV, KEY, staging, prod, FROM
        assert_ne!(java[2], java[3], "COLUMNS={columns}:\n{out}");
        assert!(java[2].contains("stag"), "COLUMNS={columns}:\n{out}");
        assert!(java[3].contains("prod"), "COLUMNS={columns}:\n{out}");
        let ns = cells(row(&out, "POD_NAMESPACE"));
        assert_ne!(ns[2], ns[3], "COLUMNS={columns}:\n{out}");
        assert!(ns[2].contains("amespace"), "COLUMNS={columns}:\n{out}");
        // FROM lists each environment's source: they differ too.
        let (staging, prod) = from_by_env(&out, "POD_NAMESPACE");
        assert_ne!(staging, prod, "COLUMNS={columns}:\n{out}");
        assert!(staging.contains("mespace"), "COLUMNS={columns}:\n{out}");
        assert!(!prod.is_empty(), "COLUMNS={columns}:\n{out}");
        let table = out
            .lines()
            .skip_while(|l| !l.starts_with(" SEV"))
            .take_while(|l| !l.is_empty());
        for line in table {
            let n: usize = columns.parse().unwrap();
            assert!(line.chars().count() <= n, "COLUMNS={columns}: {line}");
        }
    }
}

/// The FROM column of a row whose sources differ: (staging's, prod's).
fn from_by_env(out: &str, key: &str) -> (String, String) {
    let lines: Vec<&str> = out.lines().collect();
    let header = lines
        .iter()
        .find(|l| l.starts_with(" SEV"))
        .expect("header");
    let col = header.find("FROM").expect("FROM column");
    let at = lines
        .iter()
        .position(|l| l.split_whitespace().nth(1) == Some(key));
    let at = at.unwrap_or_else(|| panic!("no row {key} in\n{out}"));
    let mut from = String::new();
    for (i, line) in lines[at..].iter().enumerate() {
        if i > 0 && !line.chars().take(col).all(char::is_whitespace) {
            break; // the next row
        }
        from.push_str(line.chars().skip(col).collect::<String>().trim());
        from.push(' ');
    }
    let (staging, prod) = from.split_once("prod:").unwrap_or_else(|| panic!("{from}"));
    let staging = staging
        .trim()
        .trim_start_matches("staging:")
        .replace(' ', "");
    (staging, prod.replace(' ', ""))
}

#[test]
fn an_env_value_with_a_trailing_newline_is_a_different_value() {
    let json: serde_json::Value =
        serde_json::from_str(&audit(None, "json").stdout).expect("JSON report");
    let pool = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "DB_POOL_SIZE")
        .unwrap_or_else(|| panic!("no DB_POOL_SIZE finding: {json:#}"));
    // The JSON keeps the raw values.
    assert_eq!(pool["values"]["staging"], "20\n");
    assert_eq!(pool["values"]["prod"], "20");
    let workers = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "WORKERS")
        .unwrap_or_else(|| panic!("no WORKERS finding: {json:#}"));
    assert_eq!(workers["values"]["staging"], "4 ");
}

#[test]
fn invisible_values_are_written_out_in_the_table() {
    let out = audit(None, "table").stdout;
    let pool = cells(row(&out, "DB_POOL_SIZE"));
    assert_eq!(pool[2..4], ["20⏎", "20"], "{out}");
    let workers = cells(row(&out, "WORKERS"));
    assert_eq!(workers[2..4], ["\"4 \"", "4"], "{out}");
    let dsn = cells(row(&out, "SENTRY_DSN"));
    assert_eq!(dsn[2..4], ["\"\"", "—"], "{out}");
}

#[test]
fn invisible_values_are_written_out_in_markdown() {
    let out = audit(None, "markdown").stdout;
    for shown in ["`20⏎`", "`\"4 \"`", "`\"\"`"] {
        assert!(out.contains(shown), "{shown} not in\n{out}");
    }
}
