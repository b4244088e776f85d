//! The `crew-mrv` command line, run as a process: exit codes, outputs,
//! filters and help.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use crew_mrv_core::export::{self, output_bytes};
use crew_mrv_core::{Config, Filter, Source};

use crate::fixtures::*;

/// A fresh directory under the system temp dir, removed on drop.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let p = std::env::temp_dir().join(format!("crew-mrv-cli-{}-{tag}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub(crate) fn crew(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_crew-mrv"))
        .args(args)
        .output()
        .expect("run crew-mrv")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Two plants' files: a Plant A month, a Plant B report, a lab file.
fn inputs() -> Vec<Source> {
    let a = PlantA::month(d(2025, 4, 1), &[31.2, 40.0, 0.0, 35.5]);
    let b = PlantB::new(PlantB::days_from(d(2025, 4, 1), &[9.1, 9.2, 9.3]));
    let mut lab = lab_pair("PLANT_A", d(2025, 4, 1), 39.8, 53.7);
    lab.extend(lab_pair("PLANT_A", d(2025, 4, 2), 50.0, 45.0));
    lab.push(lab_row("PLANT_A", UP, d(2025, 4, 4), 1, "41"));
    lab.push(lab_row("PLANT_A", UP, d(2025, 4, 4), 2, "45"));
    lab.push(lab_row("PLANT_A", DOWN, d(2025, 4, 4), 1, "55"));
    lab.extend(lab_pair("PLANT_B", d(2025, 4, 2), 30.0, 38.0));
    lab.extend(lab_pair("PLANT_B", d(2025, 4, 9), 30.0, 38.0));
    vec![
        Source::new("PLANT_A-OPS DATA-APR25.xlsx", a.xlsx()),
        Source::new(b.file_name(), b.xlsx()),
        Source::new("lab_results.csv", lab_table(lab).to_text(',').into_bytes()),
    ]
}

pub(crate) fn write_inputs(dir: &Path, sources: &[Source]) {
    std::fs::create_dir_all(dir).expect("dir");
    for s in sources {
        std::fs::write(dir.join(&s.name), &s.bytes).expect("write input");
    }
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn co2_dates(dir: &Path) -> Vec<(String, String, String)> {
    parse_csv(&read(dir, "co2_removal.csv"))
        .1
        .into_iter()
        .map(|r| {
            (
                r["plant_id"].clone(),
                r["date"].clone(),
                r["quality_flag"].clone(),
            )
        })
        .collect()
}

#[test]
fn exit_0_writes_all_six_outputs_identical_to_the_library() {
    let tmp = TempDir::new("ok");
    let input = tmp.path().join("in");
    let out = tmp.path().join("out/nested");
    let sources = inputs();
    write_inputs(&input, &sources);
    // Files the directory walk must ignore.
    std::fs::write(input.join("README.md"), "not an input").expect("write");
    std::fs::write(input.join(".hidden.csv"), "name,price\n").expect("write");
    let o = crew(&[
        "run",
        "--out",
        out.to_str().expect("utf-8"),
        input.to_str().expect("utf-8"),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let report = crew_mrv_core::run(&sources, &Config::default());
    for name in export::Output::ALL {
        let got =
            std::fs::read(out.join(name.file_name())).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            got == output_bytes(name, &report, &Filter::default()),
            "{name} differs from the library's"
        );
    }
    let text = stdout(&o);
    assert!(
        text.contains("PLANT_A") && text.contains("co2_removal.csv"),
        "{text}"
    );
    assert_eq!(
        parse_csv(&read(&out, "files.csv")).1.len(),
        3,
        "README.md and hidden files are not inputs"
    );
}

#[test]
fn exit_1_when_a_file_is_unreadable_but_the_others_are_written() {
    let tmp = TempDir::new("unreadable");
    let input = tmp.path().join("in");
    let out = tmp.path().join("out");
    write_inputs(&input, &inputs());
    std::fs::write(input.join("scan.xlsx"), b"%PDF-1.4 this is a scan").expect("write");
    let o = crew(&[
        "run",
        "-q",
        "--out",
        out.to_str().expect("utf-8"),
        input.to_str().expect("utf-8"),
    ]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("scan.xlsx") && stderr(&o).contains("PDF"),
        "{}",
        stderr(&o)
    );
    assert_eq!(stdout(&o), "", "--quiet prints nothing but errors");
    for name in export::Output::ALL {
        assert!(out.join(name.file_name()).is_file(), "{name} written");
    }
    let files = parse_csv(&read(&out, "files.csv")).1;
    let scan = files
        .iter()
        .find(|f| f["name"] == "scan.xlsx")
        .expect("listed");
    assert_eq!(scan["status"], "not_tabular");
    assert!(
        co2_dates(&out).iter().any(|x| x.2 == "VALID"),
        "the other files were processed"
    );
}

#[test]
fn exit_2_on_usage_errors() {
    let tmp = TempDir::new("usage");
    let input = tmp.path().join("in");
    write_inputs(&input, &inputs());
    let out = tmp.path().join("out");
    let (i, o) = (input.to_str().expect("utf-8"), out.to_str().expect("utf-8"));
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["run", i], "--out"),
        (vec!["run", "--out", o], "input"),
        (vec!["run", "--out"], "a value is required for '--out"),
        (
            vec!["run", "--bogus", "--out", o, i],
            "unexpected argument '--bogus'",
        ),
        (
            vec!["run", "--replicate-policy", "median", "--out", o, i],
            "mean or first",
        ),
        (
            vec!["run", "--from", "2025-13-01", "--out", o, i],
            "YYYY-MM-DD",
        ),
        (
            vec!["run", "--to", "4/30/2025", "--out", o, i],
            "YYYY-MM-DD",
        ),
        (
            vec![
                "run",
                "--from",
                "2025-05-01",
                "--to",
                "2025-04-01",
                "--out",
                o,
                i,
            ],
            "after",
        ),
        (vec!["run", "--flag", "GREAT", "--out", o, i], "GREAT"),
        (vec!["frobnicate"], "unrecognized subcommand 'frobnicate'"),
        // A mistyped flag is answered with the one meant.
        (
            vec!["run", "--qiet", "--out", o, i],
            "a similar argument exists: '--quiet'",
        ),
        (
            vec!["run", "--confidence", "p10", "--out", o, i],
            "p16 or p5",
        ),
        (
            vec!["run", "--lab-uncertainty", "-0.1", "--out", o, i],
            "--lab-uncertainty",
        ),
        (
            vec!["run", "--lab-uncertainty", "NaN", "--out", o, i],
            "--lab-uncertainty",
        ),
        (
            vec!["run", "--meter-uncertainty", "PLANT_A", "--out", o, i],
            "PLANT=PERCENT",
        ),
    ];
    for (args, says) in cases {
        let r = crew(&args);
        assert_eq!(code(&r), 2, "{args:?}: {}", stderr(&r));
        assert!(stderr(&r).contains(says), "{args:?}: {}", stderr(&r));
        assert!(stderr(&r).contains("--help"), "{args:?} points at the help");
    }
    assert!(!out.exists(), "nothing written on a usage error");
    // An output path that is a file cannot be written.
    let blocker = tmp.path().join("blocker");
    std::fs::write(&blocker, "x").expect("write");
    let r = crew(&["run", "-q", "--out", blocker.to_str().expect("utf-8"), i]);
    assert_eq!(code(&r), 2, "{}", stderr(&r));
    assert!(stderr(&r).contains("cannot write"), "{}", stderr(&r));
    let missing = tmp.path().join("nope.csv");
    let r = crew(&["run", "--out", o, missing.to_str().expect("utf-8")]);
    assert_eq!(code(&r), 2, "{}", stderr(&r));
    assert!(stderr(&r).contains("nope.csv"));
}

