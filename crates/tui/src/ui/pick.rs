use ratatui::{
    Frame,
    layout::{Constraint, Layout, Rect},
    text::{Line, Span},
    widgets::{Block, Borders, Cell, Paragraph, Row, Table},
};
use stockyard_core::Order;

use crate::{app::App, screens::LogLine, theme::Theme};

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let (t, pick) = (app.theme, &app.pick);
    if !pick.loaded {
        return super::waiting(frame, area, t, pick.error.as_deref());
    }
    match pick.open_order() {
        Some(order) => draw_order(frame, area, app, order),
        None => draw_orders(frame, area, app),
    }
}

/// Units at the chosen warehouse: (picked, to pick).
fn progress(order: &Order, warehouse: &str) -> (i64, i64) {
    order
        .allocations
        .iter()
        .filter(|a| a.warehouse == warehouse)
        .fold((0, 0), |(picked, total), a| (picked + a.picked, total + a.quantity))
}

fn draw_orders(frame: &mut Frame, area: Rect, app: &App) {
    let (t, pick) = (app.theme, &app.pick);
    let warehouse = pick.warehouse.as_deref().unwrap_or_default();
    let height = area.height.saturating_sub(3) as usize;
    let skip = pick.selected.saturating_sub(height.saturating_sub(1));
    let rows = pick.orders.iter().enumerate().skip(skip).take(height).map(|(i, o)| {
        let (picked, total) = progress(o, warehouse);
        let lines = o.allocations.iter().filter(|a| a.warehouse == warehouse).count();
        let style = if i == pick.selected { t.selected() } else { t.plain() };
        Row::new(vec![
            Cell::from(o.number.to_string()),
            Cell::from(o.status.to_string()),
            Cell::from(o.created_at.strftime("%m-%d %H:%M").to_string()),
            Cell::from(Line::from(lines.to_string()).right_aligned()),
            Cell::from(Line::from(format!("{picked}/{total}")).right_aligned()),
        ])
        .style(style)
    });
    let header = Row::new(["Order", "Status", "Placed", "Lines", "Picked"]).style(t.header());
    let title = format!(" To pick at {warehouse}: {} orders (w: another warehouse) ", pick.orders.len());
    let block = Block::default().borders(Borders::ALL).title(Span::styled(title, t.title()));
    let widths = [
        Constraint::Length(8),
        Constraint::Length(10),
        Constraint::Length(12),
        Constraint::Length(6),
        Constraint::Length(8),
    ];
    if pick.orders.is_empty() {
        let text = Paragraph::new(Span::styled("Nothing to pick here.", t.muted())).block(block);
        return frame.render_widget(text, area);
    }
    frame.render_widget(Table::new(rows, widths).header(header).block(block), area);
}

fn draw_order(frame: &mut Frame, area: Rect, app: &App, order: &Order) {
    let (t, pick) = (app.theme, &app.pick);
    let warehouse = pick.warehouse.as_deref().unwrap_or_default();
    let [list, field, log] =
        Layout::vertical([Constraint::Min(5), Constraint::Length(3), Constraint::Length(6)]).areas(area);
    let bin = |sku: &str| app.stock.find_code(sku).and_then(|p| p.bin.clone());
    let rows = pick.pick_list(order, bin).into_iter().map(|(a, bin)| {
        let left = a.quantity - a.picked;
        let name = app.stock.find_code(&a.sku).map(|p| p.name.clone()).unwrap_or_default();
        let style = if left == 0 { t.good() } else { t.plain() };
        Row::new(vec![
            Cell::from(bin.unwrap_or_default()),
            Cell::from(a.sku.clone()),
            Cell::from(name),
            Cell::from(Line::from(a.quantity.to_string()).right_aligned()),
            Cell::from(Line::from(a.picked.to_string()).right_aligned()),
            Cell::from(Line::from(if left == 0 { "done".to_string() } else { left.to_string() }).right_aligned()),
        ])
        .style(style)
    });
    let (picked, total) = progress(order, warehouse);
    let title = format!(" Order {} · {} · {picked}/{total} picked at {warehouse} ", order.number, order.status);
    let block = Block::default().borders(Borders::ALL).title(Span::styled(title, t.title()));
    let header = Row::new(["Bin", "SKU", "Name", "Qty", "Picked", "Left"]).style(t.header());
    let widths = [
        Constraint::Length(8),
        Constraint::Length(16),
        Constraint::Min(10),
        Constraint::Length(5),
        Constraint::Length(6),
        Constraint::Length(5),
    ];
    frame.render_widget(Table::new(rows, widths).header(header).block(block), list);

    let text = match pick.input.is_empty() {
        true => Span::styled("▏ scan an item to pick it", t.muted()),
        false => Span::styled(format!("{}▏", pick.input), t.selected()),
    };
    let block = Block::default().borders(Borders::ALL).title(Span::styled(" Scan ", t.title()));
    frame.render_widget(Paragraph::new(Line::from(text)).block(block), field);
    draw_log(frame, log, t, &pick.log);
}

/// A running log, newest first, refusals in the error style.
pub fn draw_log(frame: &mut Frame, area: Rect, t: Theme, log: &[LogLine]) {
    let lines: Vec<Line> = log
        .iter()
        .take(area.height.saturating_sub(2) as usize)
        .map(|l| Line::from(Span::styled(l.text.clone(), if l.error { t.error() } else { t.plain() })))
        .collect();
    let block = Block::default().borders(Borders::ALL).title(Span::styled(" Log ", t.title()));
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
