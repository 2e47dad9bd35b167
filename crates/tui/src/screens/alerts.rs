//! Alerts: low stock with the quantity to reorder, and the user's in-app inbox, read or
//! unread.

use stockyard_core::{inventory::ReorderSuggestion, notifications::Notification};

use super::moved;
use crate::{
    app::App,
    keys::Action,
    worker::{Command, Op},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pane {
    #[default]
    Low,
    Inbox,
}

#[derive(Debug, Default)]
pub struct AlertsView {
    pub low: Vec<ReorderSuggestion>,
    pub inbox: Vec<Notification>,
    pub pane: Pane,
    pub selected_low: usize,
    pub selected_inbox: usize,
    pub unread_only: bool,
    pub loaded: bool,
    pub error: Option<String>,
}

impl AlertsView {
    pub fn load(&mut self, low: Vec<ReorderSuggestion>, inbox: Vec<Notification>) {
        (self.low, self.inbox, self.loaded, self.error) = (low, inbox, true, None);
        self.selected_low = self.selected_low.min(self.low.len().saturating_sub(1));
        self.selected_inbox = self.selected_inbox.min(self.shown().len().saturating_sub(1));
    }

    /// The inbox as listed: every message, or only the unread.
    pub fn shown(&self) -> Vec<&Notification> {
        self.inbox.iter().filter(|n| !self.unread_only || n.read_at.is_none()).collect()
    }

    pub fn unread(&self) -> usize {
        self.inbox.iter().filter(|n| n.read_at.is_none()).count()
    }

    pub fn mark_read(&mut self, id: &str) {
        if let Some(n) = self.inbox.iter_mut().find(|n| n.id.to_string() == id) {
            n.read_at = Some(n.updated_at);
        }
    }
}

impl App {
    pub(crate) fn alerts_act(&mut self, action: Action) -> Vec<Command> {
        let alerts = &mut self.alerts;
        match action {
            Action::Left | Action::Right => {
                alerts.pane = if alerts.pane == Pane::Low { Pane::Inbox } else { Pane::Low };
            }
            Action::Char('u') => {
                alerts.unread_only = !alerts.unread_only;
                alerts.selected_inbox = 0;
            }
            Action::Char('r') => return vec![Command::Alerts],
            Action::Enter if alerts.pane == Pane::Inbox => {
                let shown = alerts.shown();
                let Some(n) = shown.get(alerts.selected_inbox) else { return Vec::new() };
                if n.read_at.is_none() {
                    let op = Op::MarkRead { id: n.id.to_string() };
                    return vec![Command::Do { op, key: uuid::Uuid::now_v7().to_string() }];
                }
            }
            _ if alerts.pane == Pane::Low => {
                alerts.selected_low = moved(alerts.selected_low, alerts.low.len(), 10, action)
            }
            _ => alerts.selected_inbox = moved(alerts.selected_inbox, alerts.shown().len(), 10, action),
        }
        Vec::new()
    }
}
