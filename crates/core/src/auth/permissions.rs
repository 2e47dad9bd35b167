//! Who may do what: the one table from (role, action) to allowed, and the warehouse-scope
//! rule beside it. Every core operation asks here before it touches data.

use serde::Serialize;

use crate::named::named;

named! {
    /// What a user may do, in broad strokes (SPEC roles).
    Role, "role" {
        Admin = "admin",
        Manager = "manager",
        Warehouse = "warehouse",
        Sales = "sales",
        Client = "client",
        Viewer = "viewer",
    }
}

impl Default for Role {
    /// The least a user may do: what a new account gets unless told otherwise.
    fn default() -> Self {
        Role::Viewer
    }
}

named! {
    /// Something an actor does, named `resource.verb`.
    Action, "action" {
        ProductRead = "product.read",
        ProductCreate = "product.create",
        ProductUpdate = "product.update",
        ProductDelete = "product.delete",
        CategoryRead = "category.read",
        CategoryCreate = "category.create",
        WarehouseRead = "warehouse.read",
        WarehouseCreate = "warehouse.create",
        StockRead = "stock.read",
        StockHistory = "stock.history",
        StockReceive = "stock.receive",
        StockAdjust = "stock.adjust",
        StockTransfer = "stock.transfer",
        StockCount = "stock.count",
        StockThreshold = "stock.threshold",
        StockVerify = "stock.verify",
        StockReplay = "stock.replay",
        ReservationRead = "reservation.read",
        ReservationCreate = "reservation.create",
        ReservationRelease = "reservation.release",
        ReservationCommit = "reservation.commit",
        ReservationExpire = "reservation.expire",
        OrderRead = "order.read",
        OrderCreate = "order.create",
        OrderUpdate = "order.update",
        OrderPay = "order.pay",
        OrderCancel = "order.cancel",
        OrderPick = "order.pick",
        OrderPack = "order.pack",
        OrderShip = "order.ship",
        OrderDeliver = "order.deliver",
        OrderReturn = "order.return",
        OrderRefund = "order.refund",
        NotifyTemplates = "notify.templates",
        NotifySend = "notify.send",
        NotifyRead = "notify.read",
        NotifyRun = "notify.run",
        WebhookManage = "webhook.manage",
        EventsRead = "events.read",
        AuditRead = "audit.read",
        UserRead = "user.read",
        UserManage = "user.manage",
        UserPrefs = "user.prefs",
        TokenManage = "token.manage",
        KeyRotate = "key.rotate",
        StoreSetup = "store.setup",
    }
}

use Role::{Admin, Client, Manager, Sales, Viewer, Warehouse};

impl Role {
    /// Whether this role may do everything `other` may: what an actor of this role may
    /// give an account or a token.
    pub fn covers(self, other: Role) -> bool {
        Action::ALL.iter().all(|a| !a.roles().contains(&other) || a.roles().contains(&self))
    }
}

impl Action {
    /// The table: the roles allowed to do this. Admin does everything.
    pub fn roles(self) -> &'static [Role] {
        match self {
            Action::ProductRead | Action::CategoryRead | Action::WarehouseRead | Action::StockRead => {
                &[Admin, Manager, Warehouse, Sales, Client, Viewer]
            }
            Action::ProductCreate
            | Action::ProductUpdate
            | Action::ProductDelete
            | Action::CategoryCreate
            | Action::WarehouseCreate
            | Action::StockThreshold
            | Action::StockVerify
            | Action::StockReplay
            | Action::ReservationExpire => &[Admin, Manager],
            // The ledger names who moved stock and for which reservation: staff only. A
            // client reads the catalog and availability.
            Action::StockHistory => &[Admin, Manager, Warehouse, Sales, Viewer],
            Action::StockReceive | Action::StockAdjust | Action::StockTransfer | Action::StockCount => {
                &[Admin, Manager, Warehouse]
            }
            Action::ReservationRead => &[Admin, Manager, Warehouse, Sales, Client, Viewer],
            Action::ReservationCreate | Action::ReservationRelease => &[Admin, Manager, Sales, Client],
            Action::ReservationCommit => &[Admin, Manager, Warehouse],
            Action::OrderRead => &[Admin, Manager, Warehouse, Sales, Client, Viewer],
            Action::OrderCreate | Action::OrderUpdate => &[Admin, Manager, Sales, Client],
            Action::OrderPay | Action::OrderCancel | Action::OrderReturn | Action::OrderRefund => {
                &[Admin, Manager, Sales]
            }
            Action::OrderPick | Action::OrderPack | Action::OrderShip | Action::OrderDeliver => {
                &[Admin, Manager, Warehouse]
            }
            Action::NotifyTemplates | Action::NotifySend | Action::NotifyRead | Action::WebhookManage => {
                &[Admin, Manager]
            }
            Action::NotifyRun => &[Admin],
            // Everyone may read the event log, each only the events about what it may read
            // (`Events::read`); the audit log is the whole record: staff who oversee.
            Action::EventsRead => &[Admin, Manager, Warehouse, Sales, Client, Viewer],
            Action::AuditRead => &[Admin, Manager, Viewer],
            // Everyone reads and sets their own preferences; other users' need `user.manage`.
            Action::UserPrefs => &[Admin, Manager, Warehouse, Sales, Client, Viewer],
            Action::UserRead | Action::UserManage | Action::TokenManage | Action::KeyRotate | Action::StoreSetup => {
                &[Admin]
            }
        }
    }

    /// Whether the action happens at a warehouse, so a user scoped to warehouses may do
    /// it only there. Every step on an order happens at the warehouses serving it.
    pub fn at_warehouse(self) -> bool {
        matches!(
            self,
            Action::StockRead
                | Action::StockHistory
                | Action::StockReceive
                | Action::StockAdjust
                | Action::StockTransfer
                | Action::StockCount
                | Action::StockThreshold
                | Action::ReservationRead
                | Action::ReservationCreate
                | Action::ReservationRelease
                | Action::ReservationCommit
                | Action::OrderRead
                | Action::OrderCreate
                | Action::OrderUpdate
                | Action::OrderPay
                | Action::OrderCancel
                | Action::OrderReturn
                | Action::OrderRefund
                | Action::OrderPick
                | Action::OrderPack
                | Action::OrderShip
                | Action::OrderDeliver
        )
    }

    /// Whether a `client` may do this only to what it owns (its reservations, later its
    /// orders).
    pub fn own_only_for_clients(self) -> bool {
        matches!(self, Action::ReservationRead | Action::ReservationRelease | Action::OrderRead | Action::OrderUpdate)
    }
}

