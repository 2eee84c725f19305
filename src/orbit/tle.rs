//! Two-line element sets (TLE): parsing, validation, selection.
//!
//! Format: NORAD/Celestrak two-line elements, optionally preceded by a name line (the
//! "3LE" form; a leading `0 ` on the name line, as Space-Track writes it, is removed).
//! Several sets may follow one another in a file. Blank lines and lines starting with
//! `#` are ignored. Each element line is 69 columns (trailing white space and `\r` are
//! ignored), starts with its line number (`1` or `2`), carries the catalogue number in
//! columns 3–7 (digits or Alpha-5), and ends with a modulo-10 checksum in column 69: the
//! sum of the digits of columns 1–68, each `-` counting 1, modulo 10 (the definition
//! in Celestrak's "NORAD Two-Line Element Set Format" and AIAA 2006-6753, Appendix B).
//!
//! Every malformed set is reported as `FILE: line N, column C: what was wrong` (columns
//! counted from 1), before anything is handed to the `sgp4` crate.

use crate::error::{Error, Result};
use crate::time::Timestamp;
use std::path::{Path, PathBuf};

/// Length of a TLE element line, in columns.
pub const LINE_LEN: usize = 69;

/// One element set: satellite name (if the file gives one), catalogue number, epoch and
/// the mean elements.
#[derive(Debug, Clone)]
pub struct Tle {
    name: Option<String>,
    norad_id: u64,
    epoch: Timestamp,
    line1: String,
    line2: String,
    elements: sgp4::Elements,
    source: PathBuf,
    line_no: usize,
}

/// Columns (0-based) that must hold a space on line 1 and on line 2.
const SPACES_LINE1: [usize; 8] = [1, 8, 17, 32, 43, 52, 61, 63];
const SPACES_LINE2: [usize; 7] = [1, 7, 16, 25, 33, 42, 51];

