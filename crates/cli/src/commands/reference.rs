//! `openapi` and `man`: the project's reference documents, made from the code that they
//! describe (the HTTP router, the clap grammar) so that they cannot drift from it.

use std::{fmt::Write as _, io::Write, path::PathBuf};

use clap::{Arg, Command};

use super::Context;
use crate::{
    cli::{Man, examples},
    exit::Failure,
};

pub fn openapi(ctx: &mut Context<'_>, out: Option<PathBuf>) -> Result<(), Failure> {
    write(ctx, out, &openapi_json())
}

pub fn man(ctx: &mut Context<'_>, Man { out, markdown }: Man) -> Result<(), Failure> {
    if markdown {
        return write(ctx, out, &markdown_reference());
    }
    let dir = out.ok_or_else(|| Failure::Other("man pages need a folder: --out DIR".into()))?;
    std::fs::create_dir_all(&dir).map_err(|e| Failure::Other(format!("cannot create {}: {e}", dir.display())))?;
    clap_mangen::generate_to(examples::command(), &dir)
        .map_err(|e| Failure::Other(format!("cannot write man pages to {}: {e}", dir.display())))?;
    let pages = examples::walk(&examples::command()).len();
    let message = format!("Wrote {pages} man pages to {}.", dir.display());
    Ok(ctx.out.done(&message, &serde_json::json!({ "pages": pages, "dir": dir }))?)
}

/// A document to a file, or to standard output.
fn write(ctx: &mut Context<'_>, out: Option<PathBuf>, document: &str) -> Result<(), Failure> {
    match out {
        Some(path) => {
            std::fs::write(&path, document).map_err(|e| Failure::Other(format!("cannot write {}: {e}", path.display())))
        }
        None => Ok(ctx.out.raw().write_all(document.as_bytes())?),
    }
}

/// The OpenAPI document as `docs/openapi.json` holds it.
fn openapi_json() -> String {
    let mut json = serde_json::to_string_pretty(&stockyard_server::openapi()).unwrap_or_default();
    json.push('\n');
    json
}

/// Every command as Markdown: global options once, then each command's usage, arguments,
/// options and examples (`docs/cli-reference.md`).
fn markdown_reference() -> String {
    let mut root = <crate::cli::Cli as clap::CommandFactory>::command().disable_help_subcommand(true);
    root.build();
    let mut doc = String::from(
        "# `stockyard` command reference\n\n\
         Generated from the command-line grammar by `stockyard man --markdown --out docs/cli-reference.md`; \
         a test fails when it is stale. Output shapes, exit codes and scripting advice are in \
         [cli.md](cli.md).\n\n## Global options\n\nEvery command takes these.\n\n",
    );
    options_table(&mut doc, root.get_arguments().filter(|a| a.is_global_set()));
    for (path, command) in examples::walk(&root).into_iter().skip(1) {
        section(&mut doc, &path, command);
    }
    doc
}

fn section(doc: &mut String, path: &str, command: &Command) {
    let _ = write!(doc, "\n## `stockyard {path}`\n\n");
    if let Some(about) = command.get_long_about().or(command.get_about()) {
        let _ = write!(doc, "{about}\n\n");
    }
    let usage = command.clone().render_usage().to_string();
    let _ = write!(doc, "```\n{}\n```\n\n", usage.trim_start_matches("Usage: ").trim());
    let subcommands: Vec<&Command> = command.get_subcommands().collect();
    if !subcommands.is_empty() {
        doc.push_str("| command | what it does |\n|---|---|\n");
        for sub in subcommands {
            let about = sub.get_about().map(|a| cell(&a.to_string())).unwrap_or_default();
            let _ = writeln!(doc, "| [`{0}`](#stockyard-{1}-{0}) | {about} |", sub.get_name(), path.replace(' ', "-"));
        }
        doc.push('\n');
    }
    options_table(doc, command.get_arguments().filter(|a| !a.is_global_set()));
    if let Some(after) = command.get_after_help() {
        let _ = write!(doc, "{after}\n\n");
    }
    if let Some((_, lines)) = examples::EXAMPLES.iter().find(|(p, _)| *p == path) {
        let _ = write!(doc, "```sh\n{}\n```\n", lines.join("\n"));
    }
}

