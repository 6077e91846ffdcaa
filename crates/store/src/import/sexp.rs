//! A bounded reader for libgcrypt's s-expressions, the syntax of libotr's
//! `otr.private_key`.
//!
//! The file is read as bytes: libgcrypt writes an atom as a quoted string
//! whenever its bytes look printable enough, and "printable" includes bytes
//! above 0xa0, so a key file is not always valid UTF-8. About one key in a few
//! hundred that libotr generates has its secret `x` written that way.
//!
//! Every form `gcry_sexp_sscan` reads is accepted: `#hex#` (whitespace allowed
//! inside), `"quoted"` with C escapes, bare tokens, `N:verbatim` bytes,
//! `|base64|`, and a `[display hint]` before an atom, which is dropped. Nesting
//! is capped at [`MAX_DEPTH`] and the node count at [`MAX_NODES`]; every
//! length is checked against the bytes that remain before anything is
//! allocated.

use base64::Engine as _;
use zeroize::Zeroizing;

/// Deepest nesting accepted; libotr's files use five levels.
pub(crate) const MAX_DEPTH: usize = 32;
/// Most lists and atoms accepted in one file (libotr writes 16 per account).
pub(crate) const MAX_NODES: usize = 1 << 20;

/// One node of an s-expression.
pub(crate) enum Sexp {
    /// `( ... )`.
    List(Vec<Sexp>),
    /// An atom's bytes, whichever form it was written in. Zeroized on drop:
    /// atoms of a key file hold secret exponents.
    Atom(Zeroizing<Vec<u8>>),
}

impl Sexp {
    /// The atom's bytes, or `None` for a list.
    pub(crate) fn atom(&self) -> Option<&[u8]> {
        match self {
            Self::Atom(bytes) => Some(bytes),
            Self::List(_) => None,
        }
    }

    /// The list's items, or `None` for an atom.
    pub(crate) fn list(&self) -> Option<&[Sexp]> {
        match self {
            Self::List(items) => Some(items),
            Self::Atom(_) => None,
        }
    }

    /// For a list that starts with the atom `name`: the rest of it.
    pub(crate) fn tagged(&self, name: &[u8]) -> Option<&[Sexp]> {
        let (head, rest) = self.list()?.split_first()?;
        (head.atom()? == name).then_some(rest)
    }

    /// The first item of this list that is a list tagged `name`, without
    /// its tag.
    pub(crate) fn find(&self, name: &[u8]) -> Option<&[Sexp]> {
        self.list()?.iter().find_map(|item| item.tagged(name))
    }

    /// `(name value)` inside this list: the single atom after the tag.
    pub(crate) fn value(&self, name: &[u8]) -> Option<&[u8]> {
        match self.find(name)? {
            [value] => value.atom(),
            _ => None,
        }
    }
}

/// Why bytes are not an s-expression. `offset` is where reading stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SexpError {
    /// Byte offset into the input.
    pub(crate) offset: usize,
    /// What was wrong there.
    pub(crate) what: &'static str,
}

/// Parses exactly one s-expression, with only whitespace around it.
pub(crate) fn parse(input: &[u8]) -> Result<Sexp, SexpError> {
    let mut reader = Reader {
        input,
        pos: 0,
        nodes: 0,
    };
    reader.skip_space();
    let sexp = reader.expression(0)?;
    reader.skip_space();
    if reader.pos != input.len() {
        return Err(reader.error("data after the end of the expression"));
    }
    Ok(sexp)
}

struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
    nodes: usize,
}

