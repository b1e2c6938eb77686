//! A ratatui backend that sends fewer bytes than crossterm's for the same frames: what a slow
//! SSH link has to carry (see `bench/terminal-bytes.sh`). Like curses, it keeps a copy of
//! what the terminal shows, so it can
//! - reach the next changed cell the cheapest way: rewriting a short run of unchanged cells,
//!   LF and BS (one byte each, as curses does on xterm), CR, or a `CSI` move;
//! - change only the colours and attributes that differ, in one SGR sequence (or a reset and
//!   the new pen, when that is shorter), and keep the pen from one frame to the next;
//! - write a frame's changes in whichever order costs less: as they come (row by row), or
//!   grouped by pen, so twenty rows whose percentage and rate changed take two colour
//!   switches instead of forty;
//! - send a frame in one write, wrapped in a synchronized update only when it is big enough
//!   to arrive in pieces, and hide the cursor only when it is not hidden already.
//!
//! Size and cursor-position queries are crossterm's.

use std::collections::HashSet;
use std::io::{self, Write};

use ratatui::backend::{Backend, ClearType, CrosstermBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};
use ratatui::style::{Color, Modifier};
use unicode_width::UnicodeWidthStr;

/// Colours and attributes the terminal writes with.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Pen {
    fg: Color,
    bg: Color,
    modifier: Modifier,
}

impl Pen {
    /// What `SGR 0` leaves.
    const RESET: Pen = Pen {
        fg: Color::Reset,
        bg: Color::Reset,
        modifier: Modifier::empty(),
    };

    fn of(cell: &Cell) -> Pen {
        Pen {
            fg: cell.fg,
            bg: cell.bg,
            modifier: cell.modifier,
        }
    }
}

/// A cell of the copy that must never be rewritten to step over it: not written since the
/// screen was last cleared, or covered by the right half of a wide character.
const UNKNOWN: &str = "";

/// Longest run of unchanged cells worth rewriting instead of moving over it.
const MAX_REWRITE: u16 = 8;

/// Frames at least this big are wrapped in a synchronized update (`CSI ? 2026 h/l`, ignored
/// by terminals without it) so a slow link never shows half of one. A smaller frame goes out
/// in one write, which an SSH connection carries in one packet, so it cannot arrive in
/// pieces, and the 16 bytes of the wrapping would be most of a one-digit update.
const SYNC_FRAMES_FROM: usize = 1024;

/// Where the terminal's cursor and pen are, when known for sure.
#[derive(Clone, Copy)]
struct Head {
    cursor: Option<Position>,
    pen: Option<Pen>,
}

/// One changed cell of a frame.
type Update<'a> = (u16, u16, &'a Cell);

pub(crate) struct LeanBackend<W: Write> {
    inner: CrosstermBackend<W>,
    /// Fixed size (tests); `None` asks the terminal.
    fixed_size: Option<Size>,
    /// What the terminal shows, row by row, `width` × `height`.
    screen: Vec<(Pen, String)>,
    width: u16,
    height: u16,
    head: Head,
    /// Whether the cursor is hidden, when known for sure.
    cursor_hidden: Option<bool>,
    /// The frame being drawn, written out by `flush`.
    pending: Vec<u8>,
    sync_frames_from: usize,
}

impl<W: Write> LeanBackend<W> {
    pub(crate) fn new(writer: W) -> Self {
        LeanBackend {
            inner: CrosstermBackend::new(writer),
            fixed_size: None,
            screen: Vec::new(),
            width: 0,
            height: 0,
            head: Head {
                cursor: None,
                pen: None,
            },
            cursor_hidden: None,
            pending: Vec::with_capacity(4096),
            sync_frames_from: SYNC_FRAMES_FROM,
        }
    }

    /// A backend for a terminal of a known size.
    #[cfg(test)]
    fn with_size(writer: W, size: Size) -> Self {
        LeanBackend {
            fixed_size: Some(size),
            ..LeanBackend::new(writer)
        }
    }

    /// The same backend never wrapping frames in synchronized updates (to compare its bytes
    /// with crossterm's, which does not either).
    #[cfg(test)]
    fn without_sync(mut self) -> Self {
        self.sync_frames_from = usize::MAX;
        self
    }

