//! `order create|list|show|update|pay|status|pick|cancel|return|refund`.

use std::io::Write;

use serde::Serialize;
use stockyard_core::{
    Money, Order,
    orders::{Customer, LineExplanation, NewOrder, OrderLine, OrderPatch, OrderQuery},
};

use super::Context;
use crate::{
    cli::{OrderCommand, OrderCreate, OrderList, OrderReturn, OrderUpdate},
    exit::Failure,
    output::Column,
};

/// An order as `order show` prints it; with `--explain`, why each line is served where it is.
#[derive(Debug, Serialize)]
struct Shown {
    #[serde(flatten)]
    order: Order,
    #[serde(skip_serializing_if = "Option::is_none")]
    explanation: Option<Vec<LineExplanation>>,
}

/// What a dry run would place: the order, marked as never placed.
#[derive(Debug, Serialize)]
struct Rehearsed<'o> {
    #[serde(flatten)]
    order: &'o Order,
    dry_run: bool,
}

pub fn run(ctx: &mut Context<'_>, command: OrderCommand) -> Result<(), Failure> {
    let (store, actor) = (ctx.store()?, ctx.actor()?);
    let orders = store.orders();
    match command {
        OrderCommand::Create(create) => {
            let dry_run = create.dry_run;
            // A dry run places nothing, so it has nothing to do once: its key is not used.
            let keyed = if dry_run { actor.clone() } else { create.key.on(actor.clone())? };
            let input = new_order(create);
            if dry_run {
                let order = orders.preview(&actor, input)?;
                let message = format!(
                    "Dry run: the order would be {}, total {}.\n{}\nNothing was placed.",
                    order.status,
                    order.total,
                    served(&order)
                );
                ctx.out.done(&message, &Rehearsed { order: &order, dry_run: true })?;
            } else {
                let order = orders.create(&keyed, input)?;
                if ctx.config.quiet {
                    writeln!(ctx.out.raw(), "{}", order.id)?;
                    return Ok(());
                }
                let message = format!(
                    "Placed order {} ({}): {}, total {}.\n{}",
                    order.number,
                    order.id,
                    order.status,
                    order.total,
                    served(&order)
                );
                ctx.out.done(&message, &order)?;
            }
        }
        OrderCommand::List(list) => {
            let page = orders.list(&actor, &query(list)?)?;
            ctx.out.list(&page, &columns(|o: &Order| o))?;
        }
        OrderCommand::Show { id, explain } => {
            let order = orders.order(&actor, &id)?;
            let explanation = if explain { Some(orders.explain(&actor, &id)?) } else { None };
            let mut columns = columns(|s: &Shown| &s.order);
            if explain {
                columns.push(Column::new("EXPLANATION", |s: &Shown| {
                    let reasons = s.explanation.iter().flatten().map(|e| e.reason.as_str());
                    reasons.collect::<Vec<_>>().join("\n")
                }));
            }
            ctx.out.one(&Shown { order, explanation }, &columns)?;
        }
        OrderCommand::Update(OrderUpdate { id, email, name, phone, address, notes, if_version }) => {
            let patch = OrderPatch { email, name, phone, address, notes, expected_version: if_version };
            let order = orders.update(&actor, &id, patch)?;
            ctx.out.done(&format!("Updated order {} (version {}).", order.number, order.version), &order)?;
        }
        OrderCommand::Pay { id, amount, reference, key } => {
            let order = orders.pay(&key.on(actor)?, &id, amount.as_deref(), reference.as_deref())?;
            let received = order.payments.last().map(|p| p.amount.to_string()).unwrap_or_default();
            let owed = Money::from_minor(order.total.minor() - order.paid.minor(), order.currency);
            let message = if owed.minor() == 0 {
                format!("Order {} is paid: received {received}, {} in all.", order.number, order.paid)
            } else {
                format!(
                    "Order {}: received {received}; {} of {} paid, {owed} owed.",
                    order.number,
                    order.paid.amount(),
                    order.total
                )
            };
            ctx.out.done(&message, &order)?;
        }
        OrderCommand::Status { id, status, tracking } => {
            let order = orders.set_status(&actor, &id, status.parse()?, tracking.as_deref())?;
            let tracking = order.tracking_number.as_ref().map(|t| format!(" (tracking {t})")).unwrap_or_default();
            let message = format!("Order {} is now {}{tracking}.", order.number, order.status);
            ctx.out.done(&message, &order)?;
        }
        OrderCommand::Pick { id, item: (code, quantity), warehouse } => {
            let order = orders.pick(&actor, &id, &code, quantity, warehouse.as_deref())?;
            let (picked, of) = order.allocations.iter().fold((0, 0), |(p, q), a| (p + a.picked, q + a.quantity));
            let progress = if picked == of { format!("all {of} units") } else { format!("{picked} of {of} units") };
            let message = format!("Order {}: {progress} picked; it is now {}.", order.number, order.status);
            ctx.out.done(&message, &order)?;
        }
        OrderCommand::Cancel { id, reason } => {
            let order = orders.cancel(&actor, &id, reason.as_deref())?;
            let mut message = format!("Cancelled order {}: its stock is released.", order.number);
            if order.refund_due {
                message.push_str(&format!(
                    " It was paid {}: refund it with `stockyard order refund {}`.",
                    order.paid, order.number
                ));
            }
            ctx.out.done(&message, &order)?;
        }
        OrderCommand::Return(OrderReturn { id, lines, request }) => {
            let order = orders.return_goods(&actor, &id, &lines, request)?;
            let message = if request {
                let lines: Vec<String> =
                    order.returns.iter().map(|r| format!("{} × {} ({})", r.quantity, r.sku, r.disposition)).collect();
                format!(
                    "Return of order {} requested: {}. Receive it with `stockyard order return {}`.",
                    order.number,
                    lines.join(", "),
                    order.number
                )
            } else {
                let lines: Vec<String> = order
                    .returns
                    .iter()
                    .map(|r| match r.disposition {
                        "scrap" => format!("{} × {} written off", r.quantity, r.sku),
                        _ => format!("{} × {} restocked at {}", r.quantity, r.sku, r.warehouse),
                    })
                    .collect();
                format!("Order {} returned: {}.", order.number, lines.join(", "))
            };
            ctx.out.done(&message, &order)?;
        }
        OrderCommand::Refund { id, amount } => {
            let order = orders.refund(&actor, &id, amount.as_deref())?;
            let left = Money::from_minor(order.paid.minor() - order.refunded.minor(), order.currency);
            let message = if left.minor() == 0 {
                format!("Order {} is refunded: {} of the {} paid.", order.number, order.refunded, order.paid.amount())
            } else {
                format!(
                    "Order {} stays {}: {} of the {} paid is refunded, {left} left to refund.",
                    order.number,
                    order.status,
                    order.refunded.amount(),
                    order.paid
                )
            };
            ctx.out.done(&message, &order)?;
        }
    }
    Ok(())
}

