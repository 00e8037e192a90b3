//! The upgrade check as a JUnit XML report (what CI systems and JUnit viewers read): one test
//! suite per tenant, one test case per execution; a nondeterministic or trapped execution is a
//! failure, an execution or tenant that could not be checked is an error.

use std::fmt::Write;

use super::upgrade::{TenantVerdicts, Verdict};

/// The report for `results`, checked against `component` (named in the root element).
pub fn junit_xml(results: &[TenantVerdicts], component: &str) -> String {
    let cases = |t: &TenantVerdicts| t.executions.len().max(usize::from(t.error.is_some()));
    let failures = |t: &TenantVerdicts| t.count(Verdict::Nondeterministic) + t.count(Verdict::Trapped);
    let errors = |t: &TenantVerdicts| t.count(Verdict::Error) + usize::from(t.error.is_some());
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuites name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\">",
        escape(&format!("chronoscope upgrade-check {component}")),
        results.iter().map(cases).sum::<usize>(),
        results.iter().map(failures).sum::<usize>(),
        results.iter().map(errors).sum::<usize>(),
    );
    for t in results {
        let _ = writeln!(
            x,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"0\">",
            escape(&t.tenant),
            cases(t),
            failures(t),
            errors(t)
        );
        if let Some(e) = &t.error {
            let _ = writeln!(x, "    <testcase classname=\"{}\" name=\"restore and read\">", escape(&t.tenant));
            let _ = writeln!(x, "      <error type=\"tenant\" message=\"{}\"/>", escape(e));
            x.push_str("    </testcase>\n");
        }
        for e in &t.executions {
            let name = format!("{} {}", e.execution_id, e.ffqn);
            let _ = write!(x, "    <testcase classname=\"{}\" name=\"{}\"", escape(&t.tenant), escape(&name));
            let tag = match e.verdict {
                Verdict::Compatible => {
                    x.push_str("/>\n");
                    continue;
                }
                Verdict::Nondeterministic | Verdict::Trapped => "failure",
                Verdict::Error => "error",
            };
            x.push_str(">\n");
            let mut body = e.detail.clone();
            if let (Some(r), Some(p)) = (&e.recorded, &e.produced) {
                let _ = write!(body, "\nrecorded: {r}\nproduced: {p}");
            }
            let _ = writeln!(
                x,
                "      <{tag} type=\"{}\" message=\"{}\">{}</{tag}>",
                e.verdict.as_str(),
                escape(&e.detail),
                escape(&body)
            );
            x.push_str("    </testcase>\n");
        }
        x.push_str("  </testsuite>\n");
    }
    x.push_str("</testsuites>\n");
    x
}

/// Text for an XML attribute or element; characters XML 1.0 cannot hold become `?`.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_xml_cannot_hold_as_is() {
        assert_eq!(escape("a<b>&\"c'\n\u{1}"), "a&lt;b&gt;&amp;&quot;c&apos;&#10;?");
    }

    #[test]
    fn a_tenant_error_is_one_error_case() {
        let t = TenantVerdicts {
            tenant: "t&1".into(),
            database: None,
            error: Some("restore failed: <x>".into()),
            executions: vec![],
        };
        let x = junit_xml(&[t], "c.wasm");
        assert!(x.contains("tests=\"1\" failures=\"0\" errors=\"1\""), "{x}");
        assert!(x.contains("name=\"t&amp;1\"") && x.contains("message=\"restore failed: &lt;x&gt;\""), "{x}");
    }
}
