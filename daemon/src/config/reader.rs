//! Reading a TOML table with every problem collected, each with its key:
//! unknown keys, wrong types, bad values. Nothing stops at the first error.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::{Table, Value};

/// One problem in the configuration, with the file and the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    pub key: String,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(f, "{}: {}: {}", self.file.display(), self.key, self.message)
        }
    }
}

/// Collects errors while typed values are read out of tables.
pub struct Reader {
    pub file: PathBuf,
    pub base: PathBuf,
    pub errors: Vec<ConfigError>,
}

/// A table being read: remembers which keys were looked at.
pub struct Tbl<'t> {
    pub path: String,
    table: &'t Table,
    seen: BTreeSet<String>,
}

impl<'t> Tbl<'t> {
    pub fn new(path: &str, table: &'t Table) -> Tbl<'t> {
        Tbl {
            path: path.to_string(),
            table,
            seen: BTreeSet::new(),
        }
    }

    pub fn key(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    fn get(&mut self, key: &str) -> Option<&'t Value> {
        self.seen.insert(key.to_string());
        self.table.get(key)
    }

    pub fn has(&self, key: &str) -> bool {
        self.table.contains_key(key)
    }

    pub fn keys(&self) -> impl Iterator<Item = (&'t String, &'t Value)> {
        self.table.iter()
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a date-time",
        Value::Array(_) => "an array",
        Value::Table(_) => "a table",
    }
}

impl Reader {
    pub fn new(file: &Path) -> Reader {
        let base = file
            .parent()
            .map(Path::to_path_buf)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("."));
        Reader {
            file: file.to_path_buf(),
            base,
            errors: Vec::new(),
        }
    }

    pub fn error(&mut self, key: &str, message: impl Into<String>) {
        self.errors.push(ConfigError {
            file: self.file.clone(),
            key: key.to_string(),
            message: message.into(),
        });
    }

    fn wrong(&mut self, t: &Tbl<'_>, key: &str, want: &str, got: &Value) {
        self.error(
            &t.key(key),
            format!("expected {want}, found {}", type_name(got)),
        );
    }

    pub fn string(&mut self, t: &mut Tbl<'_>, key: &str) -> Option<String> {
        match t.get(key)? {
            Value::String(s) => Some(s.clone()),
            other => {
                self.wrong(t, key, "a string", other);
                None
            }
        }
    }

    /// A required string: missing is an error.
    pub fn required(&mut self, t: &mut Tbl<'_>, key: &str) -> Option<String> {
        if !t.has(key) {
            self.error(&t.key(key), "is required");
            return None;
        }
        self.string(t, key)
    }

    pub fn bool(&mut self, t: &mut Tbl<'_>, key: &str) -> Option<bool> {
        match t.get(key)? {
            Value::Boolean(b) => Some(*b),
            other => {
                self.wrong(t, key, "a boolean", other);
                None
            }
        }
    }

    pub fn integer(&mut self, t: &mut Tbl<'_>, key: &str, min: i64, max: i64) -> Option<i64> {
        match t.get(key)? {
            Value::Integer(i) if (min..=max).contains(i) => Some(*i),
            Value::Integer(i) => {
                self.error(&t.key(key), format!("{i} is out of range ({min} to {max})"));
                None
            }
            other => {
                self.wrong(t, key, "an integer", other);
                None
            }
        }
    }

    /// One of `choices`.
    pub fn choice(&mut self, t: &mut Tbl<'_>, key: &str, choices: &[&str]) -> Option<String> {
        let s = self.string(t, key)?;
        if choices.contains(&s.as_str()) {
            Some(s)
        } else {
            let list: Vec<String> = choices.iter().map(|c| format!("{c:?}")).collect();
            self.error(
                &t.key(key),
                format!("{s:?} is not one of {}", list.join(", ")),
            );
            None
        }
    }

    /// A duration such as "30s", "5m", "1h", "250ms".
    pub fn duration(&mut self, t: &mut Tbl<'_>, key: &str) -> Option<Duration> {
        let s = self.string(t, key)?;
        match parse_duration(&s) {
            Some(d) => Some(d),
            None => {
                self.error(
                    &t.key(key),
                    format!("{s:?} is not a duration (e.g. \"500ms\", \"30s\", \"5m\", \"1h\")"),
                );
                None
            }
        }
    }

    /// A path, relative to the configuration file's directory.
    pub fn path(&mut self, t: &mut Tbl<'_>, key: &str) -> Option<PathBuf> {
        let s = self.string(t, key)?;
        if s.is_empty() {
            self.error(&t.key(key), "is empty");
            return None;
        }
        Some(self.resolve(&s))
    }

