//! Stock: every product at every warehouse, filtered as you type (SKU, name or barcode),
//! sorted by any column, with the changes a warehouse makes (receive, adjust, transfer,
//! count, threshold) one key away. The whole board is held in memory — 30,000 rows are a
//! few megabytes — so filtering, sorting and paging never wait for the database; events
//! from the log re-read only the levels they moved.

use std::{cell::Cell, collections::HashMap};

use stockyard_core::{Action as Permission, ProductId, StockLevel};

use super::moved;
use crate::{
    app::App,
    form::{Form, FormKind},
    keys::Action,
    worker::{Board, Command, ProductInfo},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Sku,
    Name,
    Warehouse,
    OnHand,
    Reserved,
    Available,
}

impl Column {
    pub const ALL: [Column; 6] =
        [Column::Sku, Column::Name, Column::Warehouse, Column::OnHand, Column::Reserved, Column::Available];

    pub fn title(self) -> &'static str {
        match self {
            Column::Sku => "SKU",
            Column::Name => "Name",
            Column::Warehouse => "Wh",
            Column::OnHand => "On hand",
            Column::Reserved => "Rsvd",
            Column::Available => "Avail",
        }
    }

    fn step(self, by: isize) -> Column {
        let i = Column::ALL.iter().position(|c| *c == self).unwrap_or(0) as isize;
        Column::ALL[(i + by).rem_euclid(Column::ALL.len() as isize) as usize]
    }
}

/// One product at one warehouse: its level, and what the table shows of the product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockRow {
    pub level: StockLevel,
    pub name: String,
    pub barcode: Option<String>,
    pub bin: Option<String>,
    pub low: bool,
    /// SKU, name and barcode, lower-cased: what the filter matches.
    haystack: String,
}

impl StockRow {
    fn new(level: &StockLevel, info: &ProductInfo) -> Self {
        let barcode = info.barcode.clone().unwrap_or_default();
        StockRow {
            level: level.clone(),
            name: info.name.clone(),
            barcode: info.barcode.clone(),
            bin: info.bin.clone(),
            low: level.is_low(),
            haystack: format!("{}\u{1f}{}\u{1f}{barcode}", level.sku, info.name).to_lowercase(),
        }
    }

    fn set(&mut self, level: &StockLevel) {
        self.level = level.clone();
        self.low = level.is_low();
    }
}

#[derive(Debug, Default)]
pub struct StockView {
    pub rows: Vec<StockRow>,
    by_item: HashMap<(String, String), usize>,
    pub products: HashMap<ProductId, ProductInfo>,
    /// Lower-cased SKUs and barcodes → product: what a scan finds.
    codes: HashMap<String, ProductId>,
    pub warehouses: Vec<String>,
    /// Rows shown, as indexes into `rows`: filtered, then sorted.
    pub view: Vec<usize>,
    pub filter: String,
    pub filtering: bool,
    pub low_only: bool,
    /// Only this warehouse, when set.
    pub warehouse: Option<String>,
    pub sort: Option<Column>,
    pub descending: bool,
    /// Index into `view`.
    pub selected: usize,
    /// The first row drawn, and how many fit: kept by the drawing, read by paging.
    pub offset: Cell<usize>,
    pub page: Cell<usize>,
    pub loaded: bool,
    pub error: Option<String>,
}

impl StockView {
    pub fn load(&mut self, board: Board) {
        let selected = self.selected_row().map(|r| (r.level.sku.clone(), r.level.warehouse.clone()));
        self.codes.clear();
        for (id, info) in &board.products {
            self.codes.insert(info.sku.to_lowercase(), *id);
            if let Some(barcode) = &info.barcode {
                self.codes.entry(barcode.to_lowercase()).or_insert(*id);
            }
        }
        self.rows = board
            .levels
            .iter()
            .filter_map(|level| board.products.get(&level.product_id).map(|info| StockRow::new(level, info)))
            .collect();
        self.by_item =
            self.rows.iter().enumerate().map(|(i, r)| ((r.level.sku.clone(), r.level.warehouse.clone()), i)).collect();
        (self.products, self.warehouses) = (board.products, board.warehouses);
        (self.loaded, self.error) = (true, None);
        self.refresh();
        if let Some(item) = selected {
            self.select(&item.0, &item.1);
        }
    }

    /// Puts fresh levels in place; true when one belongs to a product not on the board yet
    /// (the board must be read again).
    pub fn apply(&mut self, levels: &[StockLevel]) -> bool {
        let mut added = false;
        for level in levels {
            match self.by_item.get(&(level.sku.clone(), level.warehouse.clone())) {
                Some(&i) => self.rows[i].set(level),
                None => match self.products.get(&level.product_id) {
                    Some(info) => {
                        self.by_item.insert((level.sku.clone(), level.warehouse.clone()), self.rows.len());
                        self.rows.push(StockRow::new(level, info));
                        added = true;
                    }
                    None => return true,
                },
            }
        }
        if added || self.sort.is_some() || self.low_only {
            let selected = self.selected_row().map(|r| (r.level.sku.clone(), r.level.warehouse.clone()));
            self.refresh();
            if let Some(item) = selected {
                self.select(&item.0, &item.1);
            }
        }
        false
    }

    pub fn row(&self, sku: &str, warehouse: &str) -> Option<&StockRow> {
        self.by_item.get(&(sku.to_owned(), warehouse.to_owned())).map(|&i| &self.rows[i])
    }

    pub fn on_hand(&self, sku: &str, warehouse: &str) -> Option<i64> {
        self.row(sku, warehouse).map(|r| r.level.on_hand)
    }

    /// The product a scanned code (SKU or barcode, any case) names.
    pub fn find_code(&self, code: &str) -> Option<&ProductInfo> {
        self.codes.get(&code.trim().to_lowercase()).and_then(|id| self.products.get(id))
    }

