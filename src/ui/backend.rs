//! A ratatui backend that sends fewer bytes than crossterm's for the same frames: what a slow
//! SSH link has to carry (see `bench/terminal-bytes.sh`). Like curses, it keeps a copy of
//! what the terminal shows, so it can
//! - step over a short run of unchanged cells by writing them again when that is shorter
//!   than a cursor move, and otherwise use the shortest move (`CSI n C`, CR LF, `CSI r;c H`);
//! - change only the colours and attributes that differ, in one SGR sequence, and keep the
//!   pen from one frame to the next instead of resetting it after each.
//!
//! Everything else (cursor visibility, clearing, size) is crossterm's.

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

pub struct LeanBackend<W: Write> {
    inner: CrosstermBackend<W>,
    /// Fixed size (tests); `None` asks the terminal.
    fixed_size: Option<Size>,
    /// What the terminal shows, row by row, `width` × `height`.
    screen: Vec<(Pen, String)>,
    width: u16,
    height: u16,
    /// Where the terminal's cursor is, when known for sure.
    cursor: Option<Position>,
    /// The terminal's pen, when known for sure.
    pen: Option<Pen>,
}

impl<W: Write> LeanBackend<W> {
    pub fn new(writer: W) -> Self {
        LeanBackend {
            inner: CrosstermBackend::new(writer),
            fixed_size: None,
            screen: Vec::new(),
            width: 0,
            height: 0,
            cursor: None,
            pen: None,
        }
    }

    /// A backend for a terminal of a known size (tests and benchmarks).
    pub fn with_size(writer: W, size: Size) -> Self {
        LeanBackend {
            fixed_size: Some(size),
            ..LeanBackend::new(writer)
        }
    }

    /// Forgets what the terminal shows (after a resize or a clear we did not see).
    fn forget(&mut self, size: Size) {
        self.width = size.width;
        self.height = size.height;
        let cells = usize::from(size.width) * usize::from(size.height);
        self.screen = vec![(Pen::RESET, UNKNOWN.to_string()); cells];
        self.cursor = None;
    }

    fn index(&self, x: u16, y: u16) -> usize {
        usize::from(y) * usize::from(self.width) + usize::from(x)
    }

    /// Bytes that put the cursor at (x, y), the cheapest way that is certain to work.
    fn move_to(&mut self, out: &mut Vec<u8>, x: u16, y: u16) {
        let absolute = if x == 0 {
            format!("\x1b[{}H", y + 1)
        } else {
            format!("\x1b[{};{}H", y + 1, x + 1)
        };
        let Some(at) = self.cursor else {
            out.extend_from_slice(absolute.as_bytes());
            return;
        };
        if at == (Position { x, y }) {
            return;
        }
        let forward = |n: u16| {
            if n == 1 {
                "\x1b[C".to_string()
            } else {
                format!("\x1b[{n}C")
            }
        };
        if at.y == y && x > at.x {
            let gap = x - at.x;
            let step = forward(gap);
            if gap <= MAX_REWRITE && usize::from(gap) <= step.len() {
                let from = self.index(at.x, y);
                let run = &self.screen[from..from + usize::from(gap)];
                // Only plain one-column text already written with the current pen.
                let plain = run.iter().all(|(pen, s)| {
                    Some(*pen) == self.pen
                        && s.len() == 1
                        && s.as_bytes()[0].is_ascii_graphic() | (s == " ")
                });
                if plain {
                    for (_, s) in run {
                        out.extend_from_slice(s.as_bytes());
                    }
                    return;
                }
            }
            out.extend_from_slice(step.as_bytes());
            return;
        }
        if y == at.y + 1 {
            // LF only moves down (raw mode turns off output processing) and never scrolls
            // here, since the target row is on the screen.
            let mut next_line = "\r\n".to_string();
            if x > 0 {
                next_line.push_str(&forward(x));
            }
            if next_line.len() < absolute.len() {
                out.extend_from_slice(next_line.as_bytes());
                return;
            }
        }
        out.extend_from_slice(absolute.as_bytes());
    }

    /// One SGR sequence that turns the terminal's pen into `to`, if anything differs.
    fn set_pen(&mut self, out: &mut Vec<u8>, to: Pen) {
        let mut params: Vec<String> = Vec::new();
        let from = match self.pen {
            Some(p) => p,
            None => {
                params.push("0".into());
                Pen::RESET
            }
        };
        if from == to && params.is_empty() {
            return;
        }
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
        if !params.is_empty() {
            out.extend_from_slice(format!("\x1b[{}m", params.join(";")).as_bytes());
        }
        self.pen = Some(to);
    }
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
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Write::flush(&mut self.inner)
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
        let mut out = Vec::with_capacity(4096);
        for (x, y, cell) in content {
            if x >= self.width || y >= self.height {
                continue;
            }
            self.move_to(&mut out, x, y);
            self.set_pen(&mut out, Pen::of(cell));
            let symbol = cell.symbol();
            out.extend_from_slice(symbol.as_bytes());
            let width = symbol.width();
            let i = self.index(x, y);
            self.screen[i] = (Pen::of(cell), symbol.to_string());
            // The right half of a wide character is not a cell to rewrite.
            for covered in 1..width.min(usize::from(self.width - x)) {
                self.screen[i + covered].1 = UNKNOWN.to_string();
            }
            // After the last column the cursor waits to wrap; where it is then depends on
            // the terminal, as it does after a character whose width terminals disagree on.
            self.cursor = (width == 1 && x + 1 < self.width).then_some(Position { x: x + 1, y });
        }
        self.inner.write_all(&out)
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        self.inner.hide_cursor()
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        self.inner.show_cursor()
    }

    fn get_cursor_position(&mut self) -> io::Result<Position> {
        self.inner.get_cursor_position()
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        let position = position.into();
        self.inner.set_cursor_position(position)?;
        self.cursor = Some(position);
        Ok(())
    }

    fn clear(&mut self) -> io::Result<()> {
        self.clear_region(ClearType::All)
    }

    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        // Erasing paints with the current background: start from a plain pen.
        self.inner.write_all(b"\x1b[0m")?;
        self.pen = Some(Pen::RESET);
        self.inner.clear_region(clear_type)?;
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

    fn flush(&mut self) -> io::Result<()> {
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
            let last = render(LeanBackend::with_size(lean.clone(), Size::new(W, H)), &frames);
            assert_screen_matches(&lean.0.borrow(), &last);
            let plain = Shared::default();
            render(CrosstermBackend::new(plain.clone()), &frames);
            let (lean, plain) = (lean.0.borrow().len(), plain.0.borrow().len());
            prop_assert!(lean <= plain, "lean {lean} bytes, crossterm {plain}");
        }
    }
}
