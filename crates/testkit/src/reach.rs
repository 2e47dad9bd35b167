//! Where an actor stands in a pass of a permission matrix: unscoped, or scoped to EAST and
//! WEST and acting outside or inside that scope. The core's and the server's permission
//! tests walk the same three.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// No scope, acting at MAIN.
    Unscoped,
    /// Scoped to EAST and WEST, acting at MAIN.
    Outside,
    /// Scoped to EAST and WEST, acting at EAST (transferring to WEST).
    Inside,
}

impl Reach {
    pub const ALL: [Reach; 3] = [Reach::Unscoped, Reach::Outside, Reach::Inside];

    /// The actor's warehouse scope (none: all).
    pub fn scope(self) -> Vec<String> {
        if self == Reach::Unscoped { vec![] } else { vec!["EAST".into(), "WEST".into()] }
    }

    /// Where it acts.
    pub fn here(self) -> &'static str {
        if self == Reach::Inside { "EAST" } else { "MAIN" }
    }

    /// The other end of a transfer.
    pub fn there(self) -> &'static str {
        if self == Reach::Inside { "WEST" } else { "EAST" }
    }
}
