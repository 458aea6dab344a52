//! The library's folders are layers: each uses only the layers below it, so there is no import
//! cycle between them and a newcomer can read the library from the bottom up. This test reads
//! every source file's `crate::` paths (outside comments and test modules) and fails on any
//! that runs up.

use std::path::{Path, PathBuf};

/// The layers from the bottom up (the first part of a module's path under `src/`).
const LAYERS: &[&[&str]] = &[
    &["engine"],
    &["domain"],
    &["ports"],
    &["lambda"],
    &["api"],
    &["register"],
    &["receipt"],
    &["upload"],
    &["station"],
    &["report"],
    &["validation"],
    &["notification"],
    &["front_desk"],
    &["adapters"],
    &["aws", "in_memory"],
];

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|names| names.contains(&module))
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            // Fixtures are data; a module's `tests/` folder holds its tests.
            if !matches!(
                path.file_name().and_then(|n| n.to_str()),
                Some("fixtures" | "tests")
            ) {
                sources(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs")
            && path.file_name().is_some_and(|n| n != "tests.rs")
        {
            out.push(path);
        }
    }
}

/// The code of a file without its test module and its comments.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]\nmod tests").next().unwrap_or(text);
    text.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first part of each `crate::` path in `code`.
fn uses(code: &str) -> Vec<String> {
    code.match_indices("crate::")
        .filter(|(at, _)| {
            // `intake_crate::` or `$crate::` are not ours.
            code[..*at]
                .chars()
                .last()
                .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '$'))
        })
        .map(|(at, _)| {
            code[at + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

#[test]
fn every_folder_uses_only_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    assert!(files.len() > 40, "the sources are found ({})", files.len());
    let mut upward = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap_or(file);
        let first = relative
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .unwrap_or("")
            .trim_end_matches(".rs")
            .to_string();
        if first == "lib" {
            continue;
        }
        let Some(own) = layer(&first) else {
            panic!(
                "{} is in no layer: add its folder to LAYERS",
                relative.display()
            );
        };
        let text = std::fs::read_to_string(file).unwrap_or_default();
        for used in uses(&code(&text)) {
            match layer(&used) {
                Some(theirs) if theirs > own || (theirs == own && used != first) => {
                    upward.push(format!("{} uses crate::{used}", relative.display()));
                }
                Some(_) => {}
                None => panic!("{} uses crate::{used}, in no layer", relative.display()),
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports that run up the layers:\n{}",
        upward.join("\n")
    );
}

#[test]
fn the_check_sees_an_import_that_runs_up() {
    let own = layer("engine");
    let used = uses(&code(
        "use crate::domain::model::Channel;\n// crate::aws in a comment\nfn f() {}\n#[cfg(test)]\nmod tests { use crate::aws; }",
    ));
    assert_eq!(used, vec!["domain".to_string()]);
    assert!(layer(&used[0]) > own);
}
