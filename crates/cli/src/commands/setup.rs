//! `init` (with its first admin) and `demo`.

use std::io::Write;

use serde::Serialize;
use stockyard_core::{Actor, CreatedUser, InitReport, Store, demo};

use super::Context;
use crate::{cli::Init, exit::Failure, input};

/// What `init` did, and with `--admin` the admin user: its password included when it was
/// generated (shown this once).
#[derive(Debug, Serialize)]
struct InitOutput {
    #[serde(flatten)]
    report: InitReport,
    #[serde(skip_serializing_if = "Option::is_none")]
    admin: Option<CreatedUser>,
    /// Whether this run created the admin (false: a user with that email existed).
    #[serde(skip_serializing_if = "Option::is_none")]
    admin_created: Option<bool>,
}

/// Always runs as the built-in `local-admin`: no user can exist before it.
pub fn init(ctx: &mut Context<'_>, init: Init) -> Result<(), Failure> {
    let actor = Actor::local_admin();
    let password = if init.password_stdin { Some(input::secret_from_stdin("password")?) } else { None };
    let store = Store::create(&ctx.config.database, &ctx.config.store)?;
    // The admin first: refused input (a weak password) then leaves the store untouched.
    let admin =
        init.admin.map(|email| Ok::<_, Failure>((store.users().ensure_admin(&actor, &email, password)?, email)));
    let admin = admin.transpose()?;
    let report = store.init(&actor)?;
    let mut lines = vec![if report.initialised {
        format!("Initialised {} (warehouse {} created).", store.location(), report.warehouses_created.join(", "))
    } else {
        format!("{} is already initialised.", store.location())
    }];
    let mut output = InitOutput { report, admin: None, admin_created: None };
    if let Some((ensured, email)) = admin {
        let users = store.users();
        let (admin, created) = match ensured {
            Some(created) => {
                lines.push(format!("Created admin user {}.", created.user.email));
                (created, true)
            }
            None => {
                let user = users.get(&actor, &email)?;
                lines.push(format!("A user with email {} exists already (role {}).", user.email, user.role));
                (CreatedUser { user, generated_password: None }, false)
            }
        };
        if let Some(password) = &admin.generated_password {
            lines.push(format!("Its password, shown only this once (store it now): {password}"));
        }
        (output.admin, output.admin_created) = (Some(admin), Some(created));
    }
    if ctx.config.quiet {
        if let Some(password) = output.admin.as_ref().and_then(|a| a.generated_password.as_ref()) {
            writeln!(ctx.out.raw(), "{password}")?;
        }
        return Ok(());
    }
    if !output.report.initialised && output.admin_created != Some(true) {
        lines.push("Nothing changed.".into());
    }
    Ok(ctx.out.done(&lines.join("\n"), &output)?)
}

pub fn demo(ctx: &mut Context<'_>, products: usize) -> Result<(), Failure> {
    let (store, actor) = (ctx.store()?, ctx.actor()?);
    let report = demo::seed(&store, &actor, products)?;
    let message = format!(
        "Demo data: {} categories, {} warehouses, {} products created (existing ones kept); {} stock movements, \
         {} levels at or below their reorder point (`stockyard stock show --low`), {} active reservations, \
         {} orders (`stockyard order list`).",
        report.categories_created,
        report.warehouses_created,
        report.products_created,
        report.stock_movements,
        report.low_stock,
        report.reservations_created,
        report.orders_created
    );
    Ok(ctx.out.done(&message, &report)?)
}
