//! The stock table: only the rows on screen are built, so 30,000 levels draw as fast as 30.

use ratatui::{
    Frame,
    layout::{Constraint, Layout, Rect},
    text::{Line, Span},
    widgets::{Cell, Paragraph, Row, Table},
};

use crate::{app::App, screens::stock::Column};

/// From this width on, the table adds barcode, bin and reorder columns.
const WIDE: u16 = 120;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let (t, stock) = (app.theme, &app.stock);
    if !stock.loaded {
        return super::waiting(frame, area, t, stock.error.as_deref());
    }
    let [status, table] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(area);
    let mut spans = vec![Span::styled(" Filter: ", t.muted())];
    let cursor = if stock.filtering { "▏" } else { "" };
    let filter_style = if stock.filtering { t.selected() } else { t.plain() };
    spans.push(Span::styled(format!("{}{cursor}", stock.filter), filter_style));
    spans.push(Span::styled(
        format!(
            "  {} of {} rows{}{}",
            stock.view.len(),
            stock.rows.len(),
            stock.warehouse.as_ref().map(|w| format!(" · {w}")).unwrap_or_default(),
            if stock.low_only { " · low only" } else { "" }
        ),
        t.muted(),
    ));
    frame.render_widget(Paragraph::new(Line::from(spans)), status);

    let wide = area.width >= WIDE;
    let height = table.height.saturating_sub(1) as usize;
    stock.page.set(height);
    // Keep the selection on screen, moving the window as little as possible.
    let mut offset = stock.offset.get().min(stock.view.len().saturating_sub(height.max(1)));
    if stock.selected < offset {
        offset = stock.selected;
    } else if height > 0 && stock.selected >= offset + height {
        offset = stock.selected + 1 - height;
    }
    stock.offset.set(offset);

    let sorted = |column: Column, title: &str| {
        let mark =
            match (stock.sort == Some(column) || (stock.sort.is_none() && column == Column::Sku), stock.descending) {
                (true, false) => "▲",
                (true, true) => "▼",
                _ => "",
            };
        Cell::from(format!("{title}{mark}"))
    };
    let mut header = vec![sorted(Column::Sku, "SKU"), sorted(Column::Name, "Name")];
    if wide {
        header.extend([Cell::from("Barcode"), Cell::from("Bin")]);
    }
    header.extend([
        sorted(Column::Warehouse, "Wh"),
        sorted(Column::OnHand, "On hand"),
        sorted(Column::Reserved, "Rsvd"),
        sorted(Column::Available, "Avail"),
    ]);
    if wide {
        header.push(Cell::from("Reorder"));
    }
    let rows = stock.view.iter().enumerate().skip(offset).take(height).map(|(at, &i)| {
        let r = &stock.rows[i];
        let mut cells = vec![Cell::from(r.level.sku.as_str()), Cell::from(r.name.as_str())];
        if wide {
            cells.push(Cell::from(r.barcode.as_deref().unwrap_or("")));
            cells.push(Cell::from(r.bin.as_deref().unwrap_or("")));
        }
        cells.extend([
            Cell::from(r.level.warehouse.as_str()),
            Cell::from(Line::from(r.level.on_hand.to_string()).right_aligned()),
            Cell::from(Line::from(r.level.reserved.to_string()).right_aligned()),
            Cell::from(Line::from(format!("{}{}", r.level.available, if r.low { " LOW" } else { "" })).right_aligned()),
        ]);
        if wide {
            cells.push(Cell::from(
                Line::from(format!("{}/{}", r.level.reorder_point, r.level.reorder_qty)).right_aligned(),
            ));
        }
        let style = match (at == stock.selected, r.low) {
            (true, _) => t.selected(),
            (false, true) => t.low(),
            _ => t.plain(),
        };
        Row::new(cells).style(style)
    });
    let mut widths = vec![Constraint::Length(16), Constraint::Min(12)];
    if wide {
        widths.extend([Constraint::Length(14), Constraint::Length(8)]);
    }
    widths.extend([Constraint::Length(5), Constraint::Length(8), Constraint::Length(6), Constraint::Length(10)]);
    if wide {
        widths.push(Constraint::Length(9));
    }
    let table_widget = Table::new(rows, widths).header(Row::new(header).style(t.header())).column_spacing(1);
    frame.render_widget(table_widget, table);
    if stock.view.is_empty() {
        let [_, empty] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(table);
        frame.render_widget(Paragraph::new(" Nothing matches.").style(t.muted()), empty);
    }
}