    pub fn resolve(&self, s: &str) -> PathBuf {
        let p = Path::new(s);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base.join(p)
        }
    }

    pub fn strings(&mut self, t: &mut Tbl<'_>, key: &str) -> Option<Vec<String>> {
        match t.get(key)? {
            Value::Array(items) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Value::String(s) => out.push(s.clone()),
                        other => self.error(
                            &format!("{}[{i}]", t.key(key)),
                            format!("expected a string, found {}", type_name(other)),
                        ),
                    }
                }
                Some(out)
            }
            other => {
                self.wrong(t, key, "an array of strings", other);
                None
            }
        }
    }

    pub fn u32s(&mut self, t: &mut Tbl<'_>, key: &str) -> Option<Vec<u32>> {
        match t.get(key)? {
            Value::Array(items) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    match item.as_integer().and_then(|n| u32::try_from(n).ok()) {
                        Some(n) => out.push(n),
                        None => self.error(&format!("{}[{i}]", t.key(key)), "expected a user id"),
                    }
                }
                Some(out)
            }
            other => {
                self.wrong(t, key, "an array of user ids", other);
                None
            }
        }
    }

    pub fn table<'t>(&mut self, t: &mut Tbl<'t>, key: &str) -> Option<Tbl<'t>> {
        let path = t.key(key);
        match t.get(key)? {
            Value::Table(inner) => Some(Tbl::new(&path, inner)),
            other => {
                self.error(
                    &path,
                    format!("expected a table, found {}", type_name(other)),
                );
                None
            }
        }
    }

    /// `[[key]]`: an array of tables.
    pub fn tables<'t>(&mut self, t: &mut Tbl<'t>, key: &str) -> Vec<Tbl<'t>> {
        let path = t.key(key);
        match t.get(key) {
            None => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| match item {
                    Value::Table(inner) => Some(Tbl::new(&format!("{path}[{i}]"), inner)),
                    other => {
                        self.error(
                            &format!("{path}[{i}]"),
                            format!("expected a table, found {}", type_name(other)),
                        );
                        None
                    }
                })
                .collect(),
            Some(other) => {
                self.error(
                    &path,
                    format!("expected an array of tables, found {}", type_name(other)),
                );
                Vec::new()
            }
        }
    }

    /// Reports the keys of `t` nobody asked for.
    pub fn finish(&mut self, t: Tbl<'_>) {
        for key in t.table.keys() {
            if !t.seen.contains(key) {
                self.error(&t.key(key), "unknown key");
            }
        }
    }
}

/// Go's duration syntax as Kubernetes and Ratify write it: "500ms", "30s",
/// "2.5s", "1.5m", "1h", "2h30m" (no sign, no units below milliseconds).
pub fn parse_duration(s: &str) -> Option<Duration> {
    const NANOS_PER_SEC: u128 = 1_000_000_000;
    let mut total: u128 = 0;
    let mut rest = s.trim();
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let int_len = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let whole: u128 = if int_len == 0 {
            0
        } else {
            rest[..int_len].parse().ok()?
        };
        rest = &rest[int_len..];
        // An optional fraction: ".5". At most nine digits count (nanoseconds).
        let (mut frac, mut scale, mut frac_len) = (0u128, 1u128, 0usize);
        if let Some(after) = rest.strip_prefix('.') {
            frac_len = after
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(after.len());
            for d in after[..frac_len].bytes().take(9) {
                frac = frac * 10 + u128::from(d - b'0');
                scale *= 10;
            }
            rest = &after[frac_len..];
        }
        if int_len == 0 && frac_len == 0 {
            return None;
        }
        let (unit_nanos, len): (u128, usize) = if rest.starts_with("ms") {
            (1_000_000, 2)
        } else if rest.starts_with('s') {
            (NANOS_PER_SEC, 1)
        } else if rest.starts_with('m') {
            (60 * NANOS_PER_SEC, 1)
        } else if rest.starts_with('h') {
            (3600 * NANOS_PER_SEC, 1)
        } else {
            return None;
        };
        let part = whole
            .checked_mul(unit_nanos)?
            .checked_add(frac.checked_mul(unit_nanos)? / scale)?;
        total = total.checked_add(part)?;
        rest = &rest[len..];
    }
    let secs = u64::try_from(total / NANOS_PER_SEC).ok()?;
    let nanos = u32::try_from(total % NANOS_PER_SEC).ok()?;
    Some(Duration::new(secs, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Some(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_duration("2h30m"), Some(Duration::from_secs(9000)));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("2.5s"), Some(Duration::from_millis(2500)));
        assert_eq!(parse_duration("1.5m"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration(".5s"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("1h0.25m"), Some(Duration::from_secs(3615)));
        assert_eq!(
            parse_duration("1.0000000009s"),
            Some(Duration::from_secs(1))
        );
        for bad in [
            "",
            "s",
            ".s",
            "10",
            "10x",
            "-1s",
            "1.5",
            "1..5s",
            "99999999999999999999999h",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