impl Tle {
    /// Parses every element set in `text`. `source` names the file in errors.
    ///
    /// An input without any element set is an error, as is any malformed set.
    pub fn parse(text: &str, source: &Path) -> Result<Vec<Tle>> {
        let lines: Vec<(usize, &str)> = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim_end()))
            .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
            .collect();
        let err = |n: usize, col: usize, what: String| {
            Error::format(source, format!("line {n}, column {col}: {what}"))
        };
        let mut out = Vec::new();
        let mut i = 0;
        while i < lines.len() {
            let (n, l) = lines[i];
            let mut name = None;
            let (n1, l1) = if is_line(l, b'1') {
                (n, l)
            } else if is_line(l, b'2') {
                return Err(err(
                    n,
                    1,
                    "line 2 of an element set without its line 1 before it".into(),
                ));
            } else {
                let nm = l.strip_prefix("0 ").unwrap_or(l).trim();
                name = Some(nm.to_string());
                i += 1;
                match lines.get(i) {
                    Some(&(n1, l1)) if l1.as_bytes().first() == Some(&b'1') => (n1, l1),
                    Some(&(n1, l1)) => {
                        return Err(err(
                            n1,
                            1,
                            format!(
                                "expected line 1 of the element set named `{nm}` (line {n}), \
                                 found a line starting with {}",
                                describe_first(l1)
                            ),
                        ))
                    }
                    None => {
                        return Err(err(
                            n,
                            1,
                            format!("`{nm}` is not an element line and no element set follows it"),
                        ))
                    }
                }
            };
            i += 1;
            let (n2, l2) = match lines.get(i) {
                Some(&(n2, l2)) if l2.as_bytes().first() == Some(&b'2') => (n2, l2),
                Some(&(n2, l2)) => {
                    return Err(err(
                        n2,
                        1,
                        format!(
                            "expected line 2 of the element set begun on line {n1}, found a \
                             line starting with {}",
                            describe_first(l2)
                        ),
                    ))
                }
                None => {
                    return Err(err(
                        n1,
                        1,
                        "line 1 of an element set without its line 2 after it".into(),
                    ))
                }
            };
            i += 1;
            out.push(Tle::from_lines(name, (n1, l1), (n2, l2), source)?);
        }
        if out.is_empty() {
            return Err(Error::format(
                source,
                "no two-line element set found (expected lines starting with `1 ` and `2 `)",
            ));
        }
        Ok(out)
    }

    /// Reads and parses a TLE file.
    pub fn from_file(path: &Path) -> Result<Vec<Tle>> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            Error::format(
                path,
                format!(
                    "not a text file (invalid UTF-8 at byte {})",
                    e.utf8_error().valid_up_to()
                ),
            )
        })?;
        Tle::parse(&text, path)
    }

    /// Validates and parses one set: `(line number in the file, text)` of lines 1 and 2.
    fn from_lines(
        name: Option<String>,
        (n1, l1): (usize, &str),
        (n2, l2): (usize, &str),
        source: &Path,
    ) -> Result<Tle> {
        let err = |n: usize, col: usize, what: String| {
            Error::format(source, format!("line {n}, column {col}: {what}"))
        };
        check_line(l1, b'1', &SPACES_LINE1).map_err(|(c, w)| err(n1, c, w))?;
        check_line(l2, b'2', &SPACES_LINE2).map_err(|(c, w)| err(n2, c, w))?;
        let id1 = parse_catalogue(&l1[2..7]).map_err(|w| err(n1, 3, w))?;
        let id2 = parse_catalogue(&l2[2..7]).map_err(|w| err(n2, 3, w))?;
        if id1 != id2 {
            return Err(err(
                n2,
                3,
                format!(
                    "catalogue number {} (columns 3-7) differs from {} on line {n1}",
                    l2[2..7].trim(),
                    l1[2..7].trim()
                ),
            ));
        }
        check_fields_line1(l1).map_err(|(c, w)| err(n1, c, w))?;
        check_fields_line2(l2).map_err(|(c, w)| err(n2, c, w))?;
        let epoch = parse_epoch(l1).map_err(|(c, w)| err(n1, c, w))?;
        let elements = sgp4::Elements::from_tle(name.clone(), l1.as_bytes(), l2.as_bytes())
            .map_err(|e| {
                Error::format(
                    source,
                    format!("lines {n1}-{n2}: {e} (columns counted from 0)"),
                )
            })?;
        Ok(Tle {
            name: name.filter(|s| !s.is_empty()),
            norad_id: id1,
            epoch,
            line1: l1.to_string(),
            line2: l2.to_string(),
            elements,
            source: source.to_path_buf(),
            line_no: n1,
        })
    }

    /// The satellite's name, when the file gives a name line.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// NORAD catalogue number (Alpha-5 numbers decoded: `A0000` = 100000).
    pub fn norad_id(&self) -> u64 {
        self.norad_id
    }

    /// Epoch of the elements, UTC.
    pub fn epoch(&self) -> Timestamp {
        self.epoch
    }

    /// Element line 1, as in the file (69 columns).
    pub fn line1(&self) -> &str {
        &self.line1
    }

    /// Element line 2, as in the file (69 columns).
    pub fn line2(&self) -> &str {
        &self.line2
    }

    /// The file the set came from.
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// Line number of element line 1 in that file (1-based).
    pub fn line_number(&self) -> usize {
        self.line_no
    }

    /// `NAME (NORAD)` or `NORAD n`, for messages.
    pub fn label(&self) -> String {
        match &self.name {
            Some(n) => format!("{n} ({})", self.norad_id),
            None => format!("NORAD {}", self.norad_id),
        }
    }

    /// Inclination, degrees.
    pub fn inclination_deg(&self) -> f64 {
        self.elements.inclination
    }

    /// Mean motion, revolutions per day.
    pub fn mean_motion_rev_day(&self) -> f64 {
        self.elements.mean_motion
    }

    /// Eccentricity.
    pub fn eccentricity(&self) -> f64 {
        self.elements.eccentricity
    }

    /// The parsed elements, for the propagator.
    pub(crate) fn elements(&self) -> &sgp4::Elements {
        &self.elements
    }
}