    /// Every level of a product, by warehouse.
    pub fn levels_of(&self, sku: &str) -> Vec<&StockRow> {
        self.warehouses.iter().filter_map(|w| self.row(sku, w)).collect()
    }

    pub fn selected_row(&self) -> Option<&StockRow> {
        self.view.get(self.selected).map(|&i| &self.rows[i])
    }

    fn select(&mut self, sku: &str, warehouse: &str) {
        if let Some(at) =
            self.view.iter().position(|&i| self.rows[i].level.sku == sku && self.rows[i].level.warehouse == warehouse)
        {
            self.selected = at;
        }
    }

    /// Filters and sorts again.
    pub fn refresh(&mut self) {
        let needle = self.filter.trim().to_lowercase();
        self.view = (0..self.rows.len())
            .filter(|&i| {
                let r = &self.rows[i];
                (!self.low_only || r.low)
                    && self.warehouse.as_ref().is_none_or(|w| *w == r.level.warehouse)
                    && (needle.is_empty() || r.haystack.contains(&needle))
            })
            .collect();
        let rows = &self.rows;
        let by_item = |a: &usize, b: &usize| {
            (&rows[*a].level.sku, &rows[*a].level.warehouse).cmp(&(&rows[*b].level.sku, &rows[*b].level.warehouse))
        };
        match self.sort {
            None | Some(Column::Sku) => self.view.sort_by(by_item),
            Some(column) => self.view.sort_by(|a, b| {
                let (x, y) = (&rows[*a], &rows[*b]);
                let order = match column {
                    Column::Name => x.name.cmp(&y.name),
                    Column::Warehouse => x.level.warehouse.cmp(&y.level.warehouse),
                    Column::OnHand => x.level.on_hand.cmp(&y.level.on_hand),
                    Column::Reserved => x.level.reserved.cmp(&y.level.reserved),
                    Column::Available => x.level.available.cmp(&y.level.available),
                    Column::Sku => std::cmp::Ordering::Equal,
                };
                order.then_with(|| by_item(a, b))
            }),
        }
        if self.descending {
            self.view.reverse();
        }
        self.selected = self.selected.min(self.view.len().saturating_sub(1));
    }

    /// Units held by reservations, and levels at or below their reorder point.
    pub fn totals(&self) -> (i64, usize) {
        (self.rows.iter().map(|r| r.level.reserved).sum(), self.rows.iter().filter(|r| r.low).count())
    }
}

impl App {
    pub(crate) fn stock_act(&mut self, action: Action) -> Vec<Command> {
        let stock = &mut self.stock;
        if stock.filtering {
            match action {
                Action::Char(c) => stock.filter.push(c),
                Action::Backspace => {
                    stock.filter.pop();
                }
                Action::Enter => stock.filtering = false,
                Action::Back => {
                    stock.filter.clear();
                    stock.filtering = false;
                }
                Action::Up | Action::Down | Action::PageUp | Action::PageDown => {
                    stock.selected = moved(stock.selected, stock.view.len(), stock.page.get(), action);
                    return Vec::new();
                }
                _ => return Vec::new(),
            }
            stock.selected = 0;
            stock.refresh();
            return Vec::new();
        }
        let kind = match action {
            Action::Char('/') => {
                stock.filtering = true;
                return Vec::new();
            }
            Action::Back => {
                stock.filter.clear();
                stock.refresh();
                return Vec::new();
            }
            Action::Char('s') | Action::Right => return self.sort_by(1),
            Action::Left => return self.sort_by(-1),
            Action::Char('S') => {
                stock.descending = !stock.descending;
                stock.refresh();
                return Vec::new();
            }
            Action::Char('L') => {
                stock.low_only = !stock.low_only;
                stock.refresh();
                return Vec::new();
            }
            Action::Char('w') => {
                let next = match &stock.warehouse {
                    None => stock.warehouses.first().cloned(),
                    Some(w) => stock.warehouses.iter().skip_while(|x| *x != w).nth(1).cloned(),
                };
                stock.warehouse = next;
                stock.refresh();
                return Vec::new();
            }
            Action::Char('r') => FormKind::Receive,
            Action::Char('a') => FormKind::Adjust,
            Action::Char('t') => FormKind::Transfer,
            Action::Char('c') => FormKind::Count,
            Action::Char('p') => FormKind::Threshold,
            _ => {
                stock.selected = moved(stock.selected, stock.view.len(), stock.page.get(), action);
                return Vec::new();
            }
        };
        self.open_stock_form(kind);
        Vec::new()
    }

    fn sort_by(&mut self, by: isize) -> Vec<Command> {
        let stock = &mut self.stock;
        stock.sort = Some(stock.sort.unwrap_or(Column::Sku).step(by));
        stock.refresh();
        Vec::new()
    }

    /// Opens a change form on the selected row, if the user may make that change there.
    pub(crate) fn open_stock_form(&mut self, kind: FormKind) {
        let Some(row) = self.stock.selected_row() else {
            self.say("No row selected: clear the filter or load stock first.", true);
            return;
        };
        let level = row.level.clone();
        let permission = match kind {
            FormKind::Receive => Permission::StockReceive,
            FormKind::Adjust => Permission::StockAdjust,
            FormKind::Transfer => Permission::StockTransfer,
            FormKind::Count => Permission::StockCount,
            _ => Permission::StockThreshold,
        };
        if !self.permitted(permission, &level.warehouse) {
            return;
        }
        let other = self.stock.warehouses.iter().find(|w| **w != level.warehouse).cloned();
        self.form = Some(Form::stock(kind, level, other.as_deref()));
    }
}