fn new_order(create: OrderCreate) -> NewOrder {
    NewOrder {
        customer: Customer { email: create.customer, name: create.name, phone: create.phone, address: create.address },
        lines: create.lines,
        warehouse: create.warehouse,
        reservation: create.reservation,
        notes: None,
    }
}

fn query(list: OrderList) -> Result<OrderQuery, Failure> {
    let status = list.status.map(|s| s.parse()).transpose()?;
    Ok(OrderQuery { status, customer: list.customer, limit: list.page.limit, cursor: list.page.cursor })
}

/// Where each line is served from, one line each: `  2 × MUG-1 from MAIN`,
/// `  3 × CUP-1: 2 from MAIN, 1 from EAST`.
fn served(order: &Order) -> String {
    let lines: Vec<String> = order.lines.iter().map(|line| format!("  {}", served_line(order, line))).collect();
    lines.join("\n")
}

fn served_line(order: &Order, line: &OrderLine) -> String {
    let from: Vec<_> = order.allocations.iter().filter(|a| a.sku == line.sku).collect();
    match from.as_slice() {
        [one] if one.quantity == line.quantity => format!("{} × {} from {}", line.quantity, line.sku, one.warehouse),
        many => {
            let places: Vec<String> = many.iter().map(|a| format!("{} from {}", a.quantity, a.warehouse)).collect();
            format!("{} × {}: {}", line.quantity, line.sku, places.join(", "))
        }
    }
}