    /// Writes bytes that are not part of a frame (an OSC 52 clipboard request) at once, after
    /// whatever frame is pending. They must not move the cursor or change the pen.
    pub(crate) fn passthrough(&mut self, bytes: &[u8]) -> io::Result<()> {
        Backend::flush(self)?;
        self.inner.write_all(bytes)?;
        Backend::flush(&mut self.inner)
    }

    /// Forgets what the terminal shows (after a resize or a clear we did not see).
    fn forget(&mut self, size: Size) {
        self.width = size.width;
        self.height = size.height;
        let cells = usize::from(size.width) * usize::from(size.height);
        self.screen = vec![(Pen::RESET, UNKNOWN.to_string()); cells];
        self.head.cursor = None;
    }

    fn index(&self, x: u16, y: u16) -> usize {
        usize::from(y) * usize::from(self.width) + usize::from(x)
    }

    /// Bytes that move the cursor from `head` to (x, y), the cheapest way that is certain to
    /// work. `changed` holds the cells this frame changes, which must not be rewritten to
    /// step over them (the copy still has their old content).
    fn move_bytes(&self, head: Head, x: u16, y: u16, changed: &HashSet<usize>) -> Vec<u8> {
        let absolute = if x == 0 {
            format!("\x1b[{}H", y + 1)
        } else {
            format!("\x1b[{};{}H", y + 1, x + 1)
        }
        .into_bytes();
        let Some(at) = head.cursor else {
            return absolute;
        };
        if at == (Position { x, y }) {
            return Vec::new();
        }
        // LF only moves down (raw mode turns off output processing, and nothing here sets
        // newline mode) and never scrolls here, since the target row is on the screen.
        let mut relative = vertical(at.y, y);
        relative.extend(self.horizontal(head.pen, at.x, x, y, changed));
        shortest(absolute, relative)
    }

    /// Bytes that move the cursor along row `y` from column `from` to column `to`: BS or
    /// `CSI n D` back, CR and forward again, `CSI n C`, or the cells in between written
    /// again (see [`rewrite`](Self::rewrite)).
    fn horizontal(
        &self,
        pen: Option<Pen>,
        from: u16,
        to: u16,
        y: u16,
        changed: &HashSet<usize>,
    ) -> Vec<u8> {
        match to.cmp(&from) {
            std::cmp::Ordering::Equal => Vec::new(),
            std::cmp::Ordering::Less => {
                let back = from - to;
                let step = if back <= 3 {
                    vec![b'\x08'; usize::from(back)]
                } else {
                    csi(back, b'D')
                };
                let mut from_start = vec![b'\r'];
                from_start.extend(self.horizontal(pen, 0, to, y, changed));
                shortest(step, from_start)
            }
            std::cmp::Ordering::Greater => {
                let step = csi(to - from, b'C');
                let cells = self.index(from, y)..self.index(to, y);
                match self.rewrite(pen, cells, changed) {
                    Some(again) if again.len() <= step.len() => again,
                    _ => step,
                }
            }
        }
    }

    /// The bytes of `cells` (indices on one row), to write them again as a way of moving
    /// over them: only a short run of plain one-column text that this frame does not change,
    /// already written with the pen in use.
    fn rewrite(
        &self,
        pen: Option<Pen>,
        cells: std::ops::Range<usize>,
        changed: &HashSet<usize>,
    ) -> Option<Vec<u8>> {
        if cells.len() > usize::from(MAX_REWRITE) {
            return None;
        }
        let plain = cells.clone().all(|i| {
            let (cell_pen, s) = &self.screen[i];
            !changed.contains(&i)
                && Some(*cell_pen) == pen
                && s.len() == 1
                && (s.as_bytes()[0].is_ascii_graphic() || s == " ")
        });
        plain.then(|| {
            self.screen[cells]
                .iter()
                .flat_map(|(_, s)| s.bytes())
                .collect()
        })
    }