impl<'a> Reader<'a> {
    fn expression(&mut self, depth: usize) -> Result<Sexp, SexpError> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(self.error("too many elements"));
        }
        match self.peek() {
            Some(b'(') => self.list(depth),
            Some(b'[') => {
                // A display hint: read and drop it, then read the atom it
                // qualifies.
                self.pos += 1;
                self.skip_space();
                self.atom()?;
                self.skip_space();
                self.expect(b']', "display hint not closed")?;
                self.skip_space();
                self.atom().map(Sexp::Atom)
            }
            Some(_) => self.atom().map(Sexp::Atom),
            None => Err(self.error("input ends where an expression should start")),
        }
    }

    fn list(&mut self, depth: usize) -> Result<Sexp, SexpError> {
        if depth >= MAX_DEPTH {
            return Err(self.error("lists nested too deeply"));
        }
        self.pos += 1; // '('
        let mut items = Vec::new();
        loop {
            self.skip_space();
            match self.peek() {
                Some(b')') => {
                    self.pos += 1;
                    return Ok(Sexp::List(items));
                }
                Some(_) => items.push(self.expression(depth + 1)?),
                None => return Err(self.error("list not closed")),
            }
        }
    }

    fn atom(&mut self) -> Result<Zeroizing<Vec<u8>>, SexpError> {
        match self.peek() {
            Some(b'#') => self.hex(),
            Some(b'"') => self.quoted(),
            Some(b'|') => self.base64(),
            Some(c) if c.is_ascii_digit() => self.length_prefixed(),
            Some(c) if is_token_start(c) => Ok(self.token()),
            Some(_) => Err(self.error("unexpected byte")),
            None => Err(self.error("input ends where an atom should start")),
        }
    }

    /// `#` hex digits (whitespace allowed between them) `#`.
    fn hex(&mut self) -> Result<Zeroizing<Vec<u8>>, SexpError> {
        self.pos += 1;
        let mut out = Zeroizing::new(Vec::new());
        let mut high: Option<u8> = None;
        loop {
            let Some(c) = self.peek() else {
                return Err(self.error("hex atom not closed"));
            };
            self.pos += 1;
            if c == b'#' {
                break;
            }
            if is_space(c) {
                continue;
            }
            let Some(nibble) = padlock_otr::hex::digit(c) else {
                return Err(self.error("not a hex digit"));
            };
            match high.take() {
                Some(h) => out.push((h << 4) | nibble),
                None => high = Some(nibble),
            }
        }
        if high.is_some() {
            return Err(self.error("odd number of hex digits"));
        }
        Ok(out)
    }

    /// A quoted string with libgcrypt's escapes.
    fn quoted(&mut self) -> Result<Zeroizing<Vec<u8>>, SexpError> {
        self.pos += 1;
        let mut out = Zeroizing::new(Vec::new());
        loop {
            let Some(c) = self.peek() else {
                return Err(self.error("string not closed"));
            };
            self.pos += 1;
            match c {
                b'"' => return Ok(out),
                b'\\' => self.escape(&mut out)?,
                _ => out.push(c),
            }
        }
    }

    /// The escape after a backslash, appended to `out`.
    fn escape(&mut self, out: &mut Vec<u8>) -> Result<(), SexpError> {
        let Some(c) = self.peek() else {
            return Err(self.error("string ends inside an escape"));
        };
        self.pos += 1;
        let simple = match c {
            b'b' => Some(0x08),
            b't' => Some(b'\t'),
            b'v' => Some(0x0b),
            b'n' => Some(b'\n'),
            b'f' => Some(0x0c),
            b'r' => Some(b'\r'),
            b'"' | b'\'' | b'\\' => Some(c),
            _ => None,
        };
        if let Some(byte) = simple {
            out.push(byte);
            return Ok(());
        }
        match c {
            b'0'..=b'7' => {
                // Exactly three octal digits, as libgcrypt requires.
                let digits = self
                    .take(2)
                    .ok_or_else(|| self.error("short octal escape"))?;
                let mut value = u32::from(c - b'0');
                for &d in digits {
                    if !(b'0'..=b'7').contains(&d) {
                        return Err(self.error("bad octal escape"));
                    }
                    value = value * 8 + u32::from(d - b'0');
                }
                let byte = u8::try_from(value).map_err(|_| self.error("octal escape above 255"))?;
                out.push(byte);
            }
            b'x' => {
                let digits = self.take(2).ok_or_else(|| self.error("short hex escape"))?;
                let (Some(h), Some(l)) = (
                    digits.first().copied().and_then(padlock_otr::hex::digit),
                    digits.get(1).copied().and_then(padlock_otr::hex::digit),
                ) else {
                    return Err(self.error("bad hex escape"));
                };
                out.push((h << 4) | l);
            }
            // A line continuation: backslash, then CR, LF, CRLF or LFCR.
            b'\r' | b'\n' => {
                let other = if c == b'\r' { b'\n' } else { b'\r' };
                if self.peek() == Some(other) {
                    self.pos += 1;
                }
            }
            _ => return Err(self.error("unknown escape in string")),
        }
        Ok(())
    }

    /// `N:bytes`, and libgcrypt's length-prefixed `N"..."`, `N#..#`, `N|..|`,
    /// whose decoded length must be N.
    fn length_prefixed(&mut self) -> Result<Zeroizing<Vec<u8>>, SexpError> {
        let start = self.pos;
        let mut length: usize = 0;
        while let Some(c) = self.peek().filter(u8::is_ascii_digit) {
            length = length
                .checked_mul(10)
                .and_then(|l| l.checked_add(usize::from(c - b'0')))
                .filter(|&l| l <= self.input.len())
                .ok_or_else(|| self.error("length prefix larger than the input"))?;
            self.pos += 1;
        }
        let decoded = match self.peek() {
            Some(b':') => {
                self.pos += 1;
                let bytes = self
                    .take(length)
                    .ok_or_else(|| self.error("verbatim atom longer than the input"))?;
                return Ok(Zeroizing::new(bytes.to_vec()));
            }
            Some(b'"') => self.quoted()?,
            Some(b'#') => self.hex()?,
            Some(b'|') => self.base64()?,
            _ => {
                self.pos = start;
                return Err(self.error("a token cannot start with a digit"));
            }
        };
        if decoded.len() != length {
            return Err(self.error("atom length differs from its prefix"));
        }
        Ok(decoded)
    }

    /// `|base64|`.
    fn base64(&mut self) -> Result<Zeroizing<Vec<u8>>, SexpError> {
        self.pos += 1;
        let rest = self.input.get(self.pos..).unwrap_or_default();
        let Some(len) = rest.iter().position(|&c| c == b'|') else {
            return Err(self.error("base64 atom not closed"));
        };
        let text: Zeroizing<Vec<u8>> = Zeroizing::new(
            rest.iter()
                .take(len)
                .copied()
                .filter(|&c| !is_space(c))
                .collect(),
        );
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(&*text)
            .map_err(|_| self.error("bad base64 atom"))?;
        self.pos += len + 1;
        Ok(Zeroizing::new(decoded))
    }

    fn token(&mut self) -> Zeroizing<Vec<u8>> {
        let rest = self.input.get(self.pos..).unwrap_or_default();
        let len = rest
            .iter()
            .position(|&c| !is_token_char(c))
            .unwrap_or(rest.len());
        self.pos += len;
        Zeroizing::new(rest.get(..len).unwrap_or_default().to_vec())
    }

    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let bytes = self.input.get(self.pos..end)?;
        self.pos = end;
        Some(bytes)
    }

    fn expect(&mut self, c: u8, what: &'static str) -> Result<(), SexpError> {
        if self.peek() != Some(c) {
            return Err(self.error(what));
        }
        self.pos += 1;
        Ok(())
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(is_space) {
            self.pos += 1;
        }
    }

    fn error(&self, what: &'static str) -> SexpError {
        SexpError {
            offset: self.pos,
            what,
        }
    }
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// libgcrypt's token characters: letters, digits and `-./_:*+=`.
fn is_token_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"-./_:*+=".contains(&c)
}