/// Arguments and options as a table; help and version flags left out.
fn options_table<'a>(doc: &mut String, args: impl Iterator<Item = &'a Arg>) {
    let args: Vec<&Arg> =
        args.filter(|a| !a.is_hide_set() && !matches!(a.get_id().as_str(), "help" | "version")).collect();
    if args.is_empty() {
        return;
    }
    doc.push_str("| argument | meaning |\n|---|---|\n");
    for arg in args {
        let mut meaning = arg.get_long_help().or(arg.get_help()).map(|h| sentence(&h.to_string())).unwrap_or_default();
        let values: Vec<String> = arg
            .get_possible_values()
            .iter()
            .filter(|v| !v.is_hide_set())
            .map(|v| format!("`{}`", v.get_name()))
            .collect();
        if !values.is_empty() && arg.get_value_parser().possible_values().is_some() {
            let _ = write!(meaning, " One of {}.", values.join(", "));
        }
        let flag = !arg.get_num_args().is_some_and(|n| n.takes_values()) && !arg.is_positional();
        if let (Some(default), false) = (arg.get_default_values().first(), flag) {
            let _ = write!(meaning, " Default `{}`.", default.to_string_lossy());
        }
        if let Some(env) = arg.get_env() {
            let _ = write!(meaning, " Environment `{}`.", env.to_string_lossy());
        }
        let _ = writeln!(doc, "| `{}` | {} |", cell(&synopsis(arg)), meaning.trim());
    }
    doc.push('\n');
}

/// How an argument is written: `<SKU>`, `--warehouse <W>`, `-f, --follow`.
fn synopsis(arg: &Arg) -> String {
    let names = arg.get_value_names().map(|n| n.iter().map(|n| format!("<{n}>")).collect::<Vec<_>>().join(" "));
    let value = names.unwrap_or_else(|| format!("<{}>", arg.get_id().as_str().to_uppercase()));
    let takes_value = arg.get_num_args().is_some_and(|n| n.takes_values());
    let many = if arg.get_num_args().is_some_and(|n| n.max_values() > 1) { "..." } else { "" };
    match (arg.get_short(), arg.get_long()) {
        (_, None) => format!("{value}{many}"),
        (short, Some(long)) => {
            let short = short.map(|s| format!("-{s}, ")).unwrap_or_default();
            if takes_value { format!("{short}--{long} {value}{many}") } else { format!("{short}--{long}") }
        }
    }
}

/// Help text as a sentence in a table cell, so what follows it reads apart.
fn sentence(help: &str) -> String {
    let text = cell(help);
    if text.ends_with(['.', ')']) { text } else { format!("{text}.") }
}

/// Text that stays inside one Markdown table cell.
fn cell(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// A committed document must be what its command writes now.
    fn assert_current(file: &str, now: &str, command: &str) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(file);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(committed == now, "{file} is stale: run `cargo run -p stockyard-cli -- {command}` and commit it");
    }

    #[test]
    fn docs_openapi_json_is_current() {
        assert_current("docs/openapi.json", &openapi_json(), "openapi --out docs/openapi.json");
    }

    #[test]
    fn docs_cli_reference_is_current() {
        assert_current("docs/cli-reference.md", &markdown_reference(), "man --markdown --out docs/cli-reference.md");
    }

    #[test]
    fn every_argument_says_what_it_is() {
        let root = examples::command();
        let mut silent = Vec::new();
        for (path, command) in examples::walk(&root) {
            for arg in command.get_arguments().filter(|a| !a.is_hide_set()) {
                if arg.get_help().is_none_or(|h| h.to_string().trim().is_empty()) {
                    silent.push(format!("`stockyard {path}` {}", synopsis(arg)));
                }
            }
        }
        assert!(silent.is_empty(), "arguments without help text: {}", silent.join(", "));
    }

    #[test]
    fn every_help_page_matches_its_snapshot() {
        let mut root = examples::command();
        root.build();
        for (path, command) in
            examples::walk(&root).into_iter().filter(|(path, _)| !path.split(' ').any(|w| w == "help"))
        {
            let name = if path.is_empty() { "stockyard".to_owned() } else { format!("stockyard {path}") };
            let help = command.clone().render_long_help().to_string();
            insta::assert_snapshot!(name.replace(' ', "-"), help);
        }
    }
}