#[test]
fn help_mentions_every_option_and_exit_code() {
    for args in [&["--help"][..], &["-h"], &[]] {
        let o = crew(args);
        assert_eq!(code(&o), 0);
        let h = stdout(&o);
        for opt in [
            "run",
            "--out",
            "--replicate-policy",
            "mean",
            "first",
            "--plant",
            "--from",
            "--to",
            "--flag",
            "--quiet",
            "VALID",
            "INVALID",
            "MISSING_CA_READINGS",
            "INVALID_FLOW",
            "NO_OPS_DATA",
            "co2_removal.csv",
            "lab_readings.csv",
            "plant_operations.csv",
            "qa_findings.csv",
            "files.csv",
            "summary.json",
            "sensitivity.csv",
            "--confidence",
            "p16",
            "p5",
            "--lab-uncertainty",
            "--meter-uncertainty",
            "--jobs",
        ] {
            assert!(h.contains(opt), "{opt} in help");
        }
        for exit in ["0  ", "1  ", "2  "] {
            assert!(h.contains(exit), "exit status {exit}");
        }
    }
    let o = crew(&["--version"]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains(crew_mrv_core::METHOD_VERSION));
}

#[test]
fn plant_from_to_and_flag_filter_co2_removal() {
    let tmp = TempDir::new("filter");
    let input = tmp.path().join("in");
    write_inputs(&input, &inputs());
    let i = input.to_str().expect("utf-8").to_string();
    let run = |extra: &[&str], tag: &str| {
        let out = tmp.path().join(tag);
        let mut args = vec!["run", "-q", "--out", out.to_str().expect("utf-8")];
        args.extend_from_slice(extra);
        args.push(&i);
        let o = crew(&args);
        assert_eq!(code(&o), 0, "{extra:?}: {}", stderr(&o));
        co2_dates(&out)
    };
    let all = run(&[], "all");
    assert_eq!(all.len(), 8);
    let p = |v: &[(&str, &str, &str)]| -> Vec<(String, String, String)> {
        v.iter()
            .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
            .collect()
    };
    assert_eq!(
        run(&["--plant", "PLANT_B"], "plant"),
        p(&[
            ("PLANT_B", "2025-04-01", "MISSING_CA_READINGS"),
            ("PLANT_B", "2025-04-02", "VALID"),
            ("PLANT_B", "2025-04-03", "MISSING_CA_READINGS"),
            ("PLANT_B", "2025-04-09", "NO_OPS_DATA"),
        ])
    );
    assert_eq!(
        run(&["--from", "2025-04-02", "--to=2025-04-03"], "range"),
        p(&[
            ("PLANT_A", "2025-04-02", "INVALID"),
            ("PLANT_A", "2025-04-03", "INVALID_FLOW"),
            ("PLANT_B", "2025-04-02", "VALID"),
            ("PLANT_B", "2025-04-03", "MISSING_CA_READINGS"),
        ])
    );
    assert_eq!(
        run(&["--flag", "VALID", "--flag", "no_ops_data"], "flags"),
        p(&[
            ("PLANT_A", "2025-04-01", "VALID"),
            ("PLANT_A", "2025-04-04", "VALID"),
            ("PLANT_B", "2025-04-02", "VALID"),
            ("PLANT_B", "2025-04-09", "NO_OPS_DATA"),
        ])
    );
    assert_eq!(
        run(
            &[
                "--plant",
                "PLANT_A",
                "--flag",
                "VALID",
                "--to",
                "2025-04-01"
            ],
            "combined"
        ),
        p(&[("PLANT_A", "2025-04-01", "VALID")])
    );
    // The filter narrows co2_removal.csv and the summary, not the audit trail.
    let out = tmp.path().join("combined");
    assert_eq!(parse_csv(&read(&out, "files.csv")).1.len(), 3);
    let s: serde_json::Value = serde_json::from_str(&read(&out, "summary.json")).expect("json");
    assert_eq!(s["all_plants"]["days"], 1);
    assert_eq!(s["filter"]["plant"], "PLANT_A");
}

