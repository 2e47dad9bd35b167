use ratatui::{
    Frame,
    layout::{Constraint, Layout, Rect},
    text::{Line, Span},
    widgets::{Block, Borders, Paragraph},
};

use crate::app::App;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let (t, scan) = (app.theme, &app.scan);
    let [field, item, log] =
        Layout::vertical([Constraint::Length(3), Constraint::Length(6), Constraint::Min(3)]).areas(area);
    let cursor = if scan.active { "▏" } else { "" };
    let title = format!(" Scan at {} (Tab: another warehouse) ", scan.warehouse);
    let style = if scan.active { t.selected() } else { t.muted() };
    let text = match (scan.active, scan.input.is_empty()) {
        (false, _) => Span::styled("Press Enter to scan", t.muted()),
        (true, true) => Span::styled(format!("{cursor} scan a code, or + / - on the item"), t.muted()),
        (true, false) => Span::styled(format!("{}{cursor}", scan.input), style),
    };
    let block = Block::default().borders(Borders::ALL).title(Span::styled(title, t.title()));
    frame.render_widget(Paragraph::new(Line::from(text)).block(block), field);

    let mut lines = Vec::new();
    match scan.matched.as_deref().and_then(|sku| app.stock.find_code(sku)) {
        Some(info) => {
            lines.push(Line::from(vec![
                Span::styled(format!("{} ", info.sku), t.header()),
                Span::raw(info.name.clone()),
                Span::styled(info.bin.as_ref().map(|b| format!("  bin {b}")).unwrap_or_default(), t.muted()),
            ]));
            for row in app.stock.levels_of(&info.sku) {
                let here = row.level.warehouse == scan.warehouse;
                let style = match (here, row.low) {
                    (_, true) => t.low(),
                    (true, false) => t.header(),
                    _ => t.plain(),
                };
                lines.push(Line::from(Span::styled(
                    format!(
                        "{} {:<6} on hand {:>6}  reserved {:>5}  available {:>6}",
                        if here { "▶" } else { " " },
                        row.level.warehouse,
                        row.level.on_hand,
                        row.level.reserved,
                        row.level.available
                    ),
                    style,
                )));
            }
            if app.stock.row(&info.sku, &scan.warehouse).is_none() {
                lines.push(Line::from(Span::styled(format!("▶ {:<6} no stock yet", scan.warehouse), t.muted())));
            }
        }
        None => lines.push(Line::from(Span::styled("No item yet: scan one.", t.muted()))),
    }
    let block = Block::default().borders(Borders::ALL).title(Span::styled(" Item ", t.title()));
    frame.render_widget(Paragraph::new(lines).block(block), item);
    super::pick::draw_log(frame, log, t, &scan.log);
}