    /// Writes `updates` in the given order from `head`: the bytes, and where the cursor and
    /// pen are afterwards. The copy of the screen is not touched.
    fn encode<'a>(
        &self,
        mut head: Head,
        updates: impl Iterator<Item = &'a Update<'a>>,
        changed: &HashSet<usize>,
    ) -> (Vec<u8>, Head) {
        let mut out = Vec::new();
        for &(x, y, cell) in updates {
            out.extend(self.move_bytes(head, x, y, changed));
            let pen = Pen::of(cell);
            out.extend(sgr(head.pen, pen));
            head.pen = Some(pen);
            let symbol = cell.symbol();
            out.extend_from_slice(symbol.as_bytes());
            // After the last column the cursor waits to wrap; where it is then depends on
            // the terminal, as it does after a character whose width terminals disagree on.
            let width = symbol.width();
            head.cursor = (width == 1 && x + 1 < self.width).then_some(Position { x: x + 1, y });
        }
        (out, head)
    }

    /// Records that the terminal now shows `updates`.
    fn remember(&mut self, updates: &[Update]) {
        for &(x, y, cell) in updates {
            let symbol = cell.symbol();
            let i = self.index(x, y);
            self.screen[i] = (Pen::of(cell), symbol.to_string());
            // The right half of a wide character is not a cell to rewrite.
            for covered in 1..symbol.width().min(usize::from(self.width - x)) {
                self.screen[i + covered].1 = UNKNOWN.to_string();
            }
        }
    }
}

/// Bytes that move the cursor from row `from` to row `to` in its column.
fn vertical(from: u16, to: u16) -> Vec<u8> {
    match to.cmp(&from) {
        std::cmp::Ordering::Equal => Vec::new(),
        std::cmp::Ordering::Greater if to - from <= 3 => vec![b'\n'; usize::from(to - from)],
        std::cmp::Ordering::Greater => csi(to - from, b'B'),
        std::cmp::Ordering::Less => csi(from - to, b'A'),
    }
}

/// `CSI n F` with the count left out when it is 1.
fn csi(n: u16, function: u8) -> Vec<u8> {
    let mut out = if n == 1 {
        b"\x1b[".to_vec()
    } else {
        format!("\x1b[{n}").into_bytes()
    };
    out.push(function);
    out
}

/// One SGR sequence that turns the pen `from` (unknown: `None`) into `to`; empty when
/// nothing differs. Either changes only what differs, or resets and sets `to`, whichever is
/// shorter.
fn sgr(from: Option<Pen>, to: Pen) -> Vec<u8> {
    if from == Some(to) {
        return Vec::new();
    }
    let sequence = |params: Vec<String>| format!("\x1b[{}m", params.join(";")).into_bytes();
    let mut from_reset = vec!["0".to_string()];
    from_reset.extend(pen_params(Pen::RESET, to));
    let from_reset = sequence(from_reset);
    match from {
        Some(from) => shortest(sequence(pen_params(from, to)), from_reset),
        None => from_reset,
    }
}

/// The shorter of two ways to the same end; the first when they are as long.
fn shortest(first: Vec<u8>, second: Vec<u8>) -> Vec<u8> {
    if second.len() < first.len() {
        second
    } else {
        first
    }
}

/// SGR parameters that turn the pen `from` into `to`.
fn pen_params(from: Pen, to: Pen) -> Vec<String> {
    let mut params: Vec<String> = Vec::new();
    let mut now = from.modifier;
    let removed = from.modifier - to.modifier;
    if removed.intersects(Modifier::BOLD | Modifier::DIM) {
        // 22 ends both bold and dim; the one that stays is set again below.
        params.push("22".into());
        now -= Modifier::BOLD | Modifier::DIM;
    }
    for (m, off) in [
        (Modifier::ITALIC, "23"),
        (Modifier::UNDERLINED, "24"),
        (Modifier::SLOW_BLINK | Modifier::RAPID_BLINK, "25"),
        (Modifier::REVERSED, "27"),
        (Modifier::HIDDEN, "28"),
        (Modifier::CROSSED_OUT, "29"),
    ] {
        if removed.intersects(m) {
            params.push(off.into());
            now -= m;
        }
    }
    for (m, on) in [
        (Modifier::BOLD, "1"),
        (Modifier::DIM, "2"),
        (Modifier::ITALIC, "3"),
        (Modifier::UNDERLINED, "4"),
        (Modifier::SLOW_BLINK, "5"),
        (Modifier::RAPID_BLINK, "6"),
        (Modifier::REVERSED, "7"),
        (Modifier::HIDDEN, "8"),
        (Modifier::CROSSED_OUT, "9"),
    ] {
        if to.modifier.contains(m) && !now.contains(m) {
            params.push(on.into());
        }
    }
    if to.fg != from.fg {
        params.push(colour(to.fg, false));
    }
    if to.bg != from.bg {
        params.push(colour(to.bg, true));
    }
    params
}

