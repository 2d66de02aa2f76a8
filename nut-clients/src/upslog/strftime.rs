//! `strftime` as the C library does it in the "C" locale, on a broken-down
//! time the caller supplies: no clock, no time zone database.
//!
//! Conversions: `a A b B c C d D e F g G h H I j k l m M n p P r R s S t T
//! u U V w W x X y Y z Z %`, the flags `_ - 0 ^ #`, a field width and the
//! `E`/`O` modifiers (which change nothing in the "C" locale). A conversion
//! the C library does not know is copied as written (`%Q` gives `%Q`).

/// A broken-down local time (the C library's `struct tm`, plus the zone's
/// offset and abbreviation and the Unix time it came from).
///
/// Fields out of range never panic: names print as `?`, numbers as given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LocalTime {
    /// The year (2026).
    pub year: i32,
    /// The month, 1 to 12.
    pub month: u8,
    /// The day of the month, 1 to 31.
    pub day: u8,
    /// The hour, 0 to 23.
    pub hour: u8,
    /// The minute, 0 to 59.
    pub minute: u8,
    /// The second, 0 to 60.
    pub second: u8,
    /// The day of the week, 0 (Sunday) to 6.
    pub weekday: u8,
    /// The day of the year, 0 (1 January) to 365.
    pub yday: u16,
    /// Seconds east of UTC.
    pub utc_offset: i32,
    /// The zone's abbreviation (`UTC`, `CET`).
    pub abbreviation: String,
    /// Seconds since the Unix epoch.
    pub timestamp: i64,
}

