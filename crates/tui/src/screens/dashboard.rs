//! The dashboard: today's orders by status, units reserved, low levels, notifications
//! waiting or failed, stock movements per minute, and the latest events — kept live by the
//! event log.

use std::collections::VecDeque;

use stockyard_core::{Event, EventType};

use crate::{
    app::App,
    keys::Action,
    worker::{Command, Dashboard, SPARK_MINUTES, count_movement, minute_of},
};

/// How many of the latest events the dashboard lists.
pub const RECENT: usize = 20;

#[derive(Debug, Default)]
pub struct DashboardView {
    pub data: Dashboard,
    pub recent: VecDeque<Event>,
    pub loaded: bool,
    pub error: Option<String>,
}

impl DashboardView {
    pub fn load(&mut self, data: Dashboard) {
        self.recent = data.recent.iter().cloned().collect();
        (self.data, self.loaded, self.error) = (data, true, None);
    }

    /// New events from the log: listed, and counted into the sparkline.
    pub fn record(&mut self, events: &[Event]) {
        let minute = self.data.minute;
        let movements = &mut self.data.movements;
        if movements.len() != SPARK_MINUTES {
            *movements = vec![0; SPARK_MINUTES];
        }
        for event in events {
            if event.event_type == EventType::InventoryChanged {
                count_movement(movements, minute, minute_of(event.occurred_at));
            }
            self.recent.push_back(event.clone());
        }
        while self.recent.len() > RECENT {
            self.recent.pop_front();
        }
    }

    /// The clock moved on `minutes`: the sparkline shifts left.
    pub fn advance(&mut self, minutes: i64) {
        let movements = &mut self.data.movements;
        let shift = (minutes.max(0) as usize).min(movements.len());
        movements.drain(..shift);
        movements.extend(std::iter::repeat_n(0, shift));
        self.data.minute += minutes;
    }
}

impl App {
    pub(crate) fn dashboard_act(&mut self, action: Action) -> Vec<Command> {
        match action {
            Action::Char('r') => vec![Command::Dashboard, Command::Board, Command::Alerts],
            _ => Vec::new(),
        }
    }
}
