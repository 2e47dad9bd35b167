//! Colours that stay legible on light and dark terminals: only the terminal's own named
//! colours over its own background, selection by reversing, never a fixed black or white.
//! With `NO_COLOR` set (https://no-color.org) every style keeps only bold, underline and
//! reverse.

use ratatui::style::{Color, Modifier, Style};

/// Whether colour may be used at all: not when `NO_COLOR` is set to anything non-empty.
/// (The CLI asks too, for its error prefix.)
pub fn colour_allowed() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    colour: bool,
}

impl Theme {
    /// Colour unless `NO_COLOR` is set to anything non-empty.
    pub fn from_env() -> Self {
        Self { colour: colour_allowed() }
    }

    pub fn coloured(colour: bool) -> Self {
        Self { colour }
    }

    fn tint(self, colour: Color, base: Style) -> Style {
        if self.colour { base.fg(colour) } else { base }
    }

    pub fn plain(self) -> Style {
        Style::default()
    }

    pub fn title(self) -> Style {
        self.tint(Color::Cyan, Style::default().add_modifier(Modifier::BOLD))
    }

    pub fn header(self) -> Style {
        Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
    }

    pub fn selected(self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }

    /// A level at or below its reorder point.
    pub fn low(self) -> Style {
        self.tint(Color::Red, Style::default().add_modifier(Modifier::BOLD))
    }

    pub fn good(self) -> Style {
        self.tint(Color::Green, Style::default())
    }

    pub fn warn(self) -> Style {
        self.tint(Color::Yellow, Style::default().add_modifier(Modifier::BOLD))
    }

    pub fn error(self) -> Style {
        self.tint(Color::Red, Style::default().add_modifier(Modifier::BOLD))
    }

    /// Hints and secondary text: dim, which both light and dark terminals render readably.
    pub fn muted(self) -> Style {
        Style::default().add_modifier(Modifier::DIM)
    }

    pub fn key(self) -> Style {
        self.tint(Color::Cyan, Style::default().add_modifier(Modifier::BOLD))
    }

    /// The offline banner: reversed, so it stands out with or without colour.
    pub fn banner(self) -> Style {
        self.tint(Color::Red, Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD))
    }
}
