use ratatui::{
    Frame,
    layout::{Constraint, Layout, Rect},
    text::{Line, Span},
    widgets::{Block, Borders, Paragraph, Sparkline, Wrap},
};

use crate::{app::App, worker::SPARK_MINUTES};

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let (t, view) = (app.theme, &app.dashboard);
    if !view.loaded {
        return super::waiting(frame, area, t, view.error.as_deref());
    }
    let [top, spark, recent] =
        Layout::vertical([Constraint::Length(5), Constraint::Length(5), Constraint::Min(3)]).areas(area);
    let [orders, counts] = Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(top);

    let data = &view.data;
    let total: i64 = data.orders_today.iter().map(|(_, n)| n).sum();
    let mut spans = Vec::new();
    for (status, n) in data.orders_today.iter().filter(|(_, n)| *n > 0) {
        spans.push(Span::styled(format!("{status} "), t.muted()));
        spans.push(Span::styled(format!("{n}   "), t.plain()));
    }
    if spans.is_empty() {
        spans.push(Span::styled("none yet", t.muted()));
    }
    let block =
        Block::default().borders(Borders::ALL).title(Span::styled(format!(" Orders today: {total} "), t.title()));
    frame.render_widget(Paragraph::new(Line::from(spans)).block(block).wrap(Wrap { trim: true }), orders);

    let (reserved, low) = app.stock.totals();
    let low_style = if low > 0 { t.low() } else { t.good() };
    let notifications = match data.notifications {
        Some((pending, failed)) => Line::from(vec![
            Span::styled("Notifications ", t.muted()),
            Span::raw(format!("{pending} pending, ")),
            Span::styled(format!("{failed} failed"), if failed > 0 { t.error() } else { t.plain() }),
        ]),
        None => Line::from(Span::styled("Notifications: not yours to see", t.muted())),
    };
    let lines = vec![
        Line::from(vec![Span::styled("Units reserved ", t.muted()), Span::raw(reserved.to_string())]),
        Line::from(vec![Span::styled("Low levels ", t.muted()), Span::styled(low.to_string(), low_style)]),
        notifications,
    ];
    let block = Block::default().borders(Borders::ALL).title(Span::styled(" Stock ", t.title()));
    frame.render_widget(Paragraph::new(lines).block(block), counts);

    let moved: u64 = data.movements.iter().sum();
    let title = format!(" Stock movements per minute, last {SPARK_MINUTES} min: {moved} ");
    let block = Block::default().borders(Borders::ALL).title(Span::styled(title, t.title()));
    // The newest minutes on the right, as many as fit.
    let width = spark.width.saturating_sub(2) as usize;
    let shown = &data.movements[data.movements.len().saturating_sub(width)..];
    frame.render_widget(Sparkline::default().block(block).data(shown).style(t.good()), spark);

    let height = recent.height.saturating_sub(2) as usize;
    let lines: Vec<Line> = view
        .recent
        .iter()
        .rev()
        .take(height)
        .map(|e| {
            let time = e.occurred_at.strftime("%H:%M:%S").to_string();
            Line::from(vec![
                Span::styled(format!("{:>7} {time} ", e.seq), t.muted()),
                Span::styled(format!("{:<26}", e.event_type.as_str()), t.plain()),
                Span::styled(summary(&e.payload), t.muted()),
            ])
        })
        .collect();
    let block = Block::default().borders(Borders::ALL).title(Span::styled(" Latest events ", t.title()));
    frame.render_widget(Paragraph::new(lines).block(block), recent);
}

/// A few words of an event's payload: what it is about.
fn summary(payload: &serde_json::Value) -> String {
    let field = |name: &str| payload.get(name).map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned));
    [field("sku"), field("warehouse"), field("number").map(|n| format!("order {n}")), field("to"), field("reason")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ")
}
