//! `audit list|verify|head`, `key rotate` and `verify`: the records that prove what happened,
//! the keys that protect what is stored, and the check that both — and every projection —
//! still hold.

use stockyard_core::{
    Anchor, AuditRecord, ChainHead, ChainReport, Error, Mismatch,
    crypto::{self, rotation::KeyCheck},
    inventory::Difference,
};

use super::Context;
use crate::{
    cli::{AnchorArg, AuditCommand, KeyCommand, KeyRotate},
    exit::Failure,
    output::Column,
};

pub fn audit(ctx: &mut Context<'_>, command: AuditCommand) -> Result<(), Failure> {
    let (store, actor) = (ctx.store()?, ctx.actor()?);
    match command {
        AuditCommand::List { entity, page } => {
            let records = store.audit().list(&actor, entity.as_deref(), &page.into())?;
            Ok(ctx.out.list(&records, &record_columns())?)
        }
        AuditCommand::Verify(AnchorArg { anchor }) => {
            let report = store.audit().verify_against(&actor, parse_anchor(anchor)?.as_ref())?;
            ctx.out.done(&chain_message(&report), &report)?;
            chain_failure(&report).map_or(Ok(()), |why| Err(Failure::Unverified(why)))
        }
        AuditCommand::Head => Ok(ctx.out.one(&store.audit().head(&actor)?, &head_columns())?),
    }
}

fn parse_anchor(anchor: Option<String>) -> Result<Option<Anchor>, Failure> {
    Ok(anchor.map(|a| a.parse()).transpose()?)
}

/// Checks the stock levels against a replay of the event log, every other projection
/// against the log, the hash chains (against an anchor, if given) and that the keyring holds
/// every key in use. Prints them all; fails naming each that does not hold.
pub fn verify(ctx: &mut Context<'_>, AnchorArg { anchor: given }: AnchorArg) -> Result<(), Failure> {
    let (store, actor) = (ctx.store()?, ctx.actor()?);
    let anchor = parse_anchor(given)?;
    let stock = store.inventory().verify(&actor)?;
    let projections = store.audit().projections(&actor)?;
    let audit = store.audit().verify_against(&actor, anchor.as_ref())?;
    let keys = store.keys().check(&actor)?;
    // The stock report's shape, with the other checks beside it and `ok` covering all.
    let mut value = to_json(&stock)?;
    value["ok"] = (stock.ok && projections.ok && audit.ok && keys.ok).into();
    value["projections"] = to_json(&projections)?;
    value["audit"] = to_json(&audit)?;
    value["keys"] = to_json(&keys)?;
    let mut failures = Vec::new();
    if !stock.ok {
        let n = stock.differences.len();
        failures.push(format!(
            "verify found {n} difference{} between the stock projection and the event log \
             (`stockyard events replay` rebuilds the projection from the log)",
            plural(n)
        ));
    }
    if let Some(first) = projections.mismatches.first() {
        let n = projections.mismatches.len();
        failures.push(format!(
            "{n} value{} in the tables disagree{} with the event log, first {} {} {}: {} in the table, {} by the log",
            plural(n),
            if n == 1 { "s" } else { "" },
            first.table,
            first.key,
            first.field,
            first.projection,
            first.events
        ));
    }
    failures.extend(chain_failure(&audit));
    if !keys.ok {
        failures.push(keys_message(&keys));
    }
    if !stock.ok {
        ctx.out.report(&value, &stock.differences, &difference_columns())?;
    } else if !projections.ok {
        ctx.out.report(&value, &projections.mismatches, &mismatch_columns())?;
    } else {
        let message = format!(
            "OK: the stock projection matches the event log ({} stock events up to seq {}, {} levels).\n\
             OK: movements, reservations, orders, products and users match the event log ({} events).\n{}\n{}",
            stock.events_applied,
            stock.to_seq,
            stock.levels,
            projections.events,
            chain_message(&audit),
            if keys.ok {
                format!("OK: the keyring holds every key in use ({}).", keys.in_use.join(", "))
            } else {
                keys_message(&keys)
            }
        );
        ctx.out.done(&message, &value)?;
    }
    for unchecked in projections.unchecked.iter().take(20) {
        ctx.out.note(&format!("not checked: {unchecked}"))?;
    }
    if failures.is_empty() { Ok(()) } else { Err(Failure::Unverified(failures.join("; and "))) }
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<serde_json::Value, Failure> {
    serde_json::to_value(value).map_err(|e| Failure::Other(e.to_string()))
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
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
        None => format!(
            "OK: the audit chain holds ({} records up to seq {}) and covers the event log ({} events up to seq {}){}.",
            report.records,
            report.head.seq,
            report.events,
            report.event_head.seq,
            report.anchor.as_ref().map(|a| format!(", anchored at record {}", a.seq)).unwrap_or_default()
        ),
        Some(problem) => format!("The audit chain is broken: {}.", problem.reason),
    }
}

fn chain_failure(report: &ChainReport) -> Option<String> {
    report.problem.as_ref().map(|problem| format!("the audit chain is broken: {}", problem.reason))
}

fn head_columns() -> Vec<Column<'static, ChainHead>> {
    vec![
        Column::new("LENGTH", |h: &ChainHead| h.length.to_string()),
        Column::new("SEQ", |h: &ChainHead| h.seq.to_string()),
        Column::new("HASH", |h: &ChainHead| h.hash.clone()),
        Column::new("EVENT_SEQ", |h: &ChainHead| h.event_seq.to_string()),
        Column::new("ANCHOR", |h: &ChainHead| h.anchor.clone()),
    ]
}

fn mismatch_columns() -> Vec<Column<'static, Mismatch>> {
    vec![
        Column::new("TABLE", |m: &Mismatch| m.table.clone()),
        Column::new("KEY", |m: &Mismatch| m.key.clone()),
        Column::new("FIELD", |m: &Mismatch| m.field.clone()),
        Column::new("TABLE_VALUE", |m: &Mismatch| m.projection.clone()),
        Column::new("EVENT_LOG", |m: &Mismatch| m.events.clone()),
    ]
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
