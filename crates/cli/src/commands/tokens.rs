//! `token create|list|revoke`: API tokens, whose secret is shown only at creation.

use std::io::Write;

use jiff::Timestamp;
use stockyard_core::auth::{ApiToken, CreatedToken, NewApiToken};

use super::Context;
use crate::{cli::TokenCommand, exit::Failure, output::Column};

pub fn run(ctx: &mut Context<'_>, command: TokenCommand) -> Result<(), Failure> {
    let (store, actor) = (ctx.store()?, ctx.actor()?);
    let auth = store.auth();
    match command {
        TokenCommand::Create { name, role, expires, warehouses } => {
            let created =
                auth.create_token(&actor, NewApiToken { name, role: role.parse()?, warehouses, expires_in: expires })?;
            if ctx.config.quiet {
                writeln!(ctx.out.raw(), "{}", created.secret)?;
                return Ok(());
            }
            let mut columns = columns(|c: &CreatedToken| &c.token, store.now());
            columns.push(Column::new("SECRET", |c: &CreatedToken| c.secret.clone()));
            ctx.out.one(&created, &columns)?;
            ctx.out.note("The secret is shown only this once: store it now.")?;
        }
        TokenCommand::List(page) => {
            ctx.out.list(&auth.tokens(&actor, &page.into())?, &columns(|t: &ApiToken| t, store.now()))?;
        }
        TokenCommand::Revoke { name } => {
            let token = auth.revoke_token(&actor, &name)?;
            ctx.out.done(&format!("Revoked API token {}: it is refused from now on.", token.name), &token)?;
        }
    }
    Ok(())
}

/// The columns of the token inside `T`; STATUS is `active`, `expired` (by `now`) or
/// `revoked`. An empty scope shows as `(all)`.
fn columns<T: 'static>(token: fn(&T) -> &ApiToken, now: Timestamp) -> Vec<Column<'static, T>> {
    let time = |t: Option<Timestamp>| t.map(|t| t.to_string()).unwrap_or_default();
    let warehouses = move |t: &T| match token(t).warehouses.as_slice() {
        [] => "(all)".to_owned(),
        codes => codes.join(","),
    };
    vec![
        Column::new("NAME", move |t: &T| token(t).name.clone()),
        Column::new("ROLE", move |t: &T| token(t).role.to_string()),
        Column::new("WAREHOUSES", warehouses),
        Column::new("STATUS", move |t: &T| status(token(t), now).to_owned()),
        Column::new("EXPIRES_AT", move |t: &T| time(token(t).expires_at)),
        Column::new("CREATED_BY", move |t: &T| token(t).created_by.clone()),
        Column::new("CREATED_AT", move |t: &T| token(t).created_at.to_string()),
        Column::wide("REVOKED_AT", move |t: &T| time(token(t).revoked_at)),
        Column::wide("ID", move |t: &T| token(t).id.to_string()),
    ]
}

fn status(token: &ApiToken, now: Timestamp) -> &'static str {
    match (token.revoked_at, token.expires_at) {
        (Some(_), _) => "revoked",
        (None, Some(at)) if at <= now => "expired",
        _ => "active",
    }
}