/// Chooses one satellite among `list`: by name (case-insensitive, surrounding spaces
/// ignored) or by NORAD catalogue number. Without `want`, the list must hold exactly one
/// set. Errors name the option `--sat` and list what the file holds.
pub fn select<'a>(list: &'a [Tle], want: Option<&str>) -> Result<&'a Tle> {
    let holds = || {
        let names: Vec<String> = list.iter().take(20).map(Tle::label).collect();
        let more = if list.len() > 20 {
            format!(" and {} more", list.len() - 20)
        } else {
            String::new()
        };
        let file = list
            .first()
            .map(|t| t.source.display().to_string())
            .unwrap_or_else(|| "the TLE file".into());
        format!("{file} holds {}{more}", names.join(", "))
    };
    let Some(w) = want.map(str::trim) else {
        return match list {
            [one] => Ok(one),
            [] => Err(Error::config("--tle", "no element set to choose from")),
            _ => Err(Error::config(
                "--sat",
                format!(
                    "the TLE file holds {} satellites; choose one by name or NORAD number ({})",
                    list.len(),
                    holds()
                ),
            )),
        };
    };
    let by_id = w.parse::<u64>().ok();
    let found: Vec<&Tle> = list
        .iter()
        .filter(|t| {
            Some(t.norad_id) == by_id
                || t.name
                    .as_deref()
                    .is_some_and(|n| n.trim().eq_ignore_ascii_case(w))
        })
        .collect();
    match found.as_slice() {
        [one] => Ok(one),
        [] => Err(Error::config(
            "--sat",
            format!("no satellite named or numbered `{w}`: {}", holds()),
        )),
        many => {
            // Several sets of the same satellite (e.g. a history file): take the newest.
            let first = many[0].norad_id;
            if many.iter().all(|t| t.norad_id == first) {
                Ok(many
                    .iter()
                    .copied()
                    .max_by(|a, b| {
                        a.epoch
                            .partial_cmp(&b.epoch)
                            .unwrap_or(std::cmp::Ordering::Equal)
                    })
                    .unwrap_or(many[0]))
            } else {
                let labels: Vec<String> = many.iter().map(|t| t.label()).collect();
                Err(Error::config(
                    "--sat",
                    format!("`{w}` matches several satellites: {}", labels.join(", ")),
                ))
            }
        }
    }
}

/// Catalogue number (columns 3–7): up to five digits (leading spaces allowed), or Alpha-5
/// (a letter A–Z without I and O standing for 10–33, then four digits).
fn parse_catalogue(f: &str) -> std::result::Result<u64, String> {
    let b = f.as_bytes();
    let bad = || format!("catalogue number (columns 3-7) `{f}` is neither 5 digits nor Alpha-5");
    let t = f.trim_start();
    if !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit()) {
        return t.parse().map_err(|_| bad());
    }
    let lead = match b[0] {
        c @ b'A'..=b'H' => (c - b'A') as u64 + 10,
        c @ b'J'..=b'N' => (c - b'J') as u64 + 18,
        c @ b'P'..=b'Z' => (c - b'P') as u64 + 23,
        _ => return Err(bad()),
    };
    if !b[1..].iter().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let rest: u64 = f[1..].parse().map_err(|_| bad())?;
    Ok(lead * 10_000 + rest)
}

/// Does `l` look like element line `num` (`1 ` or `2 ` at its start)?
fn is_line(l: &str, num: u8) -> bool {
    let b = l.as_bytes();
    b.len() >= 2 && b[0] == num && b[1] == b' '
}

fn describe_first(l: &str) -> String {
    match l.chars().next() {
        Some(c) => format!("`{c}`"),
        None => "nothing".into(),
    }
}

type ColErr = (usize, String);

/// Structure common to both lines: ASCII, length, line number, fixed spaces, checksum.
fn check_line(l: &str, num: u8, spaces: &[usize]) -> std::result::Result<(), ColErr> {
    if let Some((i, c)) = l.chars().enumerate().find(|(_, c)| !c.is_ascii()) {
        return Err((
            i + 1,
            format!("non-ASCII character `{c}` in an element line"),
        ));
    }
    let b = l.as_bytes();
    if b.len() < LINE_LEN {
        return Err((
            b.len() + 1,
            format!(
                "line {} of the element set is {} characters long, {LINE_LEN} expected (truncated?)",
                num as char,
                b.len()
            ),
        ));
    }
    if b.len() > LINE_LEN {
        return Err((
            LINE_LEN + 1,
            format!(
                "line {} of the element set is {} characters long, {LINE_LEN} expected",
                num as char,
                b.len()
            ),
        ));
    }
    if b[0] != num {
        return Err((
            1,
            format!(
                "line number is `{}`, expected `{}`",
                b[0] as char, num as char
            ),
        ));
    }
    for &i in spaces {
        if b[i] != b' ' {
            return Err((
                i + 1,
                format!(
                    "expected a space between fields, found `{}` (fields shifted?)",
                    b[i] as char
                ),
            ));
        }
    }
    let check = b[LINE_LEN - 1];
    if !check.is_ascii_digit() {
        return Err((
            LINE_LEN,
            format!("checksum must be a digit, found `{}`", check as char),
        ));
    }
    let sum = checksum(&b[..LINE_LEN - 1]);
    if sum != check - b'0' {
        return Err((
            LINE_LEN,
            format!(
                "checksum is {} but columns 1-68 sum to {sum} (mod 10): corrupted line",
                check as char
            ),
        ));
    }
    Ok(())
}