impl LocalTime {
    /// The UTC broken-down time of `timestamp` (seconds since the epoch),
    /// with zone abbreviation `UTC`.
    ///
    /// ```
    /// use nut_clients::upslog::strftime::{LocalTime, strftime};
    /// let t = LocalTime::utc(0);
    /// assert_eq!(strftime(b"%Y-%m-%d %H:%M:%S %a %j %Z", &t), b"1970-01-01 00:00:00 Thu 001 UTC");
    /// ```
    pub fn utc(timestamp: i64) -> LocalTime {
        let days = timestamp.div_euclid(86_400);
        let secs = timestamp.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        let yday = days - days_from_civil(year, 1, 1);
        LocalTime {
            year: year.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32,
            month: month as u8,
            day: day as u8,
            hour: (secs / 3600) as u8,
            minute: (secs / 60 % 60) as u8,
            second: (secs % 60) as u8,
            weekday: (days + 4).rem_euclid(7) as u8,
            yday: yday as u16,
            utc_offset: 0,
            abbreviation: "UTC".into(),
            timestamp,
        }
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day number (inverse of
/// [`days_from_civil`]).
pub(crate) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

const DAYS: [&str; 7] =
    ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The longest field width honoured (wider asks are cut to this).
const MAX_WIDTH: usize = 1024;

/// How one conversion was asked for.
#[derive(Clone, Copy, Default)]
struct Spec {
    /// `_`, `-` or `0`, if given.
    pad: Option<u8>,
    /// `^`: upper case.
    upper: bool,
    /// `#`: the other case.
    swap: bool,
    /// The field width, if given.
    width: Option<usize>,
}

impl Spec {
    /// Appends a number of at least `digits` digits, padded with
    /// `default_pad` (`b'0'` or `b' '`) unless a flag says otherwise. As in
    /// the C library, `-` drops the padding to `digits` but keeps an
    /// explicit width (filled with spaces).
    fn number(&self, out: &mut Vec<u8>, value: i64, digits: usize, default_pad: u8) {
        let text = value.unsigned_abs().to_string();
        let neg = value < 0;
        let (fill_with, target) = match self.pad {
            Some(b'-') => (b' ', self.width.unwrap_or(0)),
            Some(b'_') => (b' ', self.width.unwrap_or(0).max(digits)),
            Some(b'0') => (b'0', self.width.unwrap_or(0).max(digits)),
            _ => (default_pad, self.width.unwrap_or(0).max(digits)),
        };
        let fill = target.saturating_sub(text.len() + usize::from(neg));
        if fill_with == b'0' {
            if neg {
                out.push(b'-');
            }
            out.extend(std::iter::repeat_n(b'0', fill));
        } else {
            out.extend(std::iter::repeat_n(b' ', fill));
            if neg {
                out.push(b'-');
            }
        }
        out.extend_from_slice(text.as_bytes());
    }

    /// Appends a text right-aligned in the width (spaces, or zeros with
    /// `0`), in upper case with `^` or with `#` when `hash_upper`, in lower
    /// case when `lower`.
    fn text_cased(&self, out: &mut Vec<u8>, s: &[u8], hash_upper: bool, lower: bool) {
        let fill = self.width.unwrap_or(0).saturating_sub(s.len());
        let p = if self.pad == Some(b'0') { b'0' } else { b' ' };
        out.extend(std::iter::repeat_n(p, fill));
        let upper = self.upper || (self.swap && hash_upper);
        out.extend(s.iter().map(|&b| {
            if lower {
                b.to_ascii_lowercase()
            } else if upper {
                b.to_ascii_uppercase()
            } else {
                b
            }
        }));
    }

    /// A text where `#` asks for upper case (names).
    fn text(&self, out: &mut Vec<u8>, s: &[u8]) {
        self.text_cased(out, s, true, false);
    }

    /// A text where `#` asks for lower case (`%p`, `%Z`).
    fn text_lower_on_hash(&self, out: &mut Vec<u8>, s: &[u8]) {
        self.text_cased(out, s, false, self.swap);
    }

    /// The UTC offset as `+hhmm`, with the C library's odd handling of a
    /// width (the width, less one, pads before the sign, and also sets the
    /// digits after it).
    fn offset(&self, out: &mut Vec<u8>, seconds: i32) {
        let off = i64::from(seconds);
        let m = off.unsigned_abs() / 60;
        let hhmm = (m / 60 * 100 + m % 60) as i64;
        if let Some(w) = self.width {
            let p = if self.pad == Some(b'0') { b'0' } else { b' ' };
            out.extend(std::iter::repeat_n(p, w.saturating_sub(1)));
        }
        out.push(if off < 0 { b'-' } else { b'+' });
        let min = if self.pad == Some(b'-') { 0 } else { 4 };
        let digits = Spec { width: self.width.map(|w| w.max(min)), ..*self };
        digits.number(out, hhmm, 4, b'0');
    }
}

fn name(table: &[&'static str], i: usize, short: bool) -> &'static [u8] {
    match table.get(i) {
        Some(n) if short => &n.as_bytes()[..3],
        Some(n) => n.as_bytes(),
        None => b"?",
    }
}

/// Whether `y` is a leap year.
fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

/// The ISO 8601 week-numbering year and week of a day.
fn iso_week(year: i64, yday: i64, weekday: i64) -> (i64, i64) {
    // Monday = 0 ... Sunday = 6.
    let wd = (weekday + 6).rem_euclid(7);
    // Day of the year of this week's Thursday decides the year.
    let thursday = yday - wd + 3;
    let len = |y: i64| if is_leap(y) { 366 } else { 365 };
    if thursday < 0 {
        let y = year - 1;
        let t = thursday + len(y);
        (y, t / 7 + 1)
    } else if thursday >= len(year) {
        (year + 1, (thursday - len(year)) / 7 + 1)
    } else {
        (year, thursday / 7 + 1)
    }
}

/// Formats `t` with `fmt` as `strftime(3)` in the "C" locale does.
pub fn strftime(fmt: &[u8], t: &LocalTime) -> Vec<u8> {
    let mut out = Vec::with_capacity(fmt.len() + 16);
    format_into(&mut out, fmt, t);
    out
}

fn format_into(out: &mut Vec<u8>, fmt: &[u8], t: &LocalTime) {
    let mut i = 0;
    while i < fmt.len() {
        if fmt[i] != b'%' {
            out.push(fmt[i]);
            i += 1;
            continue;
        }
        let start = i;
        i += 1;
        let mut spec = Spec::default();
        while let Some(&f) = fmt.get(i) {
            match f {
                b'_' | b'-' | b'0' => spec.pad = Some(f),
                b'^' => spec.upper = true,
                b'#' => spec.swap = true,
                _ => break,
            }
            i += 1;
        }
        let mut width: Option<usize> = None;
        while let Some(d) = fmt.get(i).filter(|d| d.is_ascii_digit()) {
            let w = width.unwrap_or(0).saturating_mul(10).saturating_add(usize::from(d - b'0'));
            width = Some(w.min(MAX_WIDTH));
            i += 1;
        }
        spec.width = width;
        let modifier = fmt.get(i).copied().filter(|m| *m == b'E' || *m == b'O');
        if modifier.is_some() {
            i += 1;
        }
        let conv = fmt.get(i).copied();
        if conv.is_some() {
            i += 1;
        }
        let known = conv.is_some_and(|c| convert(out, c, modifier, spec, t));
        if !known {
            // Copied as written, in the field width (the C library has
            // already applied `#` for a name when it sees a bad modifier).
            let hash = conv.is_some_and(|c| b"Abh".contains(&c));
            Spec { swap: spec.swap && hash, ..spec }.text(out, &fmt[start..i]);
        }
    }
}

/// One conversion; `false` when the C library would not know it.
fn convert(out: &mut Vec<u8>, conv: u8, modifier: Option<u8>, spec: Spec, t: &LocalTime) -> bool {
    match modifier {
        Some(b'E') if b"aAbBdDeFgGhHIjklmMSUVwW".contains(&conv) => return false,
        Some(b'O') if b"aAcDFxXY".contains(&conv) => return false,
        _ => {}
    }
    let year = i64::from(t.year);
    let hour12 = match t.hour % 12 {
        0 => 12,
        h => i64::from(h),
    };
    let iso = || iso_week(year, i64::from(t.yday), i64::from(t.weekday));
    let num = |out: &mut Vec<u8>, v: i64, digits: usize| spec.number(out, v, digits, b'0');
    let sub = |out: &mut Vec<u8>, f: &[u8]| {
        let text = strftime(f, t);
        Spec { swap: false, ..spec }.text(out, &text);
    };
    let month = usize::from(t.month).wrapping_sub(1);
    match conv {
        b'a' => spec.text(out, name(&DAYS, usize::from(t.weekday), true)),
        b'A' => spec.text(out, name(&DAYS, usize::from(t.weekday), false)),
        b'b' | b'h' => spec.text(out, name(&MONTHS, month, true)),
        b'B' => spec.text(out, name(&MONTHS, month, false)),
        b'c' => sub(out, b"%a %b %e %H:%M:%S %Y"),
        b'C' => num(out, year.div_euclid(100), 2),
        b'd' => num(out, i64::from(t.day), 2),
        b'D' | b'x' => sub(out, b"%m/%d/%y"),
        b'e' => spec.number(out, i64::from(t.day), 2, b' '),
        b'F' => sub(out, b"%Y-%m-%d"),
        b'g' => num(out, iso().0.rem_euclid(100), 2),
        b'G' => num(out, iso().0, 1),
        b'H' => num(out, i64::from(t.hour), 2),
        b'I' => num(out, hour12, 2),
        b'j' => num(out, i64::from(t.yday) + 1, 3),
        b'k' => spec.number(out, i64::from(t.hour), 2, b' '),
        b'l' => spec.number(out, hour12, 2, b' '),
        b'm' => num(out, i64::from(t.month), 2),
        b'M' => num(out, i64::from(t.minute), 2),
        b'n' => spec.text(out, b"\n"),
        b't' => spec.text(out, b"\t"),
        b'p' => spec.text_lower_on_hash(out, if t.hour < 12 { b"AM" } else { b"PM" }),
        b'P' => spec.text_cased(out, if t.hour < 12 { b"am" } else { b"pm" }, false, true),
        b'r' => sub(out, b"%I:%M:%S %p"),
        b'R' => sub(out, b"%H:%M"),
        b's' => spec.number(out, t.timestamp, 1, b' '),
        b'S' => num(out, i64::from(t.second), 2),
        b'T' | b'X' => sub(out, b"%H:%M:%S"),
        b'u' => num(out, (i64::from(t.weekday) + 6).rem_euclid(7) + 1, 1),
        b'U' => num(out, (i64::from(t.yday) + 7 - i64::from(t.weekday)).div_euclid(7), 2),
        b'V' => num(out, iso().1, 2),
        b'w' => num(out, i64::from(t.weekday), 1),
        b'W' => {
            let monday_based = (i64::from(t.weekday) + 6).rem_euclid(7);
            num(out, (i64::from(t.yday) + 7 - monday_based).div_euclid(7), 2);
        }
        b'y' => num(out, year.rem_euclid(100), 2),
        b'Y' => num(out, year, 1),
        b'z' => spec.offset(out, t.utc_offset),
        b'Z' => spec.text_lower_on_hash(out, t.abbreviation.as_bytes()),
        b'%' => spec.text(out, b"%"),
        _ => return false,
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(fmt: &str, t: &LocalTime) -> String {
        String::from_utf8(strftime(fmt.as_bytes(), t)).unwrap()
    }

    #[test]
    fn civil_round_trip() {
        for days in [-800_000, -1, 0, 59, 365, 10_957, 20_000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{days}");
        }
    }

    /// Expected texts from glibc's `strftime` (via Python's
    /// `time.strftime` with `TZ=UTC`) for the same instants.
    #[test]
    fn like_glibc() {
        // 2026-11-25 06:56:14 UTC, a Wednesday.
        let t = LocalTime::utc(1_795_589_774);
        for (fmt, want) in [
            ("%Y%m%d %H%M%S", "20261125 065614"),
            ("%a %A %b %B %h", "Wed Wednesday Nov November Nov"),
            ("%c", "Wed Nov 25 06:56:14 2026"),
            ("%C %d %D %e %F", "20 25 11/25/26 25 2026-11-25"),
            ("%g %G %H %I %j %k %l", "26 2026 06 06 329  6  6"),
            ("%m %M %p %P %r %R", "11 56 AM am 06:56:14 AM 06:56"),
            ("%s %S %T %u %U %V %w %W", "1795589774 14 06:56:14 3 47 48 3 47"),
            ("%x %X %y %Y %z %Z %%", "11/25/26 06:56:14 26 2026 +0000 UTC %"),
            ("%n%t", "\n\t"),
            ("%Q %5Q %+ %N %Ed %Ey %Od %", "%Q   %5Q %+ %N %Ed 26 25 %"),
            (
                "%12s|%-3j|%^c|%5n|%#Eb|%#Ea",
                "  1795589774|329|WED NOV 25 06:56:14 2026|    \n|%#EB|%#Ea",
            ),
            ("%-d %_m %-H %_H %0e %^a %#a %#Z %#p %^B", "25 11 6  6 25 WED WED utc am NOVEMBER"),
            (
                "%10a|%-10a|%010a|%5d|%_5d|%-5d|%3Y|%6Y",
                "       Wed|       Wed|0000000Wed|00025|   25|   25|2026|002026",
            ),
        ] {
            assert_eq!(f(fmt, &t), want, "{fmt}");
        }
        // 2021-01-03, a Sunday in ISO week 53 of 2020.
        let t = LocalTime::utc(1_609_632_000);
        assert_eq!(f("%G-%V %g %U %W %u %w %I %p", &t), "2020-53 20 01 00 7 0 12 AM");
        // 2024-12-30, a Monday in ISO week 1 of 2025.
        let t = LocalTime::utc(1_735_560_000);
        assert_eq!(f("%G-%V %j %l %P", &t), "2025-01 365 12 pm");
        // Offsets east and west, with the C library's widths.
        let t = LocalTime { utc_offset: 19_800, ..LocalTime::utc(0) };
        assert_eq!(
            f("%z|%-z|%_z|%7z|%3z|%-3z", &t),
            "+0530|+530|+ 530|      +0000530|  +0530|  +530"
        );
        let t = LocalTime { utc_offset: -12_600, ..LocalTime::utc(0) };
        assert_eq!(f("%z|%-z|%_z", &t), "-0330|-330|- 330");
    }

    #[test]
    fn out_of_range_fields_do_not_panic() {
        let t = LocalTime {
            year: i32::MIN,
            month: 200,
            day: 99,
            hour: 250,
            weekday: 9,
            yday: u16::MAX,
            utc_offset: i32::MIN,
            timestamp: i64::MIN,
            ..LocalTime::default()
        };
        let all =
            "%a%A%b%B%c%C%d%D%e%F%g%G%h%H%I%j%k%l%m%M%n%p%P%r%R%s%S%t%T%u%U%V%w%W%x%X%y%Y%z%Z%%";
        let s = f(all, &t);
        assert!(s.contains('?'), "{s}");
        assert_eq!(strftime(b"%99999999999999999999d", &t).len(), MAX_WIDTH);
    }
}
