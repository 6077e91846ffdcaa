//! One line of editable text: the input line and the fields of the
//! Authenticate dialog. The text is wiped from memory when it is cleared or
//! dropped, and never printed by `Debug`.

use std::fmt;

use padlock_core::Sensitive;
use zeroize::Zeroizing;

/// A single-line text field with a cursor (counted in characters).
#[derive(Default, Clone, PartialEq, Eq)]
pub struct Field {
    text: Zeroizing<String>,
    cursor: usize,
}

impl Field {
    /// An empty field.
    pub fn new() -> Self {
        Self::default()
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether nothing is typed.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// The cursor position, in characters from the start.
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// Inserts a character at the cursor.
    pub fn insert(&mut self, c: char) {
        let at = self.byte_index(self.cursor);
        self.text.insert(at, c);
        self.cursor += 1;
    }

    /// Inserts text at the cursor (a paste); line breaks become spaces.
    pub fn insert_str(&mut self, text: &str) {
        for c in text.chars() {
            self.insert(if c == '\n' || c == '\r' { ' ' } else { c });
        }
    }

    /// Deletes the character before the cursor.
    pub fn backspace(&mut self) {
        if self.cursor == 0 {
            return;
        }
        self.cursor -= 1;
        let at = self.byte_index(self.cursor);
        self.text.remove(at);
    }

    /// Deletes the character under the cursor.
    pub fn delete(&mut self) {
        if self.cursor < self.text.chars().count() {
            let at = self.byte_index(self.cursor);
            self.text.remove(at);
        }
    }

    /// Moves the cursor one character left.
    pub fn left(&mut self) {
        self.cursor = self.cursor.saturating_sub(1);
    }

    /// Moves the cursor one character right.
    pub fn right(&mut self) {
        self.cursor = (self.cursor + 1).min(self.text.chars().count());
    }

    /// Moves the cursor to the start.
    pub fn home(&mut self) {
        self.cursor = 0;
    }

    /// Moves the cursor to the end.
    pub fn end(&mut self) {
        self.cursor = self.text.chars().count();
    }

    /// Takes the text out as [`Sensitive`], leaving the field empty.
    pub fn take(&mut self) -> Sensitive {
        self.cursor = 0;
        let text = Sensitive::new(self.text.as_str());
        self.clear();
        text
    }

    /// Empties the field (the old text is wiped).
    pub fn clear(&mut self) {
        self.text = Zeroizing::new(String::new());
        self.cursor = 0;
    }

    fn byte_index(&self, chars: usize) -> usize {
        self.text
            .char_indices()
            .nth(chars)
            .map_or(self.text.len(), |(at, _)| at)
    }
}

impl fmt::Debug for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Field({} bytes)", self.text.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_at_the_cursor_and_hides_its_text() {
        let mut field = Field::new();
        field.insert_str("heron");
        field.home();
        field.insert_str("blue ");
        field.end();
        field.backspace();
        field.insert('n');
        assert_eq!(field.as_str(), "blue heron");
        field.left();
        field.delete();
        assert_eq!(field.as_str(), "blue hero");
        assert_eq!(format!("{field:?}"), "Field(9 bytes)");
        assert_eq!(field.take().as_str(), "blue hero");
        assert!(field.is_empty());
    }

    #[test]
    fn handles_characters_wider_than_a_byte() {
        let mut field = Field::new();
        field.insert_str("çé");
        field.left();
        field.insert('x');
        assert_eq!(field.as_str(), "çxé");
        assert_eq!(field.cursor(), 2);
    }
}