/// Modulo-10 checksum of columns 1–68: digits count their value, `-` counts 1.
pub fn checksum(cols: &[u8]) -> u8 {
    let s: u32 = cols
        .iter()
        .map(|&c| match c {
            b'0'..=b'9' => (c - b'0') as u32,
            b'-' => 1,
            _ => 0,
        })
        .sum();
    (s % 10) as u8
}

/// A field of `l` between 1-based columns `a..=b`.
fn field(l: &str, a: usize, b: usize) -> &str {
    &l[a - 1..b]
}

fn float_field(l: &str, a: usize, b: usize, what: &str) -> std::result::Result<f64, ColErr> {
    let f = field(l, a, b).trim();
    let v: f64 = f
        .parse()
        .map_err(|_| (a, format!("{what} (columns {a}-{b}) `{f}` is not a number")))?;
    if !v.is_finite() {
        return Err((a, format!("{what} (columns {a}-{b}) `{f}` is not finite")));
    }
    Ok(v)
}

fn int_field(l: &str, a: usize, b: usize, what: &str) -> std::result::Result<u64, ColErr> {
    let f = field(l, a, b).trim_start();
    f.parse::<u64>().map_err(|_| {
        (
            a,
            format!("{what} (columns {a}-{b}) `{f}` is not an integer"),
        )
    })
}

/// A field with an assumed leading decimal point and an exponent (`-11606-4`): mantissa
/// in columns `a..=b-2` (optional sign), signed exponent digit in `b-1..=b`.
fn exp_field(l: &str, a: usize, b: usize, what: &str) -> std::result::Result<(), ColErr> {
    let f = field(l, a, b);
    let (mant, exp) = f.split_at(f.len() - 2);
    let m = mant.trim_start();
    let digits = m.strip_prefix(['-', '+']).unwrap_or(m);
    let exp_ok = matches!(exp.as_bytes()[0], b'-' | b'+' | b'0'..=b'9')
        && exp.as_bytes()[1].is_ascii_digit();
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) || !exp_ok {
        return Err((
            a,
            format!("{what} (columns {a}-{b}) `{f}` is not of the form ±NNNNN±E"),
        ));
    }
    Ok(())
}

fn check_fields_line1(l: &str) -> std::result::Result<(), ColErr> {
    let b = l.as_bytes();
    if !matches!(b[7], b'U' | b'C' | b'S') {
        return Err((
            8,
            format!("classification `{}` is not U, C or S", b[7] as char),
        ));
    }
    let desig = field(l, 10, 17);
    if !desig.trim().is_empty() && !field(l, 10, 11).bytes().all(|c| c.is_ascii_digit()) {
        return Err((
            10,
            format!(
                "international designator `{desig}` does not start with a two-digit launch year"
            ),
        ));
    }
    let yy = field(l, 19, 20);
    if !yy.bytes().all(|c| c.is_ascii_digit()) {
        return Err((
            19,
            format!("epoch year (columns 19-20) `{yy}` is not two digits"),
        ));
    }
    let day = float_field(l, 21, 32, "epoch day")?;
    if !(1.0..367.0).contains(&day) {
        return Err((21, format!("epoch day of year {day} is outside [1, 367)")));
    }
    float_field(l, 34, 43, "first derivative of mean motion")?;
    exp_field(l, 45, 52, "second derivative of mean motion")?;
    exp_field(l, 54, 61, "drag term B*")?;
    if !b[62].is_ascii_digit() {
        return Err((
            63,
            format!("ephemeris type `{}` is not a digit", b[62] as char),
        ));
    }
    int_field(l, 65, 68, "element set number")?;
    Ok(())
}

