//! Reading what Flink says when something fails. Its REST API answers
//! errors as `{"errors": ["<message or printed Java stack trace>", ...]}`,
//! and job failures come as printed stack traces too (`/jobs/{id}/exceptions`).
//! Only the first line of an exception's message is ever kept: the lines
//! below can carry connector details (table options, rows) and the frames
//! are noise.

use serde::Deserialize;

/// The longest message this crate passes on (in bytes, cut at a character).
pub(crate) const MAX_MESSAGE: usize = 500;

/// The package of the runner's own exceptions (`dev.sluice.runner.RunnerException`),
/// whose messages are written to be shown and never carry script values.
const RUNNER_PACKAGE: &str = "dev.sluice.runner.";

/// How Flink wraps an exception thrown by a program's `main()`.
const PROGRAM_INVOCATION: &str = ".ProgramInvocationException";
const MAIN_METHOD_PREFIX: &str = "The main method caused an error: ";

/// What Flink's dispatcher throws for a job id it has already.
const DUPLICATE_JOB: &str = ".DuplicateJobSubmissionException";

#[derive(Debug, Deserialize)]
struct ErrorBody {
    errors: Vec<String>,
}

/// The `errors` of a Flink error answer, `None` if the body is not one.
pub(crate) fn parse_errors(body: &[u8]) -> Option<Vec<String>> {
    serde_json::from_slice::<ErrorBody>(body)
        .ok()
        .map(|b| b.errors)
}

/// One exception of a printed Java stack trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Thrown<'a> {
    /// The fully qualified class name, empty if the line names none.
    pub class: &'a str,
    /// The first line of the message.
    pub message: &'a str,
}

impl Thrown<'_> {
    /// `SimpleName: message`, the way a person reads an exception.
    fn describe(&self) -> String {
        let simple = self.class.rsplit('.').next().unwrap_or(self.class);
        match (simple.is_empty(), self.message.is_empty()) {
            (true, _) => self.message.to_owned(),
            (false, true) => simple.to_owned(),
            (false, false) => format!("{simple}: {}", self.message),
        }
    }
}

fn is_class_name(s: &str) -> bool {
    s.contains('.')
        && !s.starts_with('.')
        && s.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '$' | '_'))
}

fn header(line: &str) -> Thrown<'_> {
    let line = line.trim();
    match line.split_once(": ") {
        Some((class, message)) if is_class_name(class) => Thrown {
            class,
            message: message.trim(),
        },
        None if is_class_name(line) => Thrown {
            class: line,
            message: "",
        },
        _ => Thrown {
            class: "",
            message: line,
        },
    }
}

/// The exceptions of a printed stack trace, outermost first: its first line
/// and every `Caused by:` line. Frames (`\tat ...`), `... n more` and the
/// further lines of multi-line messages are skipped. Flink's
/// `<Exception on server side:` wrapper line is skipped too.
pub(crate) fn exception_chain(trace: &str) -> Vec<Thrown<'_>> {
    let mut chain = Vec::new();
    let mut before_top = true;
    for line in trace.lines() {
        if let Some(cause) = line.strip_prefix("Caused by: ") {
            chain.push(header(cause));
            before_top = false;
        } else if before_top {
            let line = line.trim();
            if line.is_empty() || line.starts_with("<Exception on server side") {
                continue;
            }
            chain.push(header(line));
            before_top = false;
        }
    }
    chain
}

/// Why a program's `main()` failed, from the errors of a `/jars/{id}/run`
/// answer: the runner's own exception message if it is there, else the
/// message of Flink's `ProgramInvocationException` (a missing entry class, a
/// `main()` that threw something else). `None` if the errors show neither,
/// i.e. the program never ran.
pub(crate) fn program_failure(errors: &[String]) -> Option<String> {
    let chain: Vec<Thrown<'_>> = errors.iter().flat_map(|e| exception_chain(e)).collect();
    if let Some(runner) = chain.iter().find(|t| t.class.starts_with(RUNNER_PACKAGE)) {
        let message = if runner.message.is_empty() {
            runner.class
        } else {
            runner.message
        };
        return Some(cap(message));
    }
    chain
        .iter()
        .find(|t| t.class.ends_with(PROGRAM_INVOCATION))
        .map(|t| {
            cap(t
                .message
                .strip_prefix(MAIN_METHOD_PREFIX)
                .unwrap_or(t.message))
        })
}

/// Whether the errors say the jar of a `/jars/{id}/run` is not on the
/// cluster (Flink 2.2 answers 500 with `Jar file <path> does not exist`).
pub(crate) fn jar_missing(errors: &[String]) -> bool {
    errors
        .iter()
        .flat_map(|e| exception_chain(e))
        .any(|t| t.message.starts_with("Jar file ") && t.message.ends_with(" does not exist"))
}

/// Whether the errors say Flink has a job of the requested id already
/// (`DuplicateJobSubmissionException`, whatever wraps it): a submission made
/// again after a lost answer, whose job is then adopted.
pub(crate) fn duplicate_job(errors: &[String]) -> bool {
    errors
        .iter()
        .flat_map(|e| exception_chain(e))
        .any(|t| t.class.ends_with(DUPLICATE_JOB))
}

/// The innermost exception of a stack trace (the root cause), described as
/// `SimpleName: first line of its message`, capped.
pub(crate) fn root_cause(trace: &str) -> Option<String> {
    exception_chain(trace).last().map(|t| cap(&t.describe()))
}

