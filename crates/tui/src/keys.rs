//! Keys to actions: arrows and vim keys move, digits and Tab switch screens, and while a
//! text field has the focus every printable key is text (a scanner types SKUs with `-`
//! in them, then Enter).

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    Help,
    NextScreen,
    PrevScreen,
    Screen(usize),
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Enter,
    Back,
    Backspace,
    NextField,
    PrevField,
    /// A printable key: text in a field, else a screen's command.
    Char(char),
    /// Control plus a letter: a command that works while typing.
    Ctrl(char),
}

/// The action of `key`; `typing` when a text field has the focus.
pub fn action(key: KeyEvent, typing: bool) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    Some(match key.code {
        KeyCode::Char('c') if ctrl => Action::Quit,
        KeyCode::Char('d') if ctrl && !typing => Action::PageDown,
        KeyCode::Char('u') if ctrl && !typing => Action::PageUp,
        KeyCode::Char(c) if ctrl => Action::Ctrl(c.to_ascii_lowercase()),
        KeyCode::Up => Action::Up,
        KeyCode::Down => Action::Down,
        KeyCode::Left => Action::Left,
        KeyCode::Right => Action::Right,
        KeyCode::PageUp => Action::PageUp,
        KeyCode::PageDown => Action::PageDown,
        KeyCode::Home => Action::Top,
        KeyCode::End => Action::Bottom,
        KeyCode::Enter => Action::Enter,
        KeyCode::Esc => Action::Back,
        KeyCode::Backspace => Action::Backspace,
        KeyCode::Tab if typing => Action::NextField,
        KeyCode::BackTab if typing => Action::PrevField,
        KeyCode::Tab => Action::NextScreen,
        KeyCode::BackTab => Action::PrevScreen,
        KeyCode::F(1) => Action::Help,
        KeyCode::Char(c) if typing => Action::Char(c),
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Char('?') => Action::Help,
        KeyCode::Char(c @ '1'..='5') => Action::Screen(c as usize - '1' as usize),
        KeyCode::Char('k') => Action::Up,
        KeyCode::Char('j') => Action::Down,
        KeyCode::Char('h') => Action::Left,
        KeyCode::Char('l') => Action::Right,
        KeyCode::Char('g') => Action::Top,
        KeyCode::Char('G') => Action::Bottom,
        KeyCode::Char(c) => Action::Char(c),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn typing_takes_every_printable_key_and_browsing_maps_vim_keys() {
        for c in ['q', 'j', '-', '1', '?'] {
            assert_eq!(action(key(KeyCode::Char(c)), true), Some(Action::Char(c)));
        }
        assert_eq!(action(key(KeyCode::Char('q')), false), Some(Action::Quit));
        assert_eq!(action(key(KeyCode::Char('j')), false), Some(Action::Down));
        assert_eq!(action(key(KeyCode::Char('3')), false), Some(Action::Screen(2)));
        assert_eq!(action(key(KeyCode::Tab), true), Some(Action::NextField));
        assert_eq!(action(key(KeyCode::Tab), false), Some(Action::NextScreen));
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(action(ctrl_c, true), Some(Action::Quit));
    }
}
