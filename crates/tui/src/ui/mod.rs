//! Drawing: a pure function of the state, so a test draws any screen on ratatui's
//! `TestBackend`. Every screen fits 80×24; wider terminals get more columns.

mod alerts;
mod dashboard;
mod pick;
mod scan;
mod stock;

use ratatui::{
    Frame,
    layout::{Constraint, Layout, Rect},
    style::Style,
    text::{Line, Span},
    widgets::{Block, Borders, Clear, Paragraph, Wrap},
};

use crate::{
    app::{App, Screen},
    form::{Form, Stage},
    theme::Theme,
};

pub fn draw(frame: &mut Frame, app: &App) {
    let banner = u16::from(app.offline.is_some());
    let [title, banner_area, body, flash_area, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(banner),
        Constraint::Min(0),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    draw_title(frame, title, app);
    if let Some(reason) = &app.offline {
        let text = format!(" Database unreachable — retrying every 2 s; nothing is lost. ({reason})");
        frame.render_widget(Paragraph::new(text).style(app.theme.banner()), banner_area);
    }
    match app.screen {
        Screen::Dashboard => dashboard::draw(frame, body, app),
        Screen::Stock => stock::draw(frame, body, app),
        Screen::Scan => scan::draw(frame, body, app),
        Screen::Pick => pick::draw(frame, body, app),
        Screen::Alerts => alerts::draw(frame, body, app),
    }
    if let Some(flash) = &app.flash {
        let style = if flash.error { app.theme.error() } else { app.theme.good() };
        frame.render_widget(Paragraph::new(format!(" {}", flash.text)).style(style), flash_area);
    }
    frame.render_widget(Paragraph::new(keys_line(app.theme, &footer_keys(app))), footer);
    if let Some(form) = &app.form {
        draw_form(frame, app, form);
    }
    if app.help {
        draw_help(frame, app.theme);
    }
}

/// From this width on, the title names the product and the user's role.
const ROOMY: u16 = 110;

fn draw_title(frame: &mut Frame, area: Rect, app: &App) {
    let (t, roomy) = (app.theme, area.width >= ROOMY);
    let mut spans = Vec::new();
    if roomy {
        spans.push(Span::styled(" stockyard ", t.title()));
    }
    for (i, screen) in Screen::ALL.iter().enumerate() {
        let style = if *screen == app.screen { t.selected() } else { t.muted() };
        spans.push(Span::styled(format!(" {} {} ", i + 1, screen.title()), style));
    }
    let user = if roomy { app.user.as_str() } else { app.user.split(" (").next().unwrap_or_default() };
    spans.push(Span::styled(format!("  {user}"), t.plain()));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// `key what` pairs as one line, keys highlighted.
fn keys_line(t: Theme, keys: &[(&str, &str)]) -> Line<'static> {
    let mut spans = Vec::new();
    for (key, what) in keys {
        spans.push(Span::styled(format!(" {key}"), t.key()));
        spans.push(Span::styled(format!(" {what} "), t.muted()));
    }
    Line::from(spans)
}

/// The keys of what has the focus now.
fn footer_keys(app: &App) -> Vec<(&'static str, &'static str)> {
    if app.help {
        return vec![("Esc", "close help")];
    }
    if let Some(form) = &app.form {
        return match form.stage {
            Stage::Edit => vec![("Tab/↓", "next field"), ("Enter", "check"), ("Esc", "cancel")],
            Stage::Confirm => vec![("Enter/y", "confirm"), ("n/Esc", "edit"), ("", "")],
            Stage::Sending => vec![("", "sending…")],
        };
    }
    let browse = [("?", "help"), ("q", "quit")];
    let mut keys: Vec<(&str, &str)> = match app.screen {
        Screen::Dashboard => vec![("r", "reload")],
        Screen::Stock if app.stock.filtering => {
            return vec![("type", "filter SKU/name/barcode"), ("Enter", "keep"), ("Esc", "clear")];
        }
        Screen::Stock => vec![("/", "filter"), ("s S", "sort"), ("w", "wh"), ("L", "low"), ("r a t c p", "change")],
        Screen::Scan if app.scan.active => {
            return vec![
                ("scan+Enter", "find"),
                ("+/-", "receive/remove"),
                ("N+⏎/N-⏎", "qty"),
                ("Tab", "warehouse"),
                ("Esc", "leave"),
            ];
        }
        Screen::Scan => vec![("Enter", "scan"), ("w", "warehouse")],
        Screen::Pick if app.pick.open.is_some() => {
            return vec![("scan+Enter", "pick 1"), ("^T", "ship"), ("^X", "cancel"), ("Esc", "back")];
        }
        Screen::Pick => vec![("Enter", "open"), ("w", "warehouse"), ("r", "reload")],
        Screen::Alerts => vec![("←/→", "pane"), ("Enter", "mark read"), ("u", "unread"), ("r", "reload")],
    };
    keys.extend(browse);
    keys
}

/// A box of `width`×`height` in the middle of `area`, never larger than it.
fn centred(area: Rect, width: u16, height: u16) -> Rect {
    let (width, height) = (width.min(area.width), height.min(area.height));
    Rect { x: area.x + (area.width - width) / 2, y: area.y + (area.height - height) / 2, width, height }
}

fn draw_form(frame: &mut Frame, app: &App, form: &Form) {
    let t = app.theme;
    let checked = form.check(&|sku, wh| app.stock.on_hand(sku, wh));
    let mut lines = vec![Line::from(Span::styled(subject(form), t.header())), Line::default()];
    for (i, field) in form.fields.iter().enumerate() {
        let focus = i == form.focus && form.stage == Stage::Edit;
        let cursor = if focus { "▏" } else { "" };
        let value_style = if focus { t.selected() } else { t.plain() };
        lines.push(Line::from(vec![
            Span::styled(format!("{:>16}: ", field.label), t.plain()),
            Span::styled(format!("{}{cursor}", field.value), value_style),
            Span::styled(format!("  {}", field.hint), t.muted()),
        ]));
        if let Err((bad, why)) = &checked
            && *bad == i
            && !field.value.is_empty()
        {
            lines.push(Line::from(Span::styled(format!("{:>18}{why}", ""), t.error())));
        }
    }
    lines.push(Line::default());
    match (&form.stage, &checked) {
        (Stage::Confirm | Stage::Sending, Ok((_, preview))) => {
            lines.push(Line::from(Span::styled("Before → after:", t.header())));
            lines.extend(preview.iter().map(|p| Line::from(format!("  {p}"))));
            let ask = if form.stage == Stage::Sending { "Sending…" } else { "Enter or y confirms; n goes back." };
            lines.push(Line::from(Span::styled(ask, t.warn())));
        }
        _ => lines.push(Line::from(Span::styled("Enter checks the form and shows what will change.", t.muted()))),
    }
    if let Some(refusal) = &form.refusal {
        lines.push(Line::default());
        lines.push(Line::from(Span::styled(refusal.clone(), t.error())));
    }
    let area = centred(frame.area(), 76, lines.len() as u16 + 2);
    frame.render_widget(Clear, area);
    let block =
        Block::default().borders(Borders::ALL).title(Span::styled(format!(" {} ", form.kind.title()), t.title()));
    frame.render_widget(Paragraph::new(lines).block(block).wrap(Wrap { trim: false }), area);
}

fn subject(form: &Form) -> String {
    match &form.subject {
        crate::form::Subject::Level(l) => {
            format!(
                "{} at {}: on hand {}, reserved {}, available {}",
                l.sku, l.warehouse, l.on_hand, l.reserved, l.available
            )
        }
        crate::form::Subject::Order { number, status, .. } => format!("Order {number} ({status})"),
    }
}

const HELP: &[(&str, &str)] = &[
    ("1-5, Tab, Shift-Tab", "switch screen"),
    ("↑↓ j k, PgUp PgDn, g G", "move; Ctrl-U/Ctrl-D page"),
    ("? or F1", "this help; q or Ctrl-C quits"),
    ("Stock: /", "filter by SKU, name or barcode as you type"),
    ("Stock: s S ← →, w, L", "sort column, reverse, warehouse, low only"),
    ("Stock: r a t c p", "receive, adjust, transfer, count, reorder pt"),
    ("Scan: code + Enter", "find the item (SKU or barcode)"),
    ("Scan: + -, or 12+ Enter", "receive or remove (1, or the typed quantity)"),
    ("Pick: w, Enter", "choose warehouse, open an order"),
    ("Pick: code + Enter", "record a pick of one unit"),
    ("Pick: Ctrl-T, Ctrl-X", "ship (tracking number), cancel (reason)"),
    ("Alerts: ← →, Enter, u", "switch pane, mark read, unread only"),
    ("Forms: Tab, Enter, Esc", "next field, check then confirm, cancel"),
];

fn draw_help(frame: &mut Frame, t: Theme) {
    let lines: Vec<Line> = HELP
        .iter()
        .map(|(key, what)| Line::from(vec![Span::styled(format!("{key:>25}  "), t.key()), Span::raw(*what)]))
        .collect();
    let area = centred(frame.area(), 80, lines.len() as u16 + 2);
    frame.render_widget(Clear, area);
    let block = Block::default().borders(Borders::ALL).title(Span::styled(" Keys ", t.title()));
    frame.render_widget(Paragraph::new(lines).block(block).wrap(Wrap { trim: false }), area);
}

/// A placeholder while a screen's data loads, or the reason it cannot be shown.
fn waiting(frame: &mut Frame, area: Rect, t: Theme, error: Option<&str>) {
    let (text, style): (String, Style) = match error {
        Some(e) => (format!(" Cannot show this: {e}"), t.error()),
        None => (" Loading…".into(), t.muted()),
    };
    frame.render_widget(Paragraph::new(text).style(style).wrap(Wrap { trim: false }), area);
}
