use ratatui::{
    Frame,
    layout::{Constraint, Layout, Rect},
    text::{Line, Span},
    widgets::{Block, Borders, Cell, Paragraph, Row, Table},
};

use crate::{app::App, screens::alerts::Pane};

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let (t, alerts) = (app.theme, &app.alerts);
    if !alerts.loaded {
        return super::waiting(frame, area, t, alerts.error.as_deref());
    }
    let [low, inbox] = Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(area);
    let focus = |pane: Pane| if alerts.pane == pane { t.title() } else { t.muted() };

    let height = low.height.saturating_sub(3) as usize;
    let skip = alerts.selected_low.saturating_sub(height.saturating_sub(1));
    let rows = alerts.low.iter().enumerate().skip(skip).take(height).map(|(i, s)| {
        let l = &s.level;
        let style = if alerts.pane == Pane::Low && i == alerts.selected_low { t.selected() } else { t.low() };
        Row::new(vec![
            Cell::from(l.sku.clone()),
            Cell::from(l.warehouse.clone()),
            Cell::from(Line::from(l.available.to_string()).right_aligned()),
            Cell::from(Line::from(l.reorder_point.to_string()).right_aligned()),
            Cell::from(Line::from(s.suggested_qty.to_string()).right_aligned()),
        ])
        .style(style)
    });
    let header = Row::new(["SKU", "Wh", "Avail", "Reorder at", "Order"]).style(t.header());
    let title = format!(" Low stock: {} ", alerts.low.len());
    let block = Block::default().borders(Borders::ALL).title(Span::styled(title, focus(Pane::Low)));
    let widths = [
        Constraint::Min(14),
        Constraint::Length(6),
        Constraint::Length(7),
        Constraint::Length(10),
        Constraint::Length(7),
    ];
    frame.render_widget(Table::new(rows, widths).header(header).block(block), low);

    let shown = alerts.shown();
    let height = inbox.height.saturating_sub(2) as usize;
    let skip = alerts.selected_inbox.saturating_sub(height.saturating_sub(1));
    let lines: Vec<Line> = shown
        .iter()
        .enumerate()
        .skip(skip)
        .take(height)
        .map(|(i, n)| {
            let unread = n.read_at.is_none();
            let style = match (alerts.pane == Pane::Inbox && i == alerts.selected_inbox, unread) {
                (true, _) => t.selected(),
                (false, true) => t.header(),
                _ => t.muted(),
            };
            let time = n.created_at.strftime("%m-%d %H:%M").to_string();
            Line::from(Span::styled(format!("{} {time}  {}", if unread { "●" } else { " " }, n.subject), style))
        })
        .collect();
    let title =
        format!(" Inbox: {} unread{} ", alerts.unread(), if alerts.unread_only { " (unread only)" } else { "" });
    let block = Block::default().borders(Borders::ALL).title(Span::styled(title, focus(Pane::Inbox)));
    let body = if lines.is_empty() { vec![Line::from(Span::styled("Nothing here.", t.muted()))] } else { lines };
    frame.render_widget(Paragraph::new(body).block(block), inbox);
}
