//! `import products|stock FILE.csv` and `export products|stock|orders [--out FILE]`.

use std::{
    fs::File,
    io::{self, BufReader, BufWriter, IsTerminal, Read, Write},
    path::Path,
};

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use stockyard_core::{Sheet, catalog::ProductImport, inventory::StockImport};

use super::Context;
use crate::{
    cli::{Export, Exportable, Import, Importable},
    exit::Failure,
    output::{Format, spreadsheet_safe},
};

pub fn import(ctx: &mut Context<'_>, args: Import) -> Result<(), Failure> {
    let (store, actor) = (ctx.store()?, ctx.actor()?);
    let input = open(&args.file)?;
    let bar = bar(ctx.config.quiet);
    let mut progress = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let name = args.file.display().to_string();
    let outcome = match args.what {
        Importable::Products => store
            .catalog()
            .import_products(&actor, input, args.dry_run, &mut progress)
            .map(|report| (products_message(&name, &report), json!(report))),
        Importable::Stock => store
            .inventory()
            .import_stock(&actor, input, args.dry_run, &mut progress)
            .map(|report| (stock_message(&name, &report), json!(report))),
    };
    bar.finish_and_clear();
    let (message, report) = outcome?;
    Ok(ctx.out.done(&message, &report)?)
}

pub fn export(ctx: &mut Context<'_>, args: Export) -> Result<(), Failure> {
    if args.include_personal_data && args.what != Exportable::Orders {
        let reason = "applies to `export orders` only";
        return Err(stockyard_core::Error::invalid("--include-personal-data", reason).into());
    }
    let (store, actor) = (ctx.store()?, ctx.actor()?);
    let json = ctx.config.format == Format::Json;
    let sheet = match args.what {
        Exportable::Products => store.catalog().export_products(&actor)?,
        Exportable::Stock => store.inventory().export_stock(&actor)?,
        // Orders as CSV go to spreadsheets, not back in: a customer's text is never run as
        // a formula there. (Products and stock stay verbatim, to import back exactly.)
        Exportable::Orders => {
            let mut sheet = store.orders().export(&actor, args.include_personal_data)?;
            if !json {
                for cell in sheet.rows.iter_mut().flatten() {
                    *cell = spreadsheet_safe(std::mem::take(cell));
                }
            }
            sheet
        }
    };
    let Some(path) = &args.out else {
        write(ctx.out.raw(), &sheet, json)?;
        return Ok(ctx.out.raw().flush()?);
    };
    let file = File::create(path).map_err(|e| Failure::Other(format!("cannot write {}: {e}", path.display())))?;
    let mut file = BufWriter::new(file);
    write(&mut file, &sheet, json)?;
    file.flush()?;
    let what = format!("{:?}", args.what).to_lowercase();
    let message = format!("exported {} rows of {what} to {}", sheet.rows.len(), path.display());
    Ok(ctx.out.done(&message, &json!({ "exported": what, "rows": sheet.rows.len(), "out": path }))?)
}

fn write(out: &mut impl Write, sheet: &Sheet, json: bool) -> io::Result<()> {
    if json {
        serde_json::to_writer_pretty(&mut *out, &sheet.to_json())?;
        writeln!(out)
    } else {
        sheet.write_csv(out)
    }
}

/// The file, or standard input for `-`.
fn open(path: &Path) -> Result<Box<dyn Read>, Failure> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(io::stdin().lock()));
    }
    let file = File::open(path).map_err(|e| Failure::Other(format!("cannot read {}: {e}", path.display())))?;
    Ok(Box::new(BufReader::new(file)))
}

/// A progress bar on a terminal's standard error; nothing when it is not one, or with
/// `--quiet`.
fn bar(quiet: bool) -> ProgressBar {
    if quiet || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} rows  {elapsed}") {
        bar.set_style(style);
    }
    bar
}

fn products_message(file: &str, r: &ProductImport) -> String {
    let categories = match r.categories_created.as_slice() {
        [] => String::new(),
        names => format!("; new categories: {}", names.join(", ")),
    };
    if r.dry_run {
        format!(
            "{file}: {} rows would create {}, update {} and leave {} as they are{categories}; nothing was changed (dry run)",
            r.rows, r.created, r.updated, r.unchanged
        )
    } else {
        format!(
            "{file}: {} rows: {} created, {} updated, {} unchanged{categories}",
            r.rows, r.created, r.updated, r.unchanged
        )
    }
}

fn stock_message(file: &str, r: &StockImport) -> String {
    if r.dry_run {
        format!(
            "{file}: {} rows would move stock {} times, find {} counts as recorded and set {} thresholds; nothing was changed (dry run)",
            r.rows, r.moved, r.unchanged, r.thresholds_set
        )
    } else {
        format!(
            "{file}: {} rows: stock moved {} times, {} counts as recorded, {} thresholds set",
            r.rows, r.moved, r.unchanged, r.thresholds_set
        )
    }
}
