//! `user add|list|show|role|disable|enable|scope|password|explain|prefs`.

use std::io::Write;

use serde::Serialize;
use stockyard_core::{Action, CreatedUser, Explanation, NewUser, User};

use super::{Context, preferences};
use crate::{cli::UserCommand, exit::Failure, input, output::Column};

/// `user explain`'s answer: the question with the core's explanation.
#[derive(Debug, Serialize)]
struct Answer {
    email: String,
    action: Action,
    warehouse: Option<String>,
    #[serde(flatten)]
    explanation: Explanation,
}

pub fn run(ctx: &mut Context<'_>, command: UserCommand) -> Result<(), Failure> {
    let (store, actor) = (ctx.store()?, ctx.actor()?);
    let users = store.users();
    let user_columns = || columns(|u: &User| u);
    match command {
        UserCommand::Add(add) => {
            let password = if add.password_stdin { Some(input::secret_from_stdin("password")?) } else { None };
            let new = NewUser {
                email: add.email,
                name: add.name,
                role: add.role.parse()?,
                warehouses: add.warehouses,
                password,
            };
            created(ctx, &users.create(&actor, new)?)?;
        }
        UserCommand::List(page) => ctx.out.list(&users.list(&actor, &page.into())?, &user_columns())?,
        UserCommand::Show { email } => ctx.out.one(&users.get(&actor, &email)?, &user_columns())?,
        UserCommand::Role { email, role } => {
            ctx.out.one(&users.set_role(&actor, &email, role.parse()?)?, &user_columns())?
        }
        UserCommand::Disable { email } => {
            let user = users.set_active(&actor, &email, false)?;
            let message = format!("Disabled {}: no more logins, `--as` or sessions for it.", user.email);
            ctx.out.done(&message, &user)?;
        }
        UserCommand::Enable { email } => {
            let user = users.set_active(&actor, &email, true)?;
            ctx.out.done(&format!("Enabled {}.", user.email), &user)?;
        }
        UserCommand::Scope { email, warehouses, clear } => {
            let scope = if clear { Vec::new() } else { warehouses };
            ctx.out.one(&users.set_scope(&actor, &email, &scope)?, &user_columns())?;
        }
        UserCommand::Password { email, .. } => {
            let password = input::secret_from_stdin("password")?;
            let user = users.set_password(&actor, &email, &password)?;
            ctx.out.done(&format!("Changed the password of {}; its sessions ended.", user.email), &user)?;
        }
        UserCommand::Explain { email, action, warehouse } => {
            let explanation = users.explain(&actor, &email, &action, warehouse.as_deref())?;
            let action: Action = action.parse()?;
            let verdict = if explanation.allowed { "allowed" } else { "refused" };
            if ctx.config.quiet {
                writeln!(ctx.out.raw(), "{verdict}")?;
                return Ok(());
            }
            let message = format!("{verdict}: {}", explanation.reason);
            ctx.out.done(&message, &Answer { email, action, warehouse, explanation })?;
        }
        UserCommand::Prefs(prefs) => preferences::run(ctx, &users, &actor, prefs)?,
    }
    Ok(())
}

/// A new user; `--quiet` prints its generated password when there is one (it is shown
/// only this once), else its id.
fn created(ctx: &mut Context<'_>, created: &CreatedUser) -> Result<(), Failure> {
    if ctx.config.quiet {
        let shown = created.generated_password.clone().unwrap_or_else(|| created.user.id.to_string());
        writeln!(ctx.out.raw(), "{shown}")?;
        return Ok(());
    }
    let mut columns = columns(|c: &CreatedUser| &c.user);
    if created.generated_password.is_some() {
        columns.push(Column::new("PASSWORD", |c: &CreatedUser| c.generated_password.clone().unwrap_or_default()));
    }
    ctx.out.one(created, &columns)?;
    if created.generated_password.is_some() {
        ctx.out.note("The password is shown only this once: store it now.")?;
    }
    Ok(())
}

/// The columns of the user inside `T`. An empty scope shows as `(all)`.
fn columns<T: 'static>(user: fn(&T) -> &User) -> Vec<Column<'static, T>> {
    let warehouses = move |t: &T| match user(t).warehouses.as_slice() {
        [] => "(all)".to_owned(),
        codes => codes.join(","),
    };
    vec![
        Column::new("EMAIL", move |t: &T| user(t).email.clone()),
        Column::new("NAME", move |t: &T| user(t).name.clone()),
        Column::new("ROLE", move |t: &T| user(t).role.to_string()),
        Column::new("WAREHOUSES", warehouses),
        Column::new("ACTIVE", move |t: &T| user(t).active.to_string()),
        Column::wide("ID", move |t: &T| user(t).id.to_string()),
        Column::wide("CREATED_AT", move |t: &T| user(t).created_at.to_string()),
        Column::wide("UPDATED_AT", move |t: &T| user(t).updated_at.to_string()),
    ]
}