/// The columns of an order inside `T`: the id first (what `--quiet` lists), the rest of the
/// wide fields after the list's.
fn columns<T: 'static>(order: fn(&T) -> &Order) -> Vec<Column<'static, T>> {
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    let yes = |flag: bool| if flag { "yes".to_owned() } else { String::new() };
    vec![
        Column::wide("ID", move |t: &T| order(t).id.to_string()),
        Column::new("NUMBER", move |t: &T| order(t).number.to_string()),
        Column::new("STATUS", move |t: &T| order(t).status.to_string()),
        Column::new("CUSTOMER", move |t: &T| order(t).customer.email.clone()),
        Column::new("ITEMS", move |t: &T| {
            let lines: Vec<String> = order(t).lines.iter().map(|l| format!("{} × {}", l.quantity, l.sku)).collect();
            lines.join(", ")
        }),
        Column::new("TOTAL", move |t: &T| order(t).total.amount()),
        Column::new("PAID", move |t: &T| order(t).paid.amount()),
        Column::new("CURRENCY", move |t: &T| order(t).currency.to_string()),
        Column::new("CREATED", move |t: &T| order(t).created_at.to_string()),
        Column::wide("NAME", move |t: &T| text(&order(t).customer.name)),
        Column::wide("PHONE", move |t: &T| text(&order(t).customer.phone)),
        Column::wide("ADDRESS", move |t: &T| text(&order(t).customer.address)),
        Column::wide("LINES", move |t: &T| {
            let lines: Vec<String> = order(t)
                .lines
                .iter()
                .map(|l| format!("{} × {} at {} = {}", l.quantity, l.sku, l.unit_price.amount(), l.line_total.amount()))
                .collect();
            lines.join("\n")
        }),
        Column::wide("SERVED_FROM", move |t: &T| {
            let o = order(t);
            let lines: Vec<String> = o.lines.iter().map(|l| served_line(o, l)).collect();
            lines.join("\n")
        }),
        Column::wide("REFUNDED", move |t: &T| order(t).refunded.amount()),
        Column::wide("REFUND_DUE", move |t: &T| yes(order(t).refund_due)),
        Column::wide("TRACKING", move |t: &T| text(&order(t).tracking_number)),
        Column::wide("RETURNS", move |t: &T| {
            let returns: Vec<String> = order(t)
                .returns
                .iter()
                .map(|r| {
                    let state = if r.received { "received" } else { "requested" };
                    format!("{} × {} at {}: {}, {state}", r.quantity, r.sku, r.warehouse, r.disposition)
                })
                .collect();
            returns.join("\n")
        }),
        Column::wide("NOTES", move |t: &T| text(&order(t).notes)),
        Column::wide("RESERVATION", move |t: &T| order(t).reservation_id.to_string()),
        Column::wide("OWNER", move |t: &T| order(t).owner.clone()),
        Column::wide("HISTORY", move |t: &T| {
            let steps: Vec<String> = order(t)
                .history
                .iter()
                .map(|h| {
                    let note = h.note.as_ref().map(|n| format!(" ({n})")).unwrap_or_default();
                    format!("{} {} by {}{note}", h.at, h.to, h.actor)
                })
                .collect();
            steps.join("\n")
        }),
        Column::wide("VERSION", move |t: &T| order(t).version.to_string()),
        Column::wide("UPDATED", move |t: &T| order(t).updated_at.to_string()),
    ]
}