/// SGR parameters for a colour: the short 30–37/90–97 forms for the 16 named colours.
fn colour(c: Color, background: bool) -> String {
    let base = if background { 10 } else { 0 };
    let named = |n: u8| (n + base).to_string();
    match c {
        Color::Reset => named(39),
        Color::Black => named(30),
        Color::Red => named(31),
        Color::Green => named(32),
        Color::Yellow => named(33),
        Color::Blue => named(34),
        Color::Magenta => named(35),
        Color::Cyan => named(36),
        Color::Gray => named(37),
        Color::DarkGray => named(90),
        Color::LightRed => named(91),
        Color::LightGreen => named(92),
        Color::LightYellow => named(93),
        Color::LightBlue => named(94),
        Color::LightMagenta => named(95),
        Color::LightCyan => named(96),
        Color::White => named(97),
        Color::Indexed(i) => format!("{};5;{i}", if background { 48 } else { 38 }),
        Color::Rgb(r, g, b) => format!("{};2;{r};{g};{b}", if background { 48 } else { 38 }),
    }
}

impl<W: Write> Write for LeanBackend<W> {
    /// Bytes written directly join the frame being drawn, so they keep their place in it.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Backend::flush(self)
    }
}

impl<W: Write> Backend for LeanBackend<W> {
    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        let size = self.size()?;
        if size.width != self.width || size.height != self.height {
            self.forget(size);
        }
        let (width, height) = (self.width, self.height);
        let updates: Vec<Update> = content
            .filter(|&(x, y, _)| x < width && y < height)
            .collect();
        if updates.is_empty() {
            return Ok(());
        }
        let changed: HashSet<usize> = updates.iter().map(|&(x, y, _)| self.index(x, y)).collect();
        let (as_given, after_given) = self.encode(self.head, updates.iter(), &changed);
        // Grouped by pen, in order of first appearance; row by row within a group. The
        // cells are distinct, so any order leaves the same screen.
        let mut pens: Vec<Pen> = Vec::new();
        for (_, _, cell) in &updates {
            if !pens.contains(&Pen::of(cell)) {
                pens.push(Pen::of(cell));
            }
        }
        let (bytes, head) = if pens.len() > 1 {
            // Start with the pen the terminal already has, if any cell uses it.
            if let Some(current) = self
                .head
                .pen
                .and_then(|p| pens.iter().position(|&q| q == p))
            {
                pens[..=current].rotate_right(1);
            }
            let grouped = pens
                .iter()
                .flat_map(|&pen| updates.iter().filter(move |u| Pen::of(u.2) == pen));
            let (by_pen, after_by_pen) = self.encode(self.head, grouped, &changed);
            if by_pen.len() < as_given.len() {
                (by_pen, after_by_pen)
            } else {
                (as_given, after_given)
            }
        } else {
            (as_given, after_given)
        };
        self.pending.extend(bytes);
        self.head = head;
        self.remember(&updates);
        Ok(())
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        if self.cursor_hidden != Some(true) {
            self.pending.extend_from_slice(b"\x1b[?25l");
            self.cursor_hidden = Some(true);
        }
        Ok(())
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        if self.cursor_hidden != Some(false) {
            self.pending.extend_from_slice(b"\x1b[?25h");
            self.cursor_hidden = Some(false);
        }
        Ok(())
    }

    fn get_cursor_position(&mut self) -> io::Result<Position> {
        Backend::flush(self)?;
        self.inner.get_cursor_position()
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        let Position { x, y } = position.into();
        let bytes = self.move_bytes(self.head, x, y, &HashSet::new());
        self.pending.extend(bytes);
        self.head.cursor = Some(Position { x, y });
        Ok(())
    }

    fn clear(&mut self) -> io::Result<()> {
        self.clear_region(ClearType::All)
    }

    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        // Erasing paints with the current background: start from a plain pen.
        self.pending.extend(sgr(self.head.pen, Pen::RESET));
        self.head.pen = Some(Pen::RESET);
        self.pending.extend_from_slice(match clear_type {
            ClearType::All => b"\x1b[2J",
            ClearType::AfterCursor => b"\x1b[J",
            ClearType::BeforeCursor => b"\x1b[1J",
            ClearType::CurrentLine => b"\x1b[2K",
            ClearType::UntilNewLine => b"\x1b[K",
        });
        let size = self.size()?;
        self.forget(size);
        if clear_type == ClearType::All {
            self.screen.fill((Pen::RESET, " ".to_string()));
        }
        Ok(())
    }

    fn size(&self) -> io::Result<Size> {
        match self.fixed_size {
            Some(s) => Ok(s),
            None => self.inner.size(),
        }
    }

    fn window_size(&mut self) -> io::Result<WindowSize> {
        match self.fixed_size {
            Some(s) => Ok(WindowSize {
                columns_rows: s,
                pixels: Size::default(),
            }),
            None => self.inner.window_size(),
        }
    }

    /// Sends the frame drawn since the last flush in one write.
    fn flush(&mut self) -> io::Result<()> {
        if !self.pending.is_empty() {
            let frame = std::mem::take(&mut self.pending);
            let wrap = frame.len() >= self.sync_frames_from;
            let mut out = Vec::with_capacity(frame.len() + 16);
            if wrap {
                out.extend_from_slice(b"\x1b[?2026h");
            }
            out.extend_from_slice(&frame);
            if wrap {
                out.extend_from_slice(b"\x1b[?2026l");
            }
            // Keep the buffer's capacity for the next frame.
            self.pending = frame;
            self.pending.clear();
            self.inner.write_all(&out)?;
        }
        Backend::flush(&mut self.inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use ratatui::Terminal;
    use ratatui::style::Style;
    use ratatui::text::Span;

    const W: u16 = 30;

    /// A writer whose bytes the test can read after the terminal has taken it.
    #[derive(Clone, Default)]
    struct Shared(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    const H: u16 = 8;

    /// A piece of text to put somewhere on a frame.
    #[derive(Debug, Clone)]
    struct Put {
        x: u16,
        y: u16,
        text: String,
        style: Style,
    }

    fn colour_strategy() -> impl Strategy<Value = Color> {
        prop_oneof![
            Just(Color::Reset),
            Just(Color::Red),
            Just(Color::DarkGray),
            Just(Color::White),
            (0u8..=255).prop_map(Color::Indexed),
            (any::<u8>(), any::<u8>(), any::<u8>()).prop_map(|(r, g, b)| Color::Rgb(r, g, b)),
        ]
    }

    fn put_strategy() -> impl Strategy<Value = Put> {
        let text = prop_oneof![
            "[a-z ]{1,12}",
            "[0-9.]{1,6}",
            Just("⣿⡇⢸".to_string()),
            Just("日本語".to_string()),
            Just("🎬x".to_string()),
            Just("████░░".to_string()),
        ];
        let modifier = (0u16..(1 << 9)).prop_map(|bits| {
            Modifier::from_bits_truncate(bits)
                & (Modifier::BOLD
                    | Modifier::DIM
                    | Modifier::ITALIC
                    | Modifier::UNDERLINED
                    | Modifier::REVERSED)
        });
        (
            0..W,
            0..H,
            text,
            colour_strategy(),
            colour_strategy(),
            modifier,
        )
            .prop_map(|(x, y, text, fg, bg, m)| Put {
                x,
                y,
                text,
                style: Style::default().fg(fg).bg(bg).add_modifier(m),
            })
    }

    fn vt_colour(c: Color) -> vt100::Color {
        match c {
            Color::Reset => vt100::Color::Default,
            Color::Black => vt100::Color::Idx(0),
            Color::Red => vt100::Color::Idx(1),
            Color::Green => vt100::Color::Idx(2),
            Color::Yellow => vt100::Color::Idx(3),
            Color::Blue => vt100::Color::Idx(4),
            Color::Magenta => vt100::Color::Idx(5),
            Color::Cyan => vt100::Color::Idx(6),
            Color::Gray => vt100::Color::Idx(7),
            Color::DarkGray => vt100::Color::Idx(8),
            Color::LightRed => vt100::Color::Idx(9),
            Color::LightGreen => vt100::Color::Idx(10),
            Color::LightYellow => vt100::Color::Idx(11),
            Color::LightBlue => vt100::Color::Idx(12),
            Color::LightMagenta => vt100::Color::Idx(13),
            Color::LightCyan => vt100::Color::Idx(14),
            Color::White => vt100::Color::Idx(15),
            Color::Indexed(i) => vt100::Color::Idx(i),
            Color::Rgb(r, g, b) => vt100::Color::Rgb(r, g, b),
        }
    }

    /// Draws `frames` on a fixed W×H viewport; returns the bytes written and the last frame.
    fn render<B: Backend>(backend: B, frames: &[Vec<Put>]) -> ratatui::buffer::Buffer {
        let viewport = ratatui::Viewport::Fixed(ratatui::layout::Rect::new(0, 0, W, H));
        let mut term =
            Terminal::with_options(backend, ratatui::TerminalOptions { viewport }).unwrap();
        let mut last = ratatui::buffer::Buffer::empty(ratatui::layout::Rect::new(0, 0, W, H));
        for frame in frames {
            let done = term
                .draw(|f| {
                    let buf = f.buffer_mut();
                    // One piece per row: overlapping wide characters within one frame make
                    // a buffer no terminal can show (crossterm's backend "fails" too).
                    let mut rows = std::collections::HashSet::new();
                    for p in frame.iter().filter(|p| rows.insert(p.y)) {
                        buf.set_span(p.x, p.y, &Span::styled(p.text.clone(), p.style), W - p.x);
                    }
                })
                .unwrap();
            last = done.buffer.clone();
        }
        last
    }

    /// Checks that an emulated terminal fed `bytes` shows `expected`, cell by cell.
    fn assert_screen_matches(bytes: &[u8], expected: &ratatui::buffer::Buffer) {
        let mut vt = vt100::Parser::new(H, W, 0);
        vt.process(bytes);
        let screen = vt.screen();
        let mut skip = 0;
        for y in 0..H {
            for x in 0..W {
                let want = &expected[(x, y)];
                if skip > 0 {
                    skip -= 1;
                    continue;
                }
                let got = screen.cell(y, x).unwrap();
                let what = format!("cell ({x},{y}) want {want:?} got {got:?}");
                // The emulator keeps a never-written cell empty; the screen shows a blank.
                let shown = if got.has_contents() {
                    got.contents()
                } else {
                    " ".into()
                };
                assert_eq!(shown, want.symbol(), "{what}");
                assert_eq!(got.fgcolor(), vt_colour(want.fg), "{what}");
                assert_eq!(got.bgcolor(), vt_colour(want.bg), "{what}");
                assert_eq!(got.bold(), want.modifier.contains(Modifier::BOLD), "{what}");
                assert_eq!(
                    got.italic(),
                    want.modifier.contains(Modifier::ITALIC),
                    "{what}"
                );
                assert_eq!(
                    got.underline(),
                    want.modifier.contains(Modifier::UNDERLINED),
                    "{what}"
                );
                assert_eq!(
                    got.inverse(),
                    want.modifier.contains(Modifier::REVERSED),
                    "{what}"
                );
                skip = want.symbol().width().saturating_sub(1);
            }
        }
    }

    /// A table of H rows like the dashboard's: a plain percentage and a green rate per row.
    fn table_frame(percent: u32, rate: u32) -> Vec<Put> {
        (0..H)
            .flat_map(|y| {
                [
                    Put {
                        x: 2,
                        y,
                        text: format!("row {y} {percent:>3}%"),
                        style: Style::default(),
                    },
                    Put {
                        x: 16,
                        y,
                        text: format!("{rate} KiB"),
                        style: Style::default().fg(Color::Indexed(114)),
                    },
                ]
            })
            .collect()
    }

    /// Draws `frames` and returns the bytes each one sent, and the last frame.
    fn bytes_per_frame(
        backend: LeanBackend<Shared>,
        out: &Shared,
        frames: &[Vec<Put>],
    ) -> (Vec<Vec<u8>>, ratatui::buffer::Buffer) {
        let viewport = ratatui::Viewport::Fixed(ratatui::layout::Rect::new(0, 0, W, H));
        let mut term =
            Terminal::with_options(backend, ratatui::TerminalOptions { viewport }).unwrap();
        let mut sent = Vec::new();
        let mut last = None;
        for frame in frames {
            let before = out.0.borrow().len();
            let done = term
                .draw(|f| {
                    for p in frame {
                        let span = Span::styled(p.text.clone(), p.style);
                        f.buffer_mut().set_span(p.x, p.y, &span, W - p.x);
                    }
                })
                .unwrap();
            last = Some(done.buffer.clone());
            sent.push(out.0.borrow()[before..].to_vec());
        }
        (sent, last.unwrap())
    }

    fn sgr_count(bytes: &[u8]) -> usize {
        let text = String::from_utf8_lossy(bytes);
        text.split("\x1b[")
            .skip(1)
            .filter(|seq| {
                let end = seq
                    .find(|c: char| c.is_ascii_alphabetic())
                    .unwrap_or(seq.len());
                seq[end..].starts_with('m')
            })
            .count()
    }

    #[test]
    fn changes_down_two_columns_in_two_colours_take_one_colour_switch_and_one_byte_moves() {
        let out = Shared::default();
        let backend = LeanBackend::with_size(out.clone(), Size::new(W, H));
        let (sent, last) =
            bytes_per_frame(backend, &out, &[table_frame(10, 128), table_frame(11, 125)]);
        let update = &sent[1];
        // Every row changes a digit of its percentage and one of its rate. Grouped by pen,
        // the frame starts with the green the terminal still has from the last frame and
        // switches colour once, instead of twice per row.
        assert_eq!(
            sgr_count(update),
            1,
            "{:?}",
            String::from_utf8_lossy(update)
        );
        // Down a column is LF and BS, two bytes a row instead of CR LF CSI n C (seven): in
        // all, a digit and two bytes of moving per changed cell, one jump to each column and
        // one colour switch.
        let changed_cells = 2 * usize::from(H);
        assert!(
            update.len() <= changed_cells * (1 + 2) + 2 * "\x1b[1;11H".len() + "\x1b[39m".len(),
            "{} bytes: {:?}",
            update.len(),
            String::from_utf8_lossy(update)
        );
        assert_screen_matches(&sent.concat(), &last);
    }

    #[test]
    fn the_cursor_is_hidden_once_and_small_frames_are_not_wrapped() {
        let out = Shared::default();
        let backend = LeanBackend::with_size(out.clone(), Size::new(W, H));
        let (sent, _) = bytes_per_frame(
            backend,
            &out,
            &[
                table_frame(10, 128),
                table_frame(11, 125),
                table_frame(11, 125),
            ],
        );
        let hide = b"\x1b[?25l".as_slice();
        assert!(sent[0].windows(hide.len()).any(|w| w == hide));
        assert!(!sent[1].windows(hide.len()).any(|w| w == hide));
        assert!(
            sent[2].is_empty(),
            "an unchanged frame sends nothing: {:?}",
            sent[2]
        );
        for frame in &sent {
            assert!(
                !frame.starts_with(b"\x1b[?2026h"),
                "{} bytes wrapped",
                frame.len()
            );
        }
    }

    #[test]
    fn frames_of_a_kilobyte_or_more_are_wrapped_in_a_synchronized_update() {
        let out = Shared::default();
        let backend = LeanBackend::with_size(out.clone(), Size::new(W, H));
        // Every cell in its own colour: far more than 1 KiB.
        let rainbow: Vec<Put> = (0..H)
            .flat_map(|y| {
                (0..W).map(move |x| Put {
                    x,
                    y,
                    text: "#".into(),
                    style: Style::default().fg(Color::Indexed((x * 7 + y) as u8)),
                })
            })
            .collect();
        let (sent, last) = bytes_per_frame(backend, &out, &[rainbow]);
        let frame = &sent[0];
        assert!(frame.len() > SYNC_FRAMES_FROM);
        assert!(frame.starts_with(b"\x1b[?2026h") && frame.ends_with(b"\x1b[?2026l"));
        assert_screen_matches(frame, &last);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        /// Whatever sequence of frames is drawn, a terminal fed the backend's bytes shows
        /// exactly the last frame, and crossterm's own backend would have sent at least as
        /// many bytes.
        #[test]
        fn terminal_shows_every_frame_exactly_with_fewer_bytes(
            frames in prop::collection::vec(prop::collection::vec(put_strategy(), 0..12), 1..6)
        ) {
            let lean = Shared::default();
            let last = render(LeanBackend::with_size(lean.clone(), Size::new(W, H)).without_sync(), &frames);
            assert_screen_matches(&lean.0.borrow(), &last);
            let plain = Shared::default();
            render(CrosstermBackend::new(plain.clone()), &frames);
            let (lean, plain) = (lean.0.borrow().len(), plain.0.borrow().len());
            prop_assert!(lean <= plain, "lean {lean} bytes, crossterm {plain}");
        }
    }
}
