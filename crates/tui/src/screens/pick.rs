//! Pick & pack: the orders to fulfil at the chosen warehouse (paid or picking, oldest
//! first); an order's pick list — its lines at that warehouse, in bin order — where each
//! scan records a pick in the core (a wrong item or one too many is refused there and
//! changes nothing); the order is packed by the core when its last line is picked; then
//! ship (tracking number) or cancel (reason), each allowed or refused by the permission
//! table with its reason.

use stockyard_core::{Action as Permission, Order, OrderId, OrderStatus, orders::Allocation};

use super::{LogLine, moved, push_log};
use crate::{
    app::App,
    form::{Form, FormKind},
    keys::Action,
    worker::{Command, Op},
};

#[derive(Debug, Default)]
pub struct PickView {
    pub warehouse: Option<String>,
    pub orders: Vec<Order>,
    pub selected: usize,
    /// The order whose pick list is open.
    pub open: Option<OrderId>,
    /// The scan field of an open pick list.
    pub input: String,
    pub log: Vec<LogLine>,
    pub loaded: bool,
    pub error: Option<String>,
}

impl PickView {
    pub fn load(&mut self, warehouse: String, orders: Vec<Order>) {
        if self.warehouse.as_deref() != Some(&warehouse) {
            return;
        }
        // The open order stays though it left the list (packed: it is to be shipped next).
        let open = self.open.and_then(|id| self.orders.iter().position(|o| o.id == id));
        let kept = open.filter(|_| !orders.iter().any(|o| Some(o.id) == self.open)).map(|i| self.orders.swap_remove(i));
        self.orders = orders;
        self.orders.extend(kept);
        (self.loaded, self.error) = (true, None);
        self.selected = self.selected.min(self.orders.len().saturating_sub(1));
    }

    pub fn log(&mut self, text: String, error: bool) {
        push_log(&mut self.log, text, error);
    }

    pub fn open_order(&self) -> Option<&Order> {
        let id = self.open?;
        self.orders.iter().find(|o| o.id == id)
    }

    /// The open order's lines at the chosen warehouse, by bin (when the product has one),
    /// then SKU.
    pub fn pick_list<'o>(
        &self,
        order: &'o Order,
        bin: impl Fn(&str) -> Option<String>,
    ) -> Vec<(&'o Allocation, Option<String>)> {
        let here = self.warehouse.as_deref().unwrap_or_default();
        let mut lines: Vec<_> =
            order.allocations.iter().filter(|a| a.warehouse == here).map(|a| (a, bin(&a.sku))).collect();
        lines.sort_by(|(a, x), (b, y)| (x.is_none(), x, &a.sku).cmp(&(y.is_none(), y, &b.sku)));
        lines
    }

    /// Puts the order a change returned in place; says what happened.
    pub fn apply(&mut self, op: &Op, order: Order) -> String {
        let number = order.number;
        let note = match (op, order.status) {
            (Op::Pick { code, quantity, .. }, OrderStatus::Packed) => {
                format!("Picked {quantity} × {code}: order {number} is complete and packed — Ctrl-T ships it")
            }
            (Op::Pick { code, quantity, .. }, _) => format!("Picked {quantity} × {code} for order {number}"),
            (Op::Ship { tracking, .. }, _) => format!("Order {number} shipped, tracking {tracking}"),
            (_, status) => format!("Order {number} is {status}"),
        };
        if matches!(op, Op::Pick { .. }) {
            self.log(note.clone(), false);
        }
        let done = matches!(order.status, OrderStatus::Shipped | OrderStatus::Cancelled);
        match self.orders.iter_mut().find(|o| o.id == order.id) {
            Some(slot) => *slot = order,
            None => self.orders.push(order),
        }
        if done {
            let id = self.open.take();
            self.orders.retain(|o| Some(o.id) != id);
            self.input.clear();
        }
        note
    }
}

impl App {
    pub(crate) fn pick_act(&mut self, action: Action) -> Vec<Command> {
        let Some(order) = self.pick.open_order().cloned() else {
            self.pick.open = None;
            return self.pick_list_act(action);
        };
        let pick = &mut self.pick;
        match action {
            Action::Char(c) => pick.input.push(c),
            Action::Backspace => {
                pick.input.pop();
            }
            Action::Back if pick.input.is_empty() => pick.open = None,
            Action::Back => pick.input.clear(),
            Action::Enter => {
                let code = std::mem::take(&mut pick.input).trim().to_owned();
                let Some(warehouse) = pick.warehouse.clone() else { return Vec::new() };
                if code.is_empty() {
                    return Vec::new();
                }
                let op = Op::Pick { order: order.id.to_string(), code, quantity: 1, warehouse };
                return vec![Command::Do { op, key: uuid::Uuid::now_v7().to_string() }];
            }
            Action::Ctrl('t') => self.order_form(FormKind::Ship, Permission::OrderShip, &order),
            Action::Ctrl('x') => self.order_form(FormKind::Cancel, Permission::OrderCancel, &order),
            _ => {}
        }
        Vec::new()
    }

    fn pick_list_act(&mut self, action: Action) -> Vec<Command> {
        let pick = &mut self.pick;
        match action {
            Action::Enter => {
                let Some(order) = pick.orders.get(pick.selected) else { return Vec::new() };
                let (id, warehouse) = (order.id, pick.warehouse.clone().unwrap_or_default());
                if self.permitted(Permission::OrderPick, &warehouse) {
                    self.pick.open = Some(id);
                    self.pick.input.clear();
                }
                Vec::new()
            }
            Action::Char('w') => {
                let allowed: Vec<String> = self
                    .stock
                    .warehouses
                    .iter()
                    .filter(|w| self.actor.explain(Permission::OrderPick, Some(w.as_str())).allowed)
                    .cloned()
                    .collect();
                let at = allowed.iter().position(|w| Some(w) == self.pick.warehouse.as_ref()).map_or(0, |i| i + 1);
                let Some(next) = allowed.get(at % allowed.len().max(1)).cloned() else {
                    self.say("There is no warehouse where you may pick.", true);
                    return Vec::new();
                };
                self.pick = PickView { warehouse: Some(next.clone()), ..PickView::default() };
                vec![Command::Picks { warehouse: next }]
            }
            Action::Char('r') => match pick.warehouse.clone() {
                Some(warehouse) => vec![Command::Picks { warehouse }],
                None => Vec::new(),
            },
            _ => {
                pick.selected = moved(pick.selected, pick.orders.len(), 10, action);
                Vec::new()
            }
        }
    }

    fn order_form(&mut self, kind: FormKind, permission: Permission, order: &Order) {
        let warehouse = self.pick.warehouse.clone().unwrap_or_default();
        if self.permitted(permission, &warehouse) {
            self.form = Some(Form::order(kind, order));
        }
    }
}