fn check_fields_line2(l: &str) -> std::result::Result<(), ColErr> {
    let ranged = |a, b, what, lo: f64, hi: f64| -> std::result::Result<f64, ColErr> {
        let v = float_field(l, a, b, what)?;
        if !(lo..=hi).contains(&v) {
            return Err((a, format!("{what} {v} is outside [{lo}, {hi}] degrees")));
        }
        Ok(v)
    };
    ranged(9, 16, "inclination", 0.0, 180.0)?;
    ranged(18, 25, "right ascension of the ascending node", 0.0, 360.0)?;
    let e = field(l, 27, 33);
    if !e.bytes().all(|c| c.is_ascii_digit()) {
        return Err((
            27,
            format!("eccentricity (columns 27-33) `{e}` is not seven digits (assumed leading decimal point)"),
        ));
    }
    ranged(35, 42, "argument of perigee", 0.0, 360.0)?;
    ranged(44, 51, "mean anomaly", 0.0, 360.0)?;
    let n = float_field(l, 53, 63, "mean motion")?;
    if n <= 0.0 {
        return Err((53, format!("mean motion {n} rev/day must be positive")));
    }
    int_field(l, 64, 68, "revolution number")?;
    Ok(())
}

/// Epoch (line 1, columns 19–32): two-digit year (57–99 → 19xx, 00–56 → 20xx) and day of
/// year with fraction (1.0 = 1 January 00:00 UTC).
fn parse_epoch(l: &str) -> std::result::Result<Timestamp, ColErr> {
    let yy: i64 = field(l, 19, 20)
        .parse()
        .map_err(|_| (19, "epoch year is not a number".to_string()))?;
    let year = if yy < 57 { 2000 + yy } else { 1900 + yy };
    let day = float_field(l, 21, 32, "epoch day")?;
    let jan1 = days_from_civil(year, 1, 1) * 86_400;
    Ok(Timestamp::from_unix(jan1, (day - 1.0) * 86_400.0))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISS: &str = "ISS (ZARYA)\n\
        1 25544U 98067A   08264.51782528 -.00002182  00000-0 -11606-4 0  2927\n\
        2 25544  51.6416 247.4627 0006703 130.5360 325.0288 15.72125391563537\n";

    fn p(text: &str) -> Result<Vec<Tle>> {
        Tle::parse(text, Path::new("test.tle"))
    }

    #[test]
    fn parses_three_line_set_with_epoch() {
        let v = p(ISS).unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].name(), Some("ISS (ZARYA)"));
        assert_eq!(v[0].norad_id(), 25544);
        // 2008 day 264.51782528 = 2008-09-20T12:25:40.104192Z
        let want = Timestamp::parse_iso8601("2008-09-20T12:25:40.104192Z", "t").unwrap();
        assert!(v[0].epoch().seconds_since(&want).abs() < 1e-5);
    }

    #[test]
    fn checksum_matches_known_lines() {
        for l in ISS.lines().skip(1) {
            let b = l.as_bytes();
            assert_eq!(checksum(&b[..68]), b[68] - b'0', "{l}");
        }
    }

    #[test]
    fn days_from_civil_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 1, 1), 10_957);
        assert_eq!(days_from_civil(2020, 5, 7), 18_389);
    }

    #[test]
    fn space_track_zero_prefix_and_crlf() {
        let t = ISS
            .replace("ISS (ZARYA)", "0 ISS (ZARYA)")
            .replace('\n', "\r\n");
        let v = p(&t).unwrap();
        assert_eq!(v[0].name(), Some("ISS (ZARYA)"));
    }

    #[test]
    fn alpha5_catalogue_number() {
        // A0000 = 100000; checksum recomputed for the changed columns.
        let mut l1: Vec<u8> = ISS.lines().nth(1).unwrap().bytes().collect();
        let mut l2: Vec<u8> = ISS.lines().nth(2).unwrap().bytes().collect();
        l1[2..7].copy_from_slice(b"A0000");
        l2[2..7].copy_from_slice(b"A0000");
        l1[68] = b'0' + checksum(&l1[..68]);
        l2[68] = b'0' + checksum(&l2[..68]);
        let text = format!(
            "{}\n{}\n",
            String::from_utf8(l1).unwrap(),
            String::from_utf8(l2).unwrap()
        );
        assert_eq!(p(&text).unwrap()[0].norad_id(), 100_000);
    }

    #[test]
    fn non_ascii_names_the_column() {
        let t = ISS.replace("08264.5", "08264é5");
        let e = p(&t).unwrap_err().to_string();
        assert!(
            e.contains("line 2, column 24") && e.contains("non-ASCII"),
            "{e}"
        );
    }

    #[test]
    fn empty_input_is_an_error() {
        let e = p("# nothing\n\n").unwrap_err().to_string();
        assert!(
            e.contains("test.tle") && e.contains("no two-line element set"),
            "{e}"
        );
    }
}
