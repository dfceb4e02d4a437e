//! Just enough of Go's encoding/json to decode a trust policy document the way notation-go's
//! `json.NewDecoder(file).Decode(&doc)` does.
//!
//! What is reproduced:
//! - only the first JSON value is read; whatever follows a top-level object (or a top-level
//!   `null`) is never looked at;
//! - the grammar of Go's scanner (no leading zeros, no trailing commas, no control characters in
//!   strings, whitespace = space, tab, CR, LF) and its nesting limit of 10000;
//! - strings: invalid UTF-8 bytes and unpaired surrogate escapes become U+FFFD, one per byte;
//! - `null` leaves a string or struct unchanged and sets a slice or map to nil;
//! - a value is decoded *into* what an earlier duplicate key left there: objects merge field by
//!   field, maps merge entries, and arrays overwrite a slice element by element, an element that
//!   is `null` keeping the old value and a shorter array only shortening the length, so that a
//!   later array can bring old elements back (see [`GoSlice`]);
//! - numbers are checked for syntax only (never converted, so no range errors);
//! - any syntax error or type mismatch fails the whole decode (Go reports the first type error
//!   after decoding the rest, but the result is an error either way).
//!
//! Field-name matching (exact, then case-insensitive with Unicode simple folding) is done by the
//! caller through [`fold_key`].

use crate::gofmt::push_go_lossy;

/// Go's `maxNestingDepth` in encoding/json's scanner.
const MAX_DEPTH: usize = 10_000;

/// The one decode error: the caller reports notation-go's "malformed trust policy" message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Malformed;

pub(crate) type Result<T> = std::result::Result<T, Malformed>;

/// A Go slice as encoding/json reuses it: `backing` holds every element made visible since the
/// slice was last replaced (Go's backing array up to its high-water mark), `len` the visible
/// ones. Decoding an array into it reuses elements in place, so `null` elements and fields
/// missing from an object keep what an earlier duplicate key put there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GoSlice<T> {
    backing: Vec<T>,
    len: usize,
}

impl<T> Default for GoSlice<T> {
    fn default() -> Self {
        GoSlice {
            backing: Vec::new(),
            len: 0,
        }
    }
}

impl<T: Default> GoSlice<T> {
    /// The visible elements.
    pub(crate) fn as_slice(&self) -> &[T] {
        self.backing.get(..self.len).unwrap_or_default()
    }

    /// `null`: the slice becomes nil.
    fn set_nil(&mut self) {
        self.backing.clear();
        self.len = 0;
    }

    /// Element `i` for the i-th array element: `SetLen(i+1)` exposes a stale element when one
    /// is there, growing appends a zero value.
    fn element(&mut self, i: usize) -> Result<&mut T> {
        if i >= self.len {
            self.len = i + 1;
        }
        if i >= self.backing.len() {
            self.backing.push(T::default());
        }
        self.backing.get_mut(i).ok_or(Malformed)
    }

    /// After `count` elements: truncate; an empty array makes a fresh empty slice.
    fn finish(&mut self, count: usize) {
        if count < self.len {
            self.len = count;
        }
        if count == 0 {
            self.set_nil();
        }
    }
}

/// Go's `foldName` restricted to what can match an ASCII field name: ASCII letters upper-cased,
/// U+017F (long s) to `S`, U+212A (Kelvin sign) to `K`; everything else unchanged (no other rune
/// folds onto ASCII).
pub(crate) fn fold_key(key: &str) -> String {
    key.chars()
        .map(|c| match c {
            '\u{17f}' => 'S',
            '\u{212a}' => 'K',
            _ => c.to_ascii_uppercase(),
        })
        .collect()
}

pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0 }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn next(&mut self) -> Result<u8> {
        let b = self.peek().ok_or(Malformed)?;
        self.pos += 1;
        Ok(b)
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Result<()> {
        if self.next()? == byte {
            Ok(())
        } else {
            Err(Malformed)
        }
    }

    /// The first non-space byte of the next value, not consumed.
    pub(crate) fn peek_value(&mut self) -> Result<u8> {
        self.skip_space();
        self.peek().ok_or(Malformed)
    }

    /// Consumes `null` if the next value is one; `Ok(false)` leaves other values untouched.
    pub(crate) fn null(&mut self) -> Result<bool> {
        if self.peek_value()? != b'n' {
            return Ok(false);
        }
        self.literal(b"null")?;
        Ok(true)
    }

    fn literal(&mut self, word: &[u8]) -> Result<()> {
        for &b in word {
            self.expect(b)?;
        }
        Ok(())
    }

    /// A string value into a Go `string` field: `null` leaves it unchanged.
    pub(crate) fn string_into(&mut self, dst: &mut String) -> Result<()> {
        if !self.null()? {
            *dst = self.string()?;
        }
        Ok(())
    }

    /// A JSON string (the reader must be at its opening quote, after spaces).
    pub(crate) fn string(&mut self) -> Result<String> {
        if self.peek_value()? != b'"' {
            return Err(Malformed);
        }
        self.pos += 1;
        let mut out = String::new();
        let mut run_start = self.pos;
        loop {
            let b = self.next()?;
            match b {
                b'"' => {
                    push_go_lossy(
                        &mut out,
                        self.bytes.get(run_start..self.pos - 1).unwrap_or_default(),
                    );
                    return Ok(out);
                }
                b'\\' => {
                    push_go_lossy(
                        &mut out,
                        self.bytes.get(run_start..self.pos - 1).unwrap_or_default(),
                    );
                    self.escape(&mut out)?;
                    run_start = self.pos;
                }
                0x00..=0x1f => return Err(Malformed),
                _ => {}
            }
        }
    }

    /// One escape after its backslash, as Go's `unquote` decodes it.
    fn escape(&mut self, out: &mut String) -> Result<()> {
        let c = match self.next()? {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let first = self.hex4()?;
                if (0xd800..0xe000).contains(&first) {
                    self.surrogate(first)
                } else {
                    char::from_u32(first).unwrap_or(char::REPLACEMENT_CHARACTER)
                }
            }
            _ => return Err(Malformed),
        };
        out.push(c);
        Ok(())
    }

    /// A surrogate: combined with an immediately following `\uXXXX` low surrogate, else U+FFFD
    /// (and the following escape, if any, is decoded on its own).
    fn surrogate(&mut self, first: u32) -> char {
        let save = self.pos;
        if (0xd800..0xdc00).contains(&first) && self.peek() == Some(b'\\') {
            self.pos += 1;
            if self.peek() == Some(b'u') {
                self.pos += 1;
                if let Ok(second) = self.hex4()
                    && (0xdc00..0xe000).contains(&second)
                {
                    let code = 0x10000 + ((first - 0xd800) << 10) + (second - 0xdc00);
                    return char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER);
                }
            }
        }
        self.pos = save;
        char::REPLACEMENT_CHARACTER
    }

    fn hex4(&mut self) -> Result<u32> {
        let mut value = 0;
        for _ in 0..4 {
            let digit = char::from(self.next()?).to_digit(16).ok_or(Malformed)?;
            value = value << 4 | digit;
        }
        Ok(value)
    }

    /// An object: calls `field` with each key (the reader then sits before the value, which the
    /// callback must consume). `null` is accepted and leaves everything unchanged.
    pub(crate) fn object(
        &mut self,
        depth: usize,
        mut field: impl FnMut(&mut Self, String, usize) -> Result<()>,
    ) -> Result<()> {
        if self.null()? {
            return Ok(());
        }
        self.open(b'{', depth)?;
        if self.peek_value()? == b'}' {
            self.pos += 1;
            return Ok(());
        }
        loop {
            let key = self.string()?;
            self.skip_space();
            self.expect(b':')?;
            field(self, key, depth + 1)?;
            self.skip_space();
            match self.next()? {
                b',' => {}
                b'}' => return Ok(()),
                _ => return Err(Malformed),
            }
        }
    }

    /// An array into a slice with Go's reuse semantics; `null` sets the slice to nil.
    pub(crate) fn slice_into<T: Default>(
        &mut self,
        dst: &mut GoSlice<T>,
        depth: usize,
        mut element: impl FnMut(&mut Self, &mut T, usize) -> Result<()>,
    ) -> Result<()> {
        if self.null()? {
            dst.set_nil();
            return Ok(());
        }
        self.open(b'[', depth)?;
        let mut count = 0;
        if self.peek_value()? == b']' {
            self.pos += 1;
        } else {
            loop {
                element(self, dst.element(count)?, depth + 1)?;
                count += 1;
                self.skip_space();
                match self.next()? {
                    b',' => {}
                    b']' => break,
                    _ => return Err(Malformed),
                }
            }
        }
        dst.finish(count);
        Ok(())
    }

    fn open(&mut self, bracket: u8, depth: usize) -> Result<()> {
        if self.peek_value()? != bracket || depth + 1 > MAX_DEPTH {
            return Err(Malformed);
        }
        self.pos += 1;
        Ok(())
    }

    /// Skips one value of any type, checking its syntax, without recursion. `depth` is the
    /// nesting of the value's container.
    pub(crate) fn skip_value(&mut self, depth: usize) -> Result<()> {
        let mut open: Vec<u8> = Vec::new();
        loop {
            // A value starts here.
            match self.peek_value()? {
                b'{' | b'[' => {
                    let bracket = self.next()?;
                    if depth + open.len() + 1 > MAX_DEPTH {
                        return Err(Malformed);
                    }
                    let close = if bracket == b'{' { b'}' } else { b']' };
                    if self.peek_value()? == close {
                        self.pos += 1;
                    } else {
                        open.push(bracket);
                        if bracket == b'{' {
                            self.key()?;
                        }
                        continue;
                    }
                }
                b'"' => {
                    self.string()?;
                }
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                _ => self.number()?,
            }
            // A value ended: close containers or move to the next element.
            loop {
                let Some(&bracket) = open.last() else {
                    return Ok(());
                };
                self.skip_space();
                match (bracket, self.next()?) {
                    (b'{', b',') => {
                        self.key()?;
                        break;
                    }
                    (b'[', b',') => break,
                    (b'{', b'}') | (b'[', b']') => {
                        open.pop();
                    }
                    _ => return Err(Malformed),
                }
            }
        }
    }

    /// An object key and its colon.
    fn key(&mut self) -> Result<()> {
        self.string()?;
        self.skip_space();
        self.expect(b':')
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn number(&mut self) -> Result<()> {
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.next()? {
            b'0' => {}
            b'1'..=b'9' => self.digits(),
            _ => return Err(Malformed),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.one_or_more_digits()?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            self.one_or_more_digits()?;
        }
        Ok(())
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
    }

    fn one_or_more_digits(&mut self) -> Result<()> {
        if !matches!(self.peek(), Some(b'0'..=b'9')) {
            return Err(Malformed);
        }
        self.digits();
        Ok(())
    }
}

#[cfg(test)]
mod tests;