/// Whether an action is allowed, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    pub allowed: bool,
    pub reason: String,
}

/// The whole rule: the role's permission, then the warehouse scope (`scope` empty: every
/// warehouse). `warehouse` is the warehouse acted at, when there is one.
pub fn explain(role: Role, scope: &[String], action: Action, warehouse: Option<&str>) -> Explanation {
    let roles = action.roles();
    if !roles.contains(&role) {
        let names: Vec<_> = roles.iter().map(Role::as_str).collect();
        return Explanation {
            allowed: false,
            reason: format!("role {role} may not {action} (allowed to: {})", names.join(", ")),
        };
    }
    let scoped = action.at_warehouse() && !scope.is_empty();
    let mut reason = format!("role {role} may {action}");
    match warehouse {
        Some(code) if scoped && !scope.iter().any(|s| s.eq_ignore_ascii_case(code)) => {
            return Explanation {
                allowed: false,
                reason: format!("{reason}, but only at {}, not at {}", scope.join(", "), code.to_ascii_uppercase()),
            };
        }
        Some(code) if scoped => reason += &format!(" at {}, within its warehouses ({})", code, scope.join(", ")),
        None if scoped => reason += &format!(", only at its warehouses ({})", scope.join(", ")),
        _ if action.at_warehouse() => reason += " at every warehouse",
        _ => {}
    }
    if role == Client && action.own_only_for_clients() {
        reason += ", on what it owns only";
    }
    Explanation { allowed: true, reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_may_do_everything() {
        for action in Action::ALL {
            assert!(explain(Admin, &[], *action, Some("MAIN")).allowed, "{action}");
        }
    }

    #[test]
    fn names_parse_back() {
        for action in Action::ALL {
            assert_eq!(action.as_str().parse::<Action>().ok(), Some(*action));
        }
        assert_eq!("Manager".parse::<Role>().ok(), Some(Manager));
        let err = "boss".parse::<Role>().map_err(|e| e.to_string());
        assert!(err.is_err_and(|e| e.starts_with("invalid role: \"boss\" is not one of admin")));
    }

    #[test]
    fn roles_cover_what_they_may_do() {
        assert!(Role::ALL.iter().all(|r| Admin.covers(*r) && r.covers(*r)));
        assert!(Manager.covers(Sales) && Manager.covers(Client) && Manager.covers(Viewer));
        assert!(!Sales.covers(Manager) && !Client.covers(Viewer) && !Viewer.covers(Client));
    }

    #[test]
    fn scope_limits_warehouse_actions_only() {
        let scope = vec!["EAST".to_owned()];
        assert!(explain(Warehouse, &scope, Action::StockReceive, Some("east")).allowed);
        let refused = explain(Warehouse, &scope, Action::StockReceive, Some("MAIN"));
        assert!(!refused.allowed);
        assert_eq!(refused.reason, "role warehouse may stock.receive, but only at EAST, not at MAIN");
        assert!(explain(Warehouse, &scope, Action::ProductRead, None).allowed);
    }
}
