//! `audit list|verify`, `key rotate` and `verify`: the records that prove what happened, the
//! keys that protect what is stored, and the check that both — and the stock — still hold.

use stockyard_core::{
    AuditRecord, ChainReport, Error, Page,
    crypto::{self, rotation::KeyCheck},
    inventory::Difference,
};

use super::Context;
use crate::{
    cli::{AuditCommand, KeyCommand, KeyRotate},
    exit::Failure,
    output::Column,
};

pub fn audit(ctx: &mut Context<'_>, command: AuditCommand) -> Result<(), Failure> {
    let (store, actor) = (ctx.store()?, ctx.actor()?);
    match command {
        AuditCommand::List { entity } => {
            let records = store.audit().list(&actor, entity.as_deref())?;
            Ok(ctx.out.list(&Page { items: records, next_cursor: None }, &record_columns())?)
        }
        AuditCommand::Verify => {
            let report = store.audit().verify(&actor)?;
            ctx.out.done(&chain_message(&report), &report)?;
            chain_failure(&report)
        }
    }
}

/// Checks the stock projection against a replay of the event log, the audit chain, and
/// that the keyring holds every key in use. Prints all three; fails when one does not hold.
pub fn verify(ctx: &mut Context<'_>) -> Result<(), Failure> {
    let (store, actor) = (ctx.store()?, ctx.actor()?);
    let stock = store.inventory().verify(&actor)?;
    let audit = store.audit().verify(&actor)?;
    let keys = store.keys().check(&actor)?;
    // The stock report's shape, with the chain's and the keys' beside it and `ok` covering all.
    let mut value = serde_json::to_value(&stock).map_err(|e| Failure::Other(e.to_string()))?;
    value["ok"] = (stock.ok && audit.ok && keys.ok).into();
    value["audit"] = serde_json::to_value(&audit).map_err(|e| Failure::Other(e.to_string()))?;
    value["keys"] = serde_json::to_value(&keys).map_err(|e| Failure::Other(e.to_string()))?;
    if !keys.ok {
        ctx.out.done(&keys_message(&keys), &value)?;
        return Err(Failure::Unverified(keys_message(&keys)));
    }
    if stock.ok {
        let message = format!(
            "OK: the stock projection matches the event log ({} stock events up to seq {}, {} levels).\n{}",
            stock.events_applied,
            stock.to_seq,
            stock.levels,
            chain_message(&audit)
        );
        ctx.out.done(&message, &value)?;
        return chain_failure(&audit);
    }
    ctx.out.report(&value, &stock.differences, &difference_columns())?;
    let n = stock.differences.len();
    Err(Failure::Unverified(format!(
        "verify found {n} difference{} between the stock projection and the event log \
         (`stockyard events replay` rebuilds the projection from the log){}",
        if n == 1 { "" } else { "s" },
        audit.problem.map(|p| format!("; and {}", p.reason)).unwrap_or_default()
    )))
}

pub fn key(ctx: &mut Context<'_>, command: KeyCommand) -> Result<(), Failure> {
    let KeyCommand::Rotate(KeyRotate { new_key_file, resume }) = command;
    let (store, actor) = (ctx.store()?, ctx.actor()?);
    let report = if resume {
        store.keys().resume(&actor)?
    } else {
        let new_key = new_key_file
            .map(|path| {
                // A key is 44 characters of base64; room for a line ending and spaces.
                let text = crate::input::file(&path, "new key file", 1024)?;
                crypto::decode_key(&text).map_err(|why| {
                    Failure::from(Error::invalid("new key file", format!("{}: the key {why}", path.display())))
                })
            })
            .transpose()?;
        store.keys().rotate(&actor, new_key)?
    };
    let message = format!(
        "Everything is sealed under key {} now ({} value(s) re-encrypted); the keyring holds {}.",
        report.key_id,
        report.resealed,
        report.keyring.join(", ")
    );
    Ok(ctx.out.done(&message, &report)?)
}

fn keys_message(keys: &KeyCheck) -> String {
    if keys.missing.is_empty() {
        "the keyring's blind-index key is not the one the database records: look-ups by email or phone find nothing"
            .into()
    } else {
        format!("the keyring lacks key(s) {} that stored values are sealed with", keys.missing.join(", "))
    }
}

fn chain_message(report: &ChainReport) -> String {
    match &report.problem {
        None => format!("OK: the audit chain holds ({} records up to seq {}).", report.records, report.head.seq),
        Some(problem) => format!("The audit chain is broken: {}.", problem.reason),
    }
}

fn chain_failure(report: &ChainReport) -> Result<(), Failure> {
    match &report.problem {
        None => Ok(()),
        Some(problem) => Err(Failure::Unverified(format!("the audit chain is broken: {}", problem.reason))),
    }
}

fn record_columns() -> Vec<Column<'static, AuditRecord>> {
    let summary = |v: &Option<serde_json::Value>| v.as_ref().map(ToString::to_string).unwrap_or_default();
    vec![
        Column::new("SEQ", |r: &AuditRecord| r.seq.to_string()),
        Column::new("TIME", |r: &AuditRecord| r.occurred_at.to_string()),
        Column::new("ACTOR", |r: &AuditRecord| r.actor.clone()),
        Column::new("ACTION", |r: &AuditRecord| r.action.clone()),
        Column::new("ENTITY", |r: &AuditRecord| format!("{}:{}", r.entity_type, r.entity_id)),
        Column::wide("BEFORE", move |r: &AuditRecord| summary(&r.before)),
        Column::wide("AFTER", move |r: &AuditRecord| summary(&r.after)),
        Column::wide("HASH", |r: &AuditRecord| r.hash.clone()),
    ]
}

fn difference_columns() -> Vec<Column<'static, Difference>> {
    vec![
        Column::new("SKU", |d: &Difference| d.sku.clone()),
        Column::new("WAREHOUSE", |d: &Difference| d.warehouse.clone()),
        Column::new("FIELD", |d: &Difference| d.field.clone()),
        Column::new("PROJECTION", |d: &Difference| d.projection.to_string()),
        Column::new("REPLAY", |d: &Difference| d.replay.to_string()),
        Column::wide("PRODUCT_ID", |d: &Difference| d.product_id.clone()),
    ]
}
