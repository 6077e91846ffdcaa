//! Arguments of an `otr-peer` command line: words separated by single
//! spaces; the last argument is the rest of the line, and any argument may be
//! written as a JSON string so that it can hold spaces and newlines.

use std::fmt;

/// A command line's arguments after the verb.
pub struct Args<'a> {
    rest: &'a str,
}

/// An argument that is missing or badly quoted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgsError {
    /// Fewer arguments than the command takes.
    Missing,
    /// A JSON string that does not parse.
    BadString(String),
}

impl fmt::Display for ArgsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing => f.write_str("missing argument"),
            Self::BadString(detail) => write!(f, "bad JSON string argument: {detail}"),
        }
    }
}

impl std::error::Error for ArgsError {}

impl From<ArgsError> for String {
    fn from(error: ArgsError) -> Self {
        error.to_string()
    }
}

impl<'a> Args<'a> {
    /// The arguments in `rest` (the line after the verb and its space).
    pub fn new(rest: &'a str) -> Self {
        Self { rest }
    }

    /// The next argument: a JSON string, or the text up to the next space.
    pub fn word(&mut self) -> Result<String, ArgsError> {
        if self.rest.is_empty() {
            return Err(ArgsError::Missing);
        }
        if self.rest.starts_with('"') {
            let (value, used) = json_string_prefix(self.rest)?;
            self.rest = self.rest.get(used..).unwrap_or_default();
            self.rest = self.rest.strip_prefix(' ').unwrap_or(self.rest);
            return Ok(value);
        }
        let (word, rest) = self.rest.split_once(' ').unwrap_or((self.rest, ""));
        self.rest = rest;
        Ok(word.to_owned())
    }

    /// The last argument: a JSON string, or the rest of the line.
    pub fn last(&mut self) -> Result<String, ArgsError> {
        if self.rest.starts_with('"') {
            let (value, _) = json_string_prefix(self.rest)?;
            self.rest = "";
            return Ok(value);
        }
        if self.rest.is_empty() {
            return Err(ArgsError::Missing);
        }
        Ok(std::mem::take(&mut self.rest).to_owned())
    }
}

/// Parses the JSON string at the start of `text`; returns it and the bytes used.
fn json_string_prefix(text: &str) -> Result<(String, usize), ArgsError> {
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<String>();
    match stream.next() {
        Some(Ok(value)) => Ok((value, stream.byte_offset())),
        Some(Err(error)) => Err(ArgsError::BadString(error.to_string())),
        None => Err(ArgsError::Missing),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn words_and_rest_of_line() {
        let mut args = Args::new("bob hello there  world");
        assert_eq!(args.word().unwrap(), "bob");
        assert_eq!(args.last().unwrap(), "hello there  world");
        assert_eq!(args.last(), Err(ArgsError::Missing));
    }

    #[test]
    fn json_strings() {
        let mut args = Args::new(r#"bob "what is\nyour pet?" "rex the \"dog\"""#);
        assert_eq!(args.word().unwrap(), "bob");
        assert_eq!(args.word().unwrap(), "what is\nyour pet?");
        assert_eq!(args.last().unwrap(), "rex the \"dog\"");
        assert!(Args::new(r#""unterminated"#).last().is_err());
    }
}
