//! Turning engine numbers and user text into short, terminal-safe strings (and back: the
//! rate parser of the limits dialog).

use std::time::Duration;

use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

/// Bytes with three significant digits at most: `0 B`, `512 B`, `1.23 GiB`, `12.3 MiB`,
/// `123 KiB`. Never wider than 8 columns.
pub(crate) fn bytes(n: u64) -> String {
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    // Round first so that 1023.9 KiB does not print as "1024 KiB".
    let (text, value) = if value < 9.995 {
        (format!("{value:.2}"), value)
    } else if value < 99.95 {
        (format!("{value:.1}"), value)
    } else {
        (format!("{value:.0}"), value)
    };
    if value >= 1023.5 && unit < UNITS.len() - 1 {
        return format!("1.00 {}", UNITS[unit + 1]);
    }
    format!("{text} {}", UNITS[unit])
}

/// A rate in bytes per second, `-` when nothing moves.
pub(crate) fn rate(bps: f64) -> String {
    if bps.is_nan() || bps < 0.5 {
        return "-".to_string();
    }
    format!("{}/s", bytes(bps.round() as u64))
}

/// A rate for a table cell whose heading already says "per second": `1.23 MiB`, `-` idle.
pub(crate) fn bytes_rate_short(bps: f64) -> String {
    if bps.is_nan() || bps < 0.5 {
        return "-".to_string();
    }
    bytes(bps.round() as u64)
}

/// A rate limit: `∞` when there is none.
pub(crate) fn limit(bps: Option<u64>) -> String {
    match bps {
        None | Some(0) => "∞".to_string(),
        Some(b) => format!("{}/s", bytes(b)),
    }
}

/// A time left, at most 6 columns: `42s`, `12m`, `3h07m`, `2d03h`, `∞` past 99 days.
pub(crate) fn eta(d: Option<Duration>) -> String {
    let Some(d) = d else {
        return "-".to_string();
    };
    let s = d.as_secs();
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        // Whole minutes: seconds past the first minute are noise that rewrites the cell
        // every second (what rtorrent and Transmission show too).
        format!("{}m", s / 60)
    } else if s < 86_400 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else if s < 100 * 86_400 {
        format!("{}d{:02}h", s / 86_400, (s % 86_400) / 3600)
    } else {
        "∞".to_string()
    }
}

/// A share ratio, at most 5 columns.
pub(crate) fn ratio(r: f64) -> String {
    if !r.is_finite() || r < 0.0 {
        "-".to_string()
    } else if r < 100.0 {
        format!("{r:.2}")
    } else if r < 99_999.0 {
        format!("{r:.0}")
    } else {
        "∞".to_string()
    }
}

/// Whole percent, rounded down so that 99.9 % never reads as done.
pub(crate) fn percent(progress: f64) -> String {
    let p = if progress.is_finite() {
        (progress.clamp(0.0, 1.0) * 100.0).floor()
    } else {
        0.0
    };
    format!("{p:.0}%")
}

/// A Unix time as local wall-clock time, `-` when unknown.
pub(crate) fn timestamp(unix: i64) -> String {
    use chrono::TimeZone;
    match chrono::Local.timestamp_opt(unix, 0) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) if unix > 0 => {
            t.format("%Y-%m-%d %H:%M").to_string()
        }
        _ => "-".to_string(),
    }
}

/// Makes text from the network safe to draw: control characters (which would move the
/// cursor or ring the bell) and bidi overrides (which would reorder the rest of the row)
/// become `�`; tabs and newlines become spaces.
pub(crate) fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => ' ',
            c if c.is_control() => '\u{FFFD}',
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' => {
                '\u{FFFD}'
            }
            c => c,
        })
        .collect()
}