fn is_token_start(c: u8) -> bool {
    is_token_char(c) && !c.is_ascii_digit()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn atom(input: &[u8]) -> Vec<u8> {
        let sexp = parse(input).unwrap();
        sexp.atom().unwrap().to_vec()
    }

    #[test]
    fn atoms_in_every_form() {
        assert_eq!(atom(b"#00 a1\nB2#"), [0x00, 0xa1, 0xb2]);
        assert_eq!(atom(b"prpl-jabber"), b"prpl-jabber");
        assert_eq!(atom(b"3:a(b"), b"a(b");
        assert_eq!(atom(b"|AQID|"), [1, 2, 3]);
        assert_eq!(atom(b"3#010203#"), [1, 2, 3]);
        assert_eq!(atom(b"[text/plain] \"hi\""), b"hi");
        assert_eq!(
            atom(b"\"a\\n\\t\\\\\\\"\\'\\b\\v\\f\\r\\101\\x7f\\xFF\xc0\""),
            b"a\n\t\\\"'\x08\x0b\x0c\rA\x7f\xff\xc0"
        );
        assert_eq!(atom(b"\"con\\\r\ntin\\\nued\""), b"continued");
    }

    #[test]
    fn nested_lists() {
        let sexp = parse(b" (a (b \"x\") (c #01#)) \n").unwrap();
        assert_eq!(sexp.value(b"b"), Some(&b"x"[..]));
        assert_eq!(sexp.value(b"c"), Some(&[1u8][..]));
        assert!(sexp.tagged(b"a").is_some());
    }

    #[test]
    fn hostile_input_is_an_error() {
        for bad in [
            &b""[..],
            b"(",
            b")",
            b"(a))",
            b"#0#",
            b"#zz#",
            b"\"open",
            b"\"\\q\"",
            b"\"\\400\"",
            b"\"\\x4\"",
            b"99999999999999999999999:",
            b"5:abc",
            b"4\"abc\"",
            b"12",
            b"|@@|",
            b"(a) (b)",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        let deep = [vec![b'('; 10_000], vec![b')'; 10_000]].concat();
        assert_eq!(
            parse(&deep).err().map(|e| e.what),
            Some("lists nested too deeply")
        );
    }
}