/// A short description of an error answer for logs and messages: the root
/// cause of its first error that has one.
pub(crate) fn summary(errors: &[String]) -> String {
    errors
        .iter()
        .filter_map(|e| root_cause(e))
        .find(|s| !s.is_empty() && s != "Internal server error.")
        .unwrap_or_else(|| "no details".to_owned())
}

/// `text` cut to at most [`MAX_MESSAGE`] bytes at a character boundary,
/// with an ellipsis when cut.
pub(crate) fn cap(text: &str) -> String {
    let text = text.trim();
    if text.len() <= MAX_MESSAGE {
        return text.to_owned();
    }
    let mut end = MAX_MESSAGE - '…'.len_utf8();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn the_runners_own_message_is_taken_from_a_failed_main() {
        let errors = parse_errors(&fixture("run_runner_rejected_400.json")).unwrap();
        assert_eq!(
            program_failure(&errors).as_deref(),
            Some(
                "sealed script: the envelope is not valid JSON (invalid JSON at offset 0: unexpected character)"
            )
        );
        assert!(!jar_missing(&errors));
    }

    #[test]
    fn a_main_that_failed_outside_the_runner_is_told_by_flinks_wrapper() {
        let errors = vec![
            "org.apache.flink.runtime.rest.handler.RestHandlerException: Could not execute application.\n\tat x.y(Z.java:1)\n\
             Caused by: org.apache.flink.client.program.ProgramInvocationException: The main method caused an error: boom\n\
             \tat a.b(C.java:2)\nCaused by: java.lang.IllegalStateException: boom\n\t... 3 more\n"
                .to_owned(),
        ];
        assert_eq!(program_failure(&errors).as_deref(), Some("boom"));

        let missing_class = vec![
            "Internal server error.".to_owned(),
            "<Exception on server side:\njava.util.concurrent.CompletionException: org.apache.flink.client.program.ProgramInvocationException: The program's entry point class 'dev.sluice.runner.Nope' was not found in the jar file.\n\tat x.y(Z.java:1)\nCaused by: org.apache.flink.client.program.ProgramInvocationException: The program's entry point class 'dev.sluice.runner.Nope' was not found in the jar file.\n\nEnd of exception on server side>".to_owned(),
        ];
        assert_eq!(
            program_failure(&missing_class).as_deref(),
            Some(
                "The program's entry point class 'dev.sluice.runner.Nope' was not found in the jar file."
            )
        );
    }

    #[test]
    fn a_duplicate_job_is_recognized_by_its_class_not_by_text() {
        let errors = parse_errors(&fixture("run_duplicate_job_400.json")).unwrap();
        assert!(duplicate_job(&errors));
        assert!(!jar_missing(&errors));
        let rejected = parse_errors(&fixture("run_runner_rejected_400.json")).unwrap();
        assert!(!duplicate_job(&rejected));
        // A message quoting the name (a table called so) is not one.
        let quoted = vec![
            "org.apache.flink.client.program.ProgramInvocationException: The main method caused an error: Object 'DuplicateJobSubmissionException' not found\n".to_owned(),
        ];
        assert!(!duplicate_job(&quoted));
    }

    #[test]
    fn a_missing_jar_is_recognized() {
        let errors = parse_errors(&fixture("run_jar_missing_500.json")).unwrap();
        assert!(jar_missing(&errors));
        assert_eq!(program_failure(&errors), None);
    }

    #[test]
    fn the_root_cause_of_a_job_failure_is_the_innermost_exception() {
        let body: serde_json::Value =
            serde_json::from_slice(&fixture("exceptions_failed.json")).unwrap();
        let trace = body["exceptionHistory"]["entries"][0]["stacktrace"]
            .as_str()
            .unwrap();
        assert_eq!(
            root_cause(trace).as_deref(),
            Some(r#"PSQLException: ERROR: relation "no_such_table_xyz" does not exist"#)
        );
    }

    #[test]
    fn chains_skip_frames_and_continuation_lines() {
        let trace = "java.lang.RuntimeException: outer\n\tat a.b(C.java:1)\nCaused by: x.Y$Inner: two\nlines here\n\t... 1 more\nCaused by: x.Z\n";
        assert_eq!(
            exception_chain(trace),
            vec![
                Thrown {
                    class: "java.lang.RuntimeException",
                    message: "outer"
                },
                Thrown {
                    class: "x.Y$Inner",
                    message: "two"
                },
                Thrown {
                    class: "x.Z",
                    message: ""
                },
            ]
        );
        assert_eq!(
            root_cause("just a sentence: no class").as_deref(),
            Some("just a sentence: no class")
        );
    }

    #[test]
    fn messages_are_capped_at_a_character_boundary() {
        let long = "é".repeat(400);
        let capped = cap(&long);
        assert!(capped.len() <= MAX_MESSAGE);
        assert!(capped.ends_with('…'));
        assert_eq!(cap(" short "), "short");
    }

    #[test]
    fn only_error_bodies_parse() {
        assert_eq!(
            parse_errors(br#"{"errors":["x"]}"#),
            Some(vec!["x".to_owned()])
        );
        assert_eq!(parse_errors(b"<html>502 Bad Gateway</html>"), None);
        assert_eq!(parse_errors(br#"{"jobid":"x"}"#), None);
    }
}