/// One line per file of a torrent whose data changed behind trove's back: "missing: PATH"
/// or "size changed: PATH (FOUND of EXPECTED)", names made safe to print.
pub(crate) fn missing_files(
    m: &trove_proto::library::MissingData,
) -> impl Iterator<Item = String> + '_ {
    m.missing
        .iter()
        .map(|f| format!("missing: {}", sanitize(f)))
        .chain(m.size_changed.iter().map(|c| {
            format!(
                "size changed: {} ({} of {})",
                sanitize(&c.path),
                bytes(c.found),
                bytes(c.expected)
            )
        }))
}

/// The OSC 52 request that puts `text` on the terminal's clipboard ("c"), ended by ST.
pub(crate) fn osc52(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(text);
    format!("\x1b]52;c;{encoded}\x1b\\").into_bytes()
}

/// `1 torrent`, `2 torrents`: the count and the noun, singular for one.
pub(crate) fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `text` cut into pieces of at most `width` columns, at spaces where it can (a word longer
/// than a line is cut inside). Never empty: an empty text is one empty line.
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut line_w = 0;
    for word in text.split(' ') {
        let word_w = self::width(word);
        let sep = usize::from(!line.is_empty());
        if line_w + sep + word_w <= width {
            if sep == 1 {
                line.push(' ');
            }
            line.push_str(word);
            line_w += sep + word_w;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
            line_w = 0;
        }
        // A word wider than a line: cut it by graphemes.
        for g in word.graphemes(true) {
            let gw = self::width(g);
            if line_w + gw > width && !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                line_w = 0;
            }
            line.push_str(g);
            line_w += gw;
        }
    }
    lines.push(line);
    lines
}

/// Display width in terminal columns.
pub(crate) fn width(text: &str) -> usize {
    text.width()
}

/// Cuts `text` to at most `max` columns, ending with `…` when something was cut. Works on
/// grapheme clusters so that an emoji or a combining accent is never split.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    if text.width() <= max {
        return text.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for g in text.graphemes(true) {
        let w = g.width();
        if used + w > max - 1 {
            break;
        }
        out.push_str(g);
        used += w;
    }
    out.push('…');
    out
}