#[test]
fn replicate_policy_first_changes_the_days_calcium() {
    let tmp = TempDir::new("policy");
    let input = tmp.path().join("in");
    write_inputs(&input, &inputs());
    let i = input.to_str().expect("utf-8");
    let value = |policy: &str| {
        let out = tmp.path().join(policy);
        let o = crew(&[
            "run",
            "-q",
            "--replicate-policy",
            policy,
            "--out",
            out.to_str().expect("utf-8"),
            i,
        ]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let rows = parse_csv(&read(&out, "co2_removal.csv")).1;
        let row = rows
            .iter()
            .find(|r| r["plant_id"] == "PLANT_A" && r["date"] == "2025-04-04")
            .expect("row")
            .clone();
        (
            row["ca_upstream_mg_per_l"].clone(),
            row["ca_upstream_n"].clone(),
        )
    };
    assert_eq!(value("mean"), ("43".to_string(), "2".to_string()));
    assert_eq!(value("first"), ("41".to_string(), "2".to_string()));
}

#[test]
fn files_named_directly_are_read_whatever_their_extension() {
    let tmp = TempDir::new("direct");
    let sources = inputs();
    let lab = tmp.path().join("lab.export");
    std::fs::write(&lab, &sources[2].bytes).expect("write");
    let out = tmp.path().join("out");
    let o = crew(&[
        "run",
        "-q",
        "--out",
        out.to_str().expect("utf-8"),
        lab.to_str().expect("utf-8"),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let files = parse_csv(&read(&out, "files.csv")).1;
    assert_eq!(
        (files[0]["name"].as_str(), files[0]["kind"].as_str()),
        ("lab.export", "calcium_lab")
    );
}

/// A reviewer's decisions go in with the data: the file is listed with its
/// hash, and each decision is a finding at its row.
#[test]
fn review_decisions_are_an_input_like_any_other() {
    let tmp = TempDir::new("reviews");
    let input = tmp.path().join("in");
    let out = tmp.path().join("out");
    let mut sources = inputs();
    sources.push(Source::new(
        "reviews.csv",
        &b"plant_id,date,review_status,note,reviewer\n\
           PLANT_A,2025-04-01,rejected,=HYPERLINK(\"x\") sampler fault,J. Doe\n"[..],
    ));
    write_inputs(&input, &sources);
    let o = crew(&[
        "run",
        "-q",
        "--out",
        out.to_str().expect("utf-8"),
        input.to_str().expect("utf-8"),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let read = |name: &str| std::fs::read_to_string(out.join(name)).expect(name);
    let files = read("files.csv");
    let line = files
        .lines()
        .find(|l| l.starts_with("\"reviews.csv\","))
        .expect("reviews.csv in files.csv");
    assert!(line.contains(",expert_reviews,\"PLANT_A\","), "{line}");
    assert!(read("summary.json").contains("\"reviews.csv\""));
    let qa = read("qa_findings.csv");
    let decision = qa
        .lines()
        .find(|l| l.contains("Day rejected by J. Doe"))
        .expect("the decision is a finding");
    assert!(
        decision.contains(",\"PLANT_A\",2025-04-01,\"reviews.csv\",2,"),
        "{decision}"
    );
    // Text from the file cannot become a formula in a spreadsheet.
    assert!(
        !decision.contains(",=HYPERLINK") && !decision.contains(",\"=HYPERLINK"),
        "{decision}"
    );
}

// Regression (moved from regression.rs: it needs this package's binary).

/// `crew-mrv run --help` answered "see the usage below", printed no usage
/// and exited 2.
#[test]
fn run_help_prints_the_help_and_exits_0() {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_crew-mrv"))
        .args(["run", "--help"])
        .output()
        .expect("run crew-mrv");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(
        help.contains("--replicate-policy") && help.contains("EXIT STATUS"),
        "{help}"
    );
}

/// A scheduled job reads the run's figures from stdout: `--json` prints
/// exactly summary.json, and nothing lands on stderr (no progress bar when
/// stderr is not a terminal).
#[test]
fn json_prints_summary_json_and_nothing_else() {
    let tmp = TempDir::new("json");
    let input = tmp.path().join("in");
    write_inputs(&input, &inputs());
    let out = tmp.path().join("out");
    let (i, o) = (input.to_str().expect("utf-8"), out.to_str().expect("utf-8"));
    let r = crew(&["run", "--json", "--out", o, i]);
    assert_eq!(code(&r), 0, "{}", stderr(&r));
    assert_eq!(stdout(&r), read(&out, "summary.json"));
    assert_eq!(stderr(&r), "");
    let r = crew(&["run", "--json", "--quiet", "--out", o, i]);
    assert_eq!(code(&r), 2, "--json and --quiet contradict each other");
}

/// Each subcommand has its own help, and shells get completion scripts
/// that know the flags.
#[test]
fn subcommand_help_and_completions() {
    let r = crew(&["sample", "--help"]);
    assert_eq!(code(&r), 0, "{}", stderr(&r));
    assert!(
        stdout(&r).contains("--sensors") && !stdout(&r).contains("--replicate-policy"),
        "{}",
        stdout(&r)
    );
    let r = crew(&["completions", "bash"]);
    assert_eq!(code(&r), 0, "{}", stderr(&r));
    assert!(stdout(&r).contains("--replicate-policy"), "{}", stdout(&r));
    let r = crew(&["completions", "no-such-shell"]);
    assert_eq!(code(&r), 2, "{}", stderr(&r));
}

#[test]
fn uncertainty_settings_reach_the_outputs_and_the_printed_summary() {
    let tmp = TempDir::new("unc");
    let input = tmp.path().join("in");
    let out = tmp.path().join("out");
    let sources = inputs();
    write_inputs(&input, &sources);
    let o = crew(&[
        "run",
        "--confidence=p5",
        "--lab-uncertainty",
        "0.03",
        "--meter-uncertainty",
        "PLANT_A=2.5",
        "--out",
        out.to_str().expect("utf-8"),
        input.to_str().expect("utf-8"),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    // The same bytes as the library with the same settings (catches a flag
    // parsed but not passed on).
    let mut config = Config {
        confidence: crew_mrv_core::config::Confidence::P5,
        lab_default_relative: 0.03,
        ..Config::default()
    };
    config
        .meter_uncertainty_percent
        .insert("PLANT_A".into(), 2.5);
    let report = crew_mrv_core::run(&sources, &config);
    for output in export::Output::ALL {
        let name = output.file_name();
        let got = std::fs::read(out.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            got == output_bytes(output, &report, &Filter::default()),
            "{name} differs from the library's"
        );
    }
    let s: serde_json::Value = serde_json::from_str(&read(&out, "summary.json")).expect("json");
    assert_eq!(s["confidence"], "p5");
    assert_eq!(s["lab_default_relative"], 0.03);
    assert_eq!(s["meter_uncertainty_percent"]["PLANT_A"], 2.5);
    assert_eq!(s["meter_uncertainty_percent"]["PLANT_B"], 5.0);
    let text = stdout(&o);
    assert!(text.contains("confidence p5"), "{text}");
    assert!(
        text.contains("conservative") && text.contains("discount"),
        "{text}"
    );
    assert!(text.contains("sensitive to"), "{text}");
}

/// Issue 12: file names, plant ids and messages were printed raw, so a
/// name holding `ESC [2J` cleared the user's terminal. Every control
/// character is shown as an escape instead.
#[test]
fn printed_names_and_ids_cannot_drive_the_terminal() {
    let tmp = TempDir::new("escapes");
    let input = tmp.path().join("in");
    let out = tmp.path().join("out");
    let evil = "lab\u{1b}[2J\u{9b}31m.csv";
    let mut lab = lab_pair("PLANT_\u{1b}]0;owned\u{7}", d(2025, 4, 1), 40.0, 50.0);
    lab.extend(lab_pair("PLANT_A", d(2025, 4, 1), 40.0, 50.0));
    let sources = vec![
        Source::new(evil, lab_table(lab).to_text(',').into_bytes()),
        Source::new("odd\u{1b}[31m.csv", &b"what,is\x1b[5m,this\n1,2,3\n"[..]),
    ];
    write_inputs(&input, &sources);
    let o = crew(&[
        "run",
        "--out",
        out.to_str().expect("utf-8"),
        input.to_str().expect("utf-8"),
    ]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let (so, se) = (stdout(&o), stderr(&o));
    for (what, text) in [("stdout", &so), ("stderr", &se)] {
        assert!(
            !text
                .chars()
                .any(|c| c == '\u{1b}' || c == '\u{9b}' || c == '\u{7}'),
            "{what}: {text:?}"
        );
    }
    assert!(so.contains("lab\\u{1b}[2J\\u{9b}31m.csv"), "{so}");
    assert!(so.contains("PLANT_\\u{1b}]0;owned\\u{7}"), "{so}");
    assert!(se.contains("odd\\u{1b}[31m.csv"), "{se}");
}

/// Issue 12: a symbolic link inside an input folder was followed wherever
/// it pointed. One pointing outside the folder is skipped with a message;
/// one pointing inside is read as before.
#[cfg(unix)]
#[test]
fn symlinks_out_of_an_input_folder_are_skipped() {
    let tmp = TempDir::new("symlinks");
    let input = tmp.path().join("in");
    let outside = tmp.path().join("outside");
    let out = tmp.path().join("out");
    write_inputs(&input, &inputs());
    let lab = lab_table(lab_pair("PLANT_C", d(2025, 4, 1), 40.0, 50.0)).to_text(',');
    write_inputs(&outside, &[Source::new("secret.csv", lab.into_bytes())]);
    std::os::unix::fs::symlink(outside.join("secret.csv"), input.join("link.csv"))
        .expect("symlink");
    std::os::unix::fs::symlink(&outside, input.join("linked_dir")).expect("symlink");
    std::fs::create_dir_all(input.join("sub")).expect("dir");
    std::os::unix::fs::symlink(input.join("lab_results.csv"), input.join("sub/again.csv"))
        .expect("symlink");
    let o = crew(&[
        "run",
        "-q",
        "--out",
        out.to_str().expect("utf-8"),
        input.to_str().expect("utf-8"),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let se = stderr(&o);
    assert!(se.contains("link.csv: skipped, a symbolic link to"), "{se}");
    assert!(se.contains("linked_dir: skipped"), "{se}");
    let files = std::fs::read_to_string(out.join("files.csv")).expect("files.csv");
    assert!(
        !files.contains("secret.csv") && !files.contains("link.csv"),
        "{files}"
    );
    assert!(!files.contains("PLANT_C"), "{files}");
    assert!(
        files.contains("\"again.csv\""),
        "a link inside is followed: {files}"
    );
}

/// Issue 12: nothing bounded a run's total. Past `--max-run-bytes` (from
/// the files' sizes) the run stops before reading, and says why.
#[test]
fn a_run_over_its_byte_budget_reads_nothing() {
    let tmp = TempDir::new("budget");
    let input = tmp.path().join("in");
    let out = tmp.path().join("out");
    write_inputs(&input, &inputs());
    let o = crew(&[
        "run",
        "-q",
        "--max-run-bytes",
        "1000",
        "--out",
        out.to_str().expect("utf-8"),
        input.to_str().expect("utf-8"),
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let se = stderr(&o);
    assert!(
        se.contains("more than this run may read (1000 bytes)") && se.contains("--max-run-bytes"),
        "{se}"
    );
    assert!(!out.join("files.csv").exists());
}

/// `--ambiguous-dates dmy` reads a file whose slashed dates never settle
/// the order day-first.
#[test]
fn ambiguous_dates_follow_the_flag() {
    let tmp = TempDir::new("dmy");
    let input = tmp.path().join("in");
    let out = tmp.path().join("out");
    let mut t = lab_table(lab_pair("PLANT_A", d(2025, 4, 2), 40.0, 50.0));
    t.set(0, "date", "02/04/2025");
    t.set(1, "date", "02/04/2025");
    write_inputs(
        &input,
        &[Source::new("lab.csv", t.to_text(',').into_bytes())],
    );
    let o = crew(&[
        "run",
        "-q",
        "--ambiguous-dates",
        "dmy",
        "--out",
        out.to_str().expect("utf-8"),
        input.to_str().expect("utf-8"),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let lab = std::fs::read_to_string(out.join("lab_readings.csv")).expect("lab");
    assert!(lab.contains(",2025-04-02,"), "{lab}");
}

/// `--certified` keeps VALID days approved on their current inputs: a
/// rejected VALID day and an approval of an INVALID day leave the table;
/// the summary and the printed summary carry the certified total and the
/// days by decision.
#[test]
fn certified_keeps_approved_valid_days_and_the_summary_counts_decisions() {
    let tmp = TempDir::new("certified");
    let input = tmp.path().join("in");
    let mut sources = inputs();
    sources.push(Source::new(
        "reviews.csv",
        "plant_id,date,review_status,note,reviewer\n\
         PLANT_A,2025-04-01,approved,,J. Doe\n\
         PLANT_A,2025-04-02,approved,,J. Doe\n\
         PLANT_A,2025-04-04,rejected,outlier,J. Doe\n\
         PLANT_B,2025-04-02,approved,,J. Doe\n",
    ));
    write_inputs(&input, &sources);
    let i = input.to_str().expect("utf-8");
    let all = tmp.path().join("all");
    let o = crew(&["run", "--out", all.to_str().expect("utf-8"), i]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("Certified CO2"), "{text}");
    let cert_line = text
        .lines()
        .skip_while(|l| !l.starts_with("Certified CO2"))
        .find(|l| l.trim_start().starts_with("all"))
        .expect("all line")
        .to_string();
    assert!(
        cert_line.contains("over   2 certified days (approved 3, rejected 1, unreviewed 4)"),
        "{cert_line}"
    );
    let rows = parse_csv(&read(&all, "co2_removal.csv")).1;
    let day = |p: &str, d: &str| {
        rows.iter()
            .find(|r| r["plant_id"] == p && r["date"] == d)
            .expect("row")
            .clone()
    };
    assert_eq!(day("PLANT_A", "2025-04-04")["review_status"], "rejected");
    assert_eq!(day("PLANT_A", "2025-04-04")["quality_flag"], "VALID");
    let t = |p: &str, d: &str| -> f64 {
        day(p, d)["co2_removed_metric_tons_per_day"]
            .parse()
            .expect("t")
    };
    let s: serde_json::Value = serde_json::from_str(&read(&all, "summary.json")).expect("json");
    let certified = t("PLANT_A", "2025-04-01") + t("PLANT_B", "2025-04-02");
    assert_eq!(s["all_plants"]["certified_days"], 2);
    assert!((s["all_plants"]["co2_certified_t"].as_f64().expect("t") - certified).abs() < 1e-12);
    assert_eq!(s["plants"]["PLANT_A"]["days_by_review"]["rejected"], 1);

    let only = tmp.path().join("certified");
    let o = crew(&[
        "run",
        "-q",
        "--certified",
        "--out",
        only.to_str().expect("utf-8"),
        i,
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        co2_dates(&only),
        [
            ("PLANT_A".into(), "2025-04-01".into(), "VALID".into()),
            ("PLANT_B".into(), "2025-04-02".into(), "VALID".into()),
        ]
    );
    let s: serde_json::Value = serde_json::from_str(&read(&only, "summary.json")).expect("json");
    assert_eq!(s["filter"]["certified"], true);
    assert_eq!(s["all_plants"]["valid_days"], 2);
}

/// Rewrite a bundle with one entry replaced (what a tampered or wrongly
/// copied bundle looks like).
fn with_entry(bundle: &[u8], name: &str, bytes: &[u8]) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bundle)).expect("zip");
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).expect("entry");
        let entry = f.name().expect("name").to_string();
        let mut v = Vec::new();
        f.read_to_end(&mut v).expect("read");
        out.start_file(entry.as_str(), zip::write::SimpleFileOptions::default())
            .expect("start");
        out.write_all(if entry == name { bytes } else { &v })
            .expect("write");
    }
    out.finish().expect("finish").into_inner()
}

/// `run --bundle` twice gives the same bytes; its manifest lists each
/// input's name, kind, size and SHA-256 and each output's SHA-256, which
/// are those of the files run wrote; `verify` on the same files exits 0,
/// and with `--bundle-inputs` on the bundle alone too.
#[test]
fn a_bundle_is_deterministic_and_verifies() {
    let tmp = TempDir::new("bundle");
    let input = tmp.path().join("in");
    let mut sources = inputs();
    sources.push(Source::new(
        "reviews.csv",
        "plant_id,date,review_status,note,reviewer\nPLANT_A,2025-04-01,approved,,J. Doe\n",
    ));
    write_inputs(&input, &sources);
    let i = input.to_str().expect("utf-8");
    let make = |tag: &str, extra: &[&str]| {
        let out = tmp.path().join(tag);
        let zip = tmp.path().join(format!("{tag}.zip"));
        let mut args = vec![
            "run",
            "-q",
            "--plant",
            "PLANT_A",
            "--out",
            out.to_str().expect("utf-8"),
            "--bundle",
            zip.to_str().expect("utf-8"),
        ];
        args.extend_from_slice(extra);
        args.push(i);
        let o = crew(&args);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        (out, std::fs::read(&zip).expect("bundle"), zip)
    };
    let (out, first, zip) = make("one", &[]);
    let (_, second, _) = make("two", &[]);
    assert!(first == second, "the same run gives the same bundle bytes");

    let b = crew_mrv_core::bundle::open(&first).expect("bundle");
    let m = &b.manifest;
    assert_eq!(m.method_version, crew_mrv_core::METHOD_VERSION);
    assert_eq!(m.filter.plant.as_deref(), Some("PLANT_A"));
    assert!(!m.inputs_included);
    let mut names: Vec<&str> = m.inputs.iter().map(|x| x.name.as_str()).collect();
    names.sort();
    let mut want: Vec<&str> = sources.iter().map(|s| s.name.as_str()).collect();
    want.sort();
    assert_eq!(names, want);
    for s in &sources {
        let e = m.inputs.iter().find(|x| x.name == s.name).expect("listed");
        assert_eq!(e.sha256, crew_mrv_core::sha256_hex(&s.bytes));
        assert_eq!(e.bytes, s.bytes.len() as u64);
    }
    let reviews = m
        .inputs
        .iter()
        .find(|x| x.name == "reviews.csv")
        .expect("reviews");
    assert_eq!(reviews.kind.as_deref(), Some("expert_reviews"));
    for o in crew_mrv_core::export::Output::ALL {
        let on_disk = std::fs::read(out.join(o.file_name())).expect("output");
        let e = m
            .outputs
            .iter()
            .find(|x| x.name == o.file_name())
            .expect("listed");
        assert_eq!(e.sha256, crew_mrv_core::sha256_hex(&on_disk), "{o}");
        assert_eq!(b.entries[&format!("outputs/{o}")], on_disk, "{o}");
    }
    assert!(String::from_utf8_lossy(&b.entries["outputs/reviews.csv"])
        .contains("PLANT_A,2025-04-01,approved,,J. Doe,"));

    let o = crew(&["verify", zip.to_str().expect("utf-8"), i]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("Verified"), "{}", stdout(&o));
    // Without the files, a bundle that lacks them cannot be verified.
    assert_eq!(code(&crew(&["verify", zip.to_str().expect("utf-8")])), 2);

    let (_, with_inputs, zip) = make("inputs", &["--bundle-inputs"]);
    let b = crew_mrv_core::bundle::open(&with_inputs).expect("bundle");
    assert!(b.manifest.inputs_included);
    assert_eq!(b.inputs().len(), sources.len());
    let o = crew(&["verify", zip.to_str().expect("utf-8")]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
}

/// One byte changed in any input fails verification naming that file and
/// its hash; a missing and an extra file are named; an output changed in
/// the bundle is named with its first differing row.
#[test]
fn verify_names_changed_inputs_and_differing_outputs() {
    let tmp = TempDir::new("verify");
    let input = tmp.path().join("in");
    let sources = inputs();
    write_inputs(&input, &sources);
    let zip = tmp.path().join("b.zip");
    let out = tmp.path().join("out");
    let o = crew(&[
        "run",
        "-q",
        "--out",
        out.to_str().expect("utf-8"),
        "--bundle",
        zip.to_str().expect("utf-8"),
        input.to_str().expect("utf-8"),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let z = zip.to_str().expect("utf-8");
    for s in &sources {
        let dir = tmp.path().join(format!("changed-{}", s.name.len()));
        write_inputs(&dir, &sources);
        let mut bytes = s.bytes.clone();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 1;
        std::fs::write(dir.join(&s.name), &bytes).expect("write");
        let o = crew(&["verify", z, dir.to_str().expect("utf-8")]);
        assert_eq!(code(&o), 1, "{}: {}", s.name, stdout(&o));
        let text = stdout(&o);
        let line = format!(
            "changed input: {} (sha256 {} in the bundle, {} given)",
            s.name,
            crew_mrv_core::sha256_hex(&s.bytes),
            crew_mrv_core::sha256_hex(&bytes)
        );
        assert!(text.contains(&line), "{text}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    // A file left out and one added.
    let dir = tmp.path().join("missing");
    write_inputs(&dir, &sources[..2]);
    std::fs::write(dir.join("extra.csv"), "x\n").expect("write");
    let o = crew(&["verify", z, dir.to_str().expect("utf-8")]);
    assert_eq!(code(&o), 1);
    let text = stdout(&o);
    assert!(
        text.contains(&format!("missing input: {}", sources[2].name)),
        "{text}"
    );
    assert!(text.contains("extra input: extra.csv"), "{text}");

    // The bundle's co2_removal.csv edited on its third line.
    let bundle = std::fs::read(&zip).expect("bundle");
    let co2 = read(&out, "co2_removal.csv");
    let mut lines: Vec<String> = co2.lines().map(str::to_string).collect();
    lines[2] = lines[2].replacen("PLANT_A", "PLANT_X", 1);
    let edited = lines.join("\n") + "\n";
    let tampered = tmp.path().join("tampered.zip");
    std::fs::write(
        &tampered,
        with_entry(&bundle, "outputs/co2_removal.csv", edited.as_bytes()),
    )
    .expect("write");
    let o = crew(&[
        "verify",
        tampered.to_str().expect("utf-8"),
        input.to_str().expect("utf-8"),
    ]);
    assert_eq!(code(&o), 1);
    let text = stdout(&o);
    assert!(
        text.contains("output differs: co2_removal.csv at row 3"),
        "{text}"
    );
    assert!(text.contains("ok      lab_readings.csv"), "{text}");
}

/// `explain` prints a sample day's calculation sheet: its samples and the
/// operations cell with their files and rows, the §4 chain to the tonnes
/// of co2_removal.csv, its findings and review; an unknown day is exit 1.
#[test]
fn explain_prints_a_days_calculation_sheet() {
    let tmp = TempDir::new("explain");
    let input = tmp.path().join("in");
    write_inputs(&input, &inputs());
    let i = input.to_str().expect("utf-8");
    let o = crew(&["explain", "PLANT_A", "2025-04-01", i]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "Calculation sheet: PLANT_A 2025-04-01");
    assert_eq!(lines[1], "Quality flag: VALID");
    let has = |needle: &str| {
        assert!(
            lines.iter().any(|l| l.contains(needle)),
            "{needle:?} not in\n{text}"
        )
    };
    // The lab file's value is its 16th column (P); the workbook's effluent
    // flow its second (B), first day on row 2.
    has("  upstream   39.8 mg/L ± 0.24 (unique_id PLANT_A_primary_clarifier_20250401_01), lab_results.csv row 2 (cell P2)");
    has("  downstream 53.7 mg/L ± 0.24 (unique_id PLANT_A_secondary_clarifier_20250401_01), lab_results.csv row 3 (cell P3)");
    has("  chosen     effluent flow 31.2 MGD, PLANT_A-OPS DATA-APR25.xlsx sheet 'OPERATOR DATA' cell B2");
    has("= downstream 53.7 - upstream 39.8 = 13.900000000000006 mg/L");
    has("co2_removed_metric_tons_per_day  = ");
    has("CO2 removed: 1.8026969 t");
    has("Review: unreviewed");

    let o = crew(&["explain", "PLANT_A", "2025-05-01", i]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("no day PLANT_A 2025-05-01"),
        "{}",
        stderr(&o)
    );
}

/// A proposal that found no effluent flow column is no profile yet: the
/// printed text lists the columns to choose from, and the command fails.
#[test]
fn profile_suggest_without_an_effluent_column_lists_the_columns_and_fails() {
    let tmp = TempDir::new("suggest-no-effluent");
    let file = tmp.path().join("PLANT_E-daily.csv");
    std::fs::write(
        &file,
        "Date,Inflow (m3/d),Outflow (m3/d)\n2025-05-01,100,90\n2025-05-02,110,95\n",
    )
    .expect("write");
    let o = crew(&["profile", "suggest", file.to_str().expect("utf-8")]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with("profile = \"crew-mrv/plant-profile/1\"\n"),
        "{out}"
    );
    assert!(
        out.contains("# effluent_flow is required, and no column header says effluent flow."),
        "{out}"
    );
    assert!(
        out.contains("#   B: inflow (m3/d)\n#   C: outflow (m3/d)\n"),
        "{out}"
    );
    assert!(
        stderr(&o).contains("no column was recognised as the effluent flow"),
        "{}",
        stderr(&o)
    );
}

/// Onboarding a plant with the CLI (README "Plant profiles"): suggest,
/// check, run with the profile among the inputs; `show` prints a built-in.
#[test]
fn profile_suggest_check_show_and_run_onboard_a_plant() {
    use crew_mrv_samples::{generate, SampleOptions};
    let tmp = TempDir::new("profile");
    let dir = tmp.path();
    let files = generate(&SampleOptions::committed()).unwrap_or_default();
    let mut wrote = Vec::new();
    for f in files
        .iter()
        .filter(|f| f.name.contains("PLANT_C") && !f.name.ends_with(".toml"))
    {
        std::fs::write(dir.join(&f.name), &f.bytes).expect("write");
        wrote.push(dir.join(&f.name));
    }
    let xlsx = wrote
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "xlsx"))
        .expect("PLANT_C workbook")
        .to_str()
        .expect("utf-8")
        .to_string();
    let o = crew(&["profile", "suggest", &xlsx]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let proposal = stdout(&o);
    assert!(
        proposal.starts_with("profile = \"crew-mrv/plant-profile/1\"\nplant_id = \"PLANT_C\"\n"),
        "{proposal}"
    );
    assert!(
        proposal.contains(
            "effluent_flow = { header = \"final effluent flow (m3/d)\", unit = \"m3/d\" }"
        ),
        "{proposal}"
    );
    // The engineer adds the lab's sampling points.
    let edited = proposal.replacen(
        "\n[[operations]]",
        "\n[lab]\nupstream = [\"influent_channel\"]\ndownstream = [\"final_effluent\"]\n\n[[operations]]",
        1,
    );
    let profile = dir.join("plant_c.toml");
    std::fs::write(&profile, &edited).expect("write");
    let p = profile.to_str().expect("utf-8");

    let o = crew(&["profile", "check", p, &xlsx]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("read by PLANT_C / operations (plant_c.toml)"),
        "{out}"
    );
    assert!(out.contains("days 2025-04-01 to 2025-05-31"), "{out}");
    assert!(
        out.contains("68 rows = 61 records + 7 skipped (preamble:3; header:1; blank:1; summary:2)"),
        "{out}"
    );
    assert!(out.contains("    2025-04-01     5       7.9252"), "{out}");
    // PROFILES.md: the flow as read, in the plant's unit, beside m³/day.
    assert!(out.contains("effluent also as read, in m3/d"), "{out}");
    assert!(out.contains("30000.0000   30000.0000"), "{out}");
    assert!(
        out.contains("level 3 unparseable_value: influent_flow 'OFFLINE'"),
        "{out}"
    );

    let bad = dir.join("bad.toml");
    std::fs::write(&bad, edited.replace("header_contains", "header_contain")).expect("write");
    let o = crew(&["profile", "check", bad.to_str().expect("utf-8"), &xlsx]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("bad.toml, line "), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("unknown key 'header_contain'"),
        "{}",
        stderr(&o)
    );

    let out_dir = dir.join("out");
    let mut args = vec!["run", "-q", "--out", out_dir.to_str().expect("utf-8"), p];
    let names: Vec<String> = wrote
        .iter()
        .map(|w| w.to_str().expect("utf-8").to_string())
        .collect();
    args.extend(names.iter().map(String::as_str));
    let o = crew(&args);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let co2 = std::fs::read_to_string(out_dir.join("co2_removal.csv")).expect("co2");
    let day = co2
        .lines()
        .find(|l| l.starts_with("\"PLANT_C\",2025-04-01,"))
        .expect("PLANT_C 04-01");
    assert!(day.contains(",VALID,"), "{day}");
    assert!(day.contains(",30000,30000000,"), "{day}");
    assert!(day.contains(",m3/d,"), "{day}");
    let listed = std::fs::read_to_string(out_dir.join("files.csv")).expect("files");
    assert!(
        listed.contains("\"plant_c.toml\",plant_profile,\"PLANT_C\""),
        "{listed}"
    );

    let o = crew(&["profile", "show", "plant_b"]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("profile = \"crew-mrv/plant-profile/2\""));
    assert!(stdout(&o).contains("header_rows = \"auto\""));
    assert!(!stdout(&o).contains("reader"));
    let o = crew(&["profile", "show", "PLANT_Z"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("PLANT_A, PLANT_B"), "{}", stderr(&o));
}

/// `crew-mrv report` on the committed data: each month × plant row's VALID
/// total is the sum of co2_removal.csv's VALID rows of that plant and month
/// (same order, so the same bits), its days by flag that file's count, and
/// the quarter table adds up to the same totals.
#[test]
fn report_rows_are_co2_removal_sums_per_plant_and_month() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data");
    let data = data.to_str().expect("utf-8 path");
    let tmp = TempDir::new("report");
    let out = tmp.path().join("out");
    let o = crew(&["run", "-q", "-o", out.to_str().expect("path"), data]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let (_, co2) = parse_csv(&read(&out, "co2_removal.csv"));
    let mut sums: std::collections::BTreeMap<(String, String), (f64, u32, u32)> =
        Default::default();
    for r in &co2 {
        let key = (r["date"][..7].to_string(), r["plant_id"].clone());
        let e = sums.entry(key).or_insert((0.0, 0, 0));
        e.2 += 1;
        if r["quality_flag"] == "VALID" && !r["co2_removed_metric_tons_per_day"].is_empty() {
            e.0 += r["co2_removed_metric_tons_per_day"]
                .parse::<f64>()
                .expect("number");
            e.1 += 1;
        }
    }
    let csv = tmp.path().join("month.csv");
    let o = crew(&[
        "report",
        "--by",
        "month",
        "--csv",
        csv.to_str().expect("path"),
        data,
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("plant-days"), "{text}");
    assert!(text.contains("PLANT_A, PLANT_B"), "{text}");
    let (header, rows) = parse_csv(&read(tmp.path(), "month.csv"));
    assert_eq!(header, crew_mrv_core::period::PERIOD_COLUMNS);
    assert_eq!(rows.len(), sums.len());
    for r in &rows {
        let key = (r["period"].clone(), r["plant_id"].clone());
        let (t, valid, days) = sums[&key];
        let got: f64 = r["co2_valid_t"].parse().expect("number");
        assert_eq!(got.to_bits(), t.to_bits(), "{key:?}: {got} vs {t}");
        assert_eq!(r["valid_days"], valid.to_string(), "{key:?}");
        assert_eq!(r["calculated_days"], valid.to_string(), "{key:?}");
        assert_eq!(r["plant_days"], days.to_string(), "{key:?}");
        let conservative: f64 = r["co2_conservative_t"].parse().expect("number");
        assert!(conservative <= got && conservative >= 0.0, "{key:?}");
    }
    // The CSV is the library's bytes for the same files.
    let mut sources = Vec::new();
    for e in std::fs::read_dir(data).expect("data") {
        let p = e.expect("entry").path();
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        // Profiles too: PLANT_C's operations files are read through one.
        if [".csv", ".xlsx", ".xls", ".toml"]
            .iter()
            .any(|ext| name.ends_with(ext))
        {
            sources.push(Source::new(name, std::fs::read(&p).expect("read")));
        }
    }
    let lib = crew_mrv_core::run(&sources, &Config::default());
    assert_eq!(
        std::fs::read(&csv).expect("csv"),
        output_bytes(
            export::Output::PeriodReport(crew_mrv_core::period::Period::Month),
            &lib,
            &Filter::default()
        )
    );

    let o = crew(&["report", "--by", "quarter", "--json", data]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let quarters = json["rows"].as_array().expect("rows");
    assert!(quarters.iter().any(|r| r["period"] == "2025-Q2"));
    for plant in ["PLANT_A", "PLANT_B"] {
        let q: f64 = quarters
            .iter()
            .filter(|r| r["plant_id"] == plant)
            .map(|r| r["co2_valid_t"].as_f64().expect("t"))
            .sum();
        let m: f64 = sums
            .iter()
            .filter(|((_, p), _)| p == plant)
            .map(|(_, v)| v.0)
            .sum();
        assert!(q > 0.0 && (q - m).abs() < 1e-9, "{plant}: {q} vs {m}");
    }

    let o = crew(&["report", "--from", "2025-06-30", "--to", "2025-04-01", data]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("is after"), "{}", stderr(&o));
}

/// Every file of `dir`, name and bytes, sorted by name.
fn dir_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("output dir")
        .map(|e| {
            let p = e.expect("entry").path();
            let name = p.file_name().expect("name").to_string_lossy().into_owned();
            (name, std::fs::read(&p).expect("output"))
        })
        .collect();
    files.sort();
    files
}

/// `--jobs` reads files on several threads and writes `lab_readings.csv`
/// in parts formatted side by side; a merge in completion order, a part
/// written out of turn or a scheduling-dependent finding would make the
/// outputs differ from a one-thread run's. Both the committed set and a
/// generated one (more sensors, another period and seed) are run.
#[test]
fn outputs_are_the_same_bytes_whatever_the_number_of_jobs() {
    let generated = TempDir::new("jobs-generated");
    let opts = crew_mrv_samples::SampleOptions {
        ph_cadence_minutes: 7,
        ph_sensors: 4,
        months: 2,
        start: d(2025, 2, 1),
        seed: 7,
    };
    crew_mrv_samples::write_dir(&opts, generated.path()).expect("generate");
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data");
    for set in [data.as_path(), generated.path()] {
        let mut outputs = Vec::new();
        for jobs in ["1", "4"] {
            let out = TempDir::new(&format!("jobs-{jobs}"));
            let sql = out.path().join("batch.sql");
            let o = crew(&[
                "run",
                "-q",
                "--jobs",
                jobs,
                "--sql",
                sql.to_str().expect("path"),
                "-o",
                out.path().to_str().expect("path"),
                set.to_str().expect("path"),
            ]);
            assert_eq!(code(&o), 0, "{}", stderr(&o));
            outputs.push(dir_files(out.path()));
        }
        let (one, four) = (&outputs[0], &outputs[1]);
        let names = |v: &Vec<(String, Vec<u8>)>| v.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
        assert_eq!(names(one), names(four), "{}", set.display());
        assert!(one.len() >= 9, "{:?}", names(one));
        for ((name, a), (_, b)) in one.iter().zip(four) {
            assert!(
                a == b,
                "{name} differs between --jobs 1 and --jobs 4 on {}",
                set.display()
            );
        }
        let lab = one.iter().find(|f| f.0 == "lab_readings.csv").expect("lab");
        assert!(lab.1.len() > 100_000, "{}", set.display());
    }
    let o = crew(&["run", "-q", "--jobs", "0", "-o", "x", "data"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
}