/// Keeps the end of `text` within `max` columns, starting with `…` when something was cut
/// (for paths, whose end says the most).
pub(crate) fn truncate_start(text: &str, max: usize) -> String {
    if text.width() <= max {
        return text.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut kept: Vec<&str> = Vec::new();
    let mut used = 0;
    for g in text.graphemes(true).rev() {
        let w = g.width();
        if used + w > max - 1 {
            break;
        }
        kept.push(g);
        used += w;
    }
    kept.reverse();
    format!("…{}", kept.concat())
}

/// Pads with spaces (or truncates) to exactly `cols` columns.
pub(crate) fn fit(text: &str, cols: usize) -> String {
    let t = truncate(text, cols);
    let pad = cols.saturating_sub(t.width());
    format!("{t}{}", " ".repeat(pad))
}

/// Reads a rate typed in the limits dialog: `500KiB`, `2MiB`, `1.5 MB/s`, `300k`, `0`.
/// `k`/`KB` are 1000, `KiB` 1024.
/// `Ok(None)` means unlimited (empty, `0`, `unlimited`, `none`, `∞`); plain numbers are
/// bytes per second.
pub(crate) fn parse_rate(text: &str) -> Result<Option<u64>, String> {
    let t = text.trim();
    let lower = t.to_ascii_lowercase();
    if t.is_empty() || t == "∞" || lower == "unlimited" || lower == "none" || lower == "-" {
        return Ok(None);
    }
    let body = lower.strip_suffix("/s").unwrap_or(&lower).trim();
    // Decimal by default as SI says (`MB` = 10^6), binary where asked (`MiB` = 2^20).
    match parse_size::parse_size(body) {
        Ok(0) => Ok(None),
        Ok(n) => Ok(Some(n)),
        Err(_) => Err(format!(
            "'{t}' is not a rate: try 500KiB, 2MiB, 1.5MB or 0 for unlimited"
        )),
    }
}

/// Reads a peer limit: a whole number, `0`/empty meaning none.
pub(crate) fn parse_peers(text: &str) -> Result<Option<u32>, String> {
    let t = text.trim();
    let lower = t.to_ascii_lowercase();
    if t.is_empty() || t == "∞" || lower == "unlimited" || lower == "none" || lower == "-" {
        return Ok(None);
    }
    match t.parse::<u32>() {
        Ok(0) => Ok(None),
        Ok(n) => Ok(Some(n)),
        Err(_) => Err(format!(
            "'{t}' is not a peer count: type a whole number, or 0 for no limit"
        )),
    }
}

/// A rate limit as typed units mean it: `1.95 KiB/s` for a binary amount, `50 kB/s (48.8
/// KiB/s)` for a decimal one, so `50k` does not seem to turn into 48.8.
pub(crate) fn rate_both(bps: u64) -> String {
    let binary = format!("{}/s", bytes(bps));
    if bps < 1000 || bps.is_multiple_of(1024) {
        return binary;
    }
    let (unit, div) = [("GB", 1e9), ("MB", 1e6), ("kB", 1e3)]
        .into_iter()
        .find(|(_, d)| bps as f64 >= *d)
        .unwrap_or(("kB", 1e3));
    let value = (bps as f64 / div * 1000.0).round() / 1000.0;
    format!("{value} {unit}/s ({binary})")
}

/// How a limit reads back in an input field: empty when unlimited.
pub(crate) fn rate_input(bps: Option<u64>) -> String {
    match bps {
        None | Some(0) => String::new(),
        Some(b) if b % (1024 * 1024) == 0 => format!("{}MiB", b / (1024 * 1024)),
        Some(b) if b % 1024 == 0 => format!("{}KiB", b / 1024),
        Some(b) => b.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_stay_short() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1024), "1.00 KiB");
        assert_eq!(bytes(1536), "1.50 KiB");
        assert_eq!(bytes(12 * 1024 * 1024 + 300_000), "12.3 MiB");
        assert_eq!(bytes(123 * 1024 * 1024 * 1024), "123 GiB");
        assert_eq!(bytes(1024 * 1024 - 1), "1.00 MiB");
        assert_eq!(bytes(u64::MAX), "16.0 EiB");
        for n in [0, 1, 999, 1023, 1024, 10_234, 1_048_575, 1 << 40, u64::MAX] {
            assert!(width(&bytes(n)) <= 8, "{n} -> {}", bytes(n));
        }
    }

    #[test]
    fn rates_and_limits() {
        assert_eq!(rate(0.0), "-");
        assert_eq!(rate(f64::NAN), "-");
        assert_eq!(rate(2048.0), "2.00 KiB/s");
        assert_eq!(limit(None), "∞");
        assert_eq!(limit(Some(2 * 1024 * 1024)), "2.00 MiB/s");
    }

    #[test]
    fn eta_is_compact() {
        assert_eq!(eta(None), "-");
        assert_eq!(eta(Some(Duration::from_secs(42))), "42s");
        assert_eq!(eta(Some(Duration::from_secs(725))), "12m");
        assert_eq!(eta(Some(Duration::from_secs(3 * 3600 + 420))), "3h07m");
        assert_eq!(
            eta(Some(Duration::from_secs(2 * 86_400 + 3 * 3600))),
            "2d03h"
        );
        assert_eq!(eta(Some(Duration::from_secs(u64::MAX))), "∞");
    }

    #[test]
    fn percent_never_claims_done_early() {
        assert_eq!(percent(0.9999), "99%");
        assert_eq!(percent(1.0), "100%");
        assert_eq!(percent(f64::NAN), "0%");
        assert_eq!(percent(7.0), "100%");
    }

    #[test]
    fn sanitize_removes_control_and_bidi() {
        assert_eq!(sanitize("a\x1b[2Jb"), "a\u{FFFD}[2Jb");
        assert_eq!(sanitize("x\ty\nz"), "x y z");
        assert_eq!(sanitize("\u{202E}evil"), "\u{FFFD}evil");
        assert_eq!(sanitize("Ünïcödé 🎬 שלום"), "Ünïcödé 🎬 שלום");
    }

    #[test]
    fn truncate_respects_wide_chars() {
        assert_eq!(truncate("hello", 5), "hello");
        assert_eq!(truncate("hello world", 6), "hello…");
        assert_eq!(truncate("日本語のファイル", 6), "日本…");
        assert!(width(&truncate("日本語のファイル", 6)) <= 6);
        assert_eq!(truncate("👨‍👩‍👧 family", 4), "👨‍👩‍👧 …");
        assert_eq!(truncate("abc", 0), "");
        assert_eq!(truncate_start("/very/long/path/file", 8), "…th/file");
        assert_eq!(fit("ab", 4), "ab  ");
    }

    #[test]
    fn wrap_at_spaces_and_inside_long_words() {
        assert_eq!(wrap("", 10), vec![""]);
        assert_eq!(
            wrap("file index 5 does not exist", 12),
            vec!["file index 5", "does not", "exist"]
        );
        assert_eq!(
            wrap("/srv/torrents/payload", 8),
            vec!["/srv/tor", "rents/pa", "yload"]
        );
        assert_eq!(
            wrap("日本語のファイル", 5),
            vec!["日本", "語の", "ファ", "イル"]
        );
        for line in wrap("a bb ccc dddd eeeee ffffff", 4) {
            assert!(width(&line) <= 4, "{line}");
        }
    }

    #[test]
    fn counts_and_clipboard() {
        assert_eq!(count(1, "torrent"), "1 torrent");
        assert_eq!(count(0, "peer"), "0 peers");
        assert_eq!(count(3, "file"), "3 files");
        assert_eq!(osc52("hi"), b"\x1b]52;c;aGk=\x1b\\".to_vec());
    }

    #[test]
    fn rate_parser() {
        assert_eq!(parse_rate("500KiB"), Ok(Some(500 * 1024)));
        assert_eq!(parse_rate("2MiB"), Ok(Some(2 * 1024 * 1024)));
        assert_eq!(parse_rate("2 MiB/s"), Ok(Some(2 * 1024 * 1024)));
        assert_eq!(parse_rate("1.5MB"), Ok(Some(1_500_000)));
        assert_eq!(parse_rate("300k"), Ok(Some(300_000)));
        assert_eq!(parse_rate("4096"), Ok(Some(4096)));
        assert_eq!(parse_rate("0"), Ok(None));
        assert_eq!(parse_rate(""), Ok(None));
        assert_eq!(parse_rate("unlimited"), Ok(None));
        assert!(parse_rate("fast").unwrap_err().contains("'fast'"));
        assert!(parse_rate("-5k").is_err());
        assert_eq!(parse_peers("50"), Ok(Some(50)));
        assert_eq!(parse_peers("0"), Ok(None));
        assert!(parse_peers("many").is_err());
        assert_eq!(rate_input(Some(2 * 1024 * 1024)), "2MiB");
        assert_eq!(rate_input(Some(500 * 1024)), "500KiB");
        assert_eq!(rate_input(None), "");
        assert_eq!(rate_both(50_000), "50 kB/s (48.8 KiB/s)");
        assert_eq!(rate_both(1_500_000), "1.5 MB/s (1.43 MiB/s)");
        assert_eq!(rate_both(500 * 1024), "500 KiB/s");
        assert_eq!(parse_rate("50KB"), Ok(Some(50_000)));
        assert_eq!(parse_rate("50KiB"), Ok(Some(51_200)));
        assert_eq!(parse_rate("50kb"), Ok(Some(50_000)));
        // What the field shows parses back to the same limit.
        for v in [1, 1000, 1024, 5 * 1024 * 1024, 123_456] {
            assert_eq!(parse_rate(&rate_input(Some(v))), Ok(Some(v)));
        }
    }
}
