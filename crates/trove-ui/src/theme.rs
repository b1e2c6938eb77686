//! Themes: what each part of the screen means (selected row, download rate, error...) mapped
//! to a style, read from the TOML files in `themes/`.
//!
//! The built-in themes are embedded in the binary. A user theme may name a built-in in
//! `inherits` (default: `default`) and set only the slots it changes. Unknown keys and bad
//! colours are errors that name the file and the field, so a typo never silently resets a
//! colour.

use std::path::Path;
use std::str::FromStr;

use anyhow::{Context, anyhow, bail};
use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::{Block, BorderType, Borders};
use serde::Deserialize;

use trove_proto::log::LogLevel;
use trove_proto::snapshot::TorrentState;

/// The built-in themes, in the order `--theme` help lists them.
pub const BUILTIN: [(&str, &str); 7] = [
    ("default", include_str!("../../../themes/default.toml")),
    ("light", include_str!("../../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../../themes/high-contrast.toml"),
    ),
    ("gruvbox", include_str!("../../../themes/gruvbox.toml")),
    (
        "solarized-dark",
        include_str!("../../../themes/solarized-dark.toml"),
    ),
    ("mono", include_str!("../../../themes/mono.toml")),
    ("basic", include_str!("../../../themes/basic.toml")),
];

macro_rules! slots {
    ($($(#[doc = $doc:literal])* $slot:ident),* $(,)?) => {
        /// Every style the dashboard draws with, by meaning.
        #[derive(Debug, Clone, PartialEq)]
        pub struct Theme {
            pub name: String,
            $($(#[doc = $doc])* pub $slot: Style,)*
        }

        /// A theme file's `[styles]` table: every slot optional.
        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct StylesFile {
            $($slot: Option<StyleSpec>,)*
        }

        impl StylesFile {
            #[cfg(test)]
            fn slots(&self) -> Vec<(&'static str, Option<&StyleSpec>)> {
                vec![$((stringify!($slot), self.$slot.as_ref()),)*]
            }
        }

        impl Theme {
            /// The names of all slots, as written in theme files.
            #[cfg(test)]
            const SLOTS: &'static [&'static str] = &[$(stringify!($slot),)*];

            fn overlay(mut self, name: String, file: &StylesFile, origin: &str) -> anyhow::Result<Theme> {
                self.name = name;
                $(if let Some(spec) = &file.$slot {
                    self.$slot = spec
                        .to_style()
                        .map_err(|e| anyhow!("theme {origin}: field `styles.{}.{e}", stringify!($slot)))?;
                })*
                Ok(self)
            }

            /// A theme with every slot unstyled (the base the files are laid over).
            fn blank() -> Theme {
                Theme { name: String::new(), $($slot: Style::new(),)* }
            }
        }
    };
}

slots! {
    /// Applied to the whole screen first (fg/bg of a theme that brings its own background).
    screen,
    /// Ordinary text.
    text,
    /// Secondary text: units, hints, empty cells.
    dim,
    /// The session line at the top.
    header,
    /// Block titles.
    title,
    border,
    border_focused,
    /// The selected row of the focused pane.
    selected,
    /// The selected row of a pane without focus.
    selected_inactive,
    /// Column headings of tables.
    table_header,
    tab,
    tab_active,
    progress_filled,
    progress_empty,
    download,
    upload,
    state_downloading,
    state_seeding,
    state_paused,
    state_checking,
    state_queued,
    state_error,
    error,
    warn,
    info,
    debug,
    trace,
    /// Status line after an action succeeded.
    success,
    piece_have,
    piece_missing,
    /// Key names in the hint bar and the help screen.
    key,
    /// Text being typed in a dialog.
    input,
    /// Popups (dialogs, help) background.
    popup,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    /// Shown nowhere yet; lets a file say what it is.
    #[allow(dead_code)]
    name: Option<String>,
    /// A built-in theme providing the slots this file leaves out.
    inherits: Option<String>,
    #[serde(default)]
    styles: StylesFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StyleSpec {
    fg: Option<String>,
    bg: Option<String>,
    #[serde(default)]
    modifiers: Vec<String>,
}

impl StyleSpec {
    /// The error names the sub-field, to be prefixed with the slot by the caller.
    fn to_style(&self) -> Result<Style, String> {
        let mut style = Style::new();
        if let Some(fg) = &self.fg {
            style = style.fg(parse_color(fg).map_err(|e| format!("fg`: {e}"))?);
        }
        if let Some(bg) = &self.bg {
            style = style.bg(parse_color(bg).map_err(|e| format!("bg`: {e}"))?);
        }
        for m in &self.modifiers {
            style = style.add_modifier(parse_modifier(m).map_err(|e| format!("modifiers`: {e}"))?);
        }
        Ok(style)
    }
}

fn parse_color(text: &str) -> Result<Color, String> {
    Color::from_str(text).map_err(|_| {
        format!(
            "invalid colour '{text}': use a name (red, lightblue, darkgray, reset...), \
             an ANSI index 0-255 or #rrggbb"
        )
    })
}

fn parse_modifier(text: &str) -> Result<Modifier, String> {
    Ok(match text.to_ascii_lowercase().as_str() {
        "bold" => Modifier::BOLD,
        "dim" => Modifier::DIM,
        "italic" => Modifier::ITALIC,
        "underlined" | "underline" => Modifier::UNDERLINED,
        "reversed" | "reverse" => Modifier::REVERSED,
        "crossed_out" => Modifier::CROSSED_OUT,
        "slow_blink" | "blink" => Modifier::SLOW_BLINK,
        other => {
            return Err(format!(
                "unknown modifier '{other}': use bold, dim, italic, underlined, reversed, \
                 crossed_out or blink"
            ));
        }
    })
}

impl Theme {
    /// A built-in theme by name.
    pub fn builtin(name: &str) -> Option<Theme> {
        let (name, text) = BUILTIN.iter().find(|(n, _)| *n == name)?;
        // The built-ins are tested to load; a failure here is a bug in a themes/ file.
        let origin = format!("built-in '{name}'");
        let mut theme = Theme::parse(text, &origin, *name == BUILTIN[0].0).ok()?;
        theme.name = name.to_string();
        Some(theme)
    }

    /// Reads a theme from TOML text; `origin` names it in errors.
    pub(crate) fn from_toml(text: &str, origin: &str) -> anyhow::Result<Theme> {
        Theme::parse(text, origin, false)
    }

    /// `root` is set for the default theme, the end of every `inherits` chain: it sets all
    /// slots itself.
    fn parse(text: &str, origin: &str, root: bool) -> anyhow::Result<Theme> {
        let file: ThemeFile =
            toml::from_str(text).map_err(|e| anyhow!("theme {origin}: {}", one_line(&e, text)))?;
        let base = match file.inherits.as_deref() {
            _ if root => Theme::blank(),
            None => builtin_default()?,
            Some(other) => Theme::builtin(other).ok_or_else(|| {
                anyhow!(
                    "theme {origin}: field `inherits`: no built-in theme '{other}' \
                     (built-ins: {})",
                    builtin_names()
                )
            })?,
        };
        base.overlay(origin.to_string(), &file.styles, origin)
    }

    /// The slots a file sets itself (used to check that built-ins are complete).
    #[cfg(test)]
    fn slots_set(text: &str) -> anyhow::Result<Vec<&'static str>> {
        let file: ThemeFile = toml::from_str(text)?;
        Ok(file
            .styles
            .slots()
            .into_iter()
            .filter(|(_, s)| s.is_some())
            .map(|(n, _)| n)
            .collect())
    }

    /// A bordered block, highlighted when its pane has the focus.
    pub(crate) fn block(&self, focused: bool) -> Block<'static> {
        Block::default()
            .borders(Borders::ALL)
            .border_type(if focused {
                BorderType::Thick
            } else {
                BorderType::Plain
            })
            .border_style(if focused {
                self.border_focused
            } else {
                self.border
            })
            .title_style(self.title)
    }

    pub(crate) fn state(&self, state: TorrentState) -> Style {
        match state {
            TorrentState::Downloading => self.state_downloading,
            TorrentState::Seeding => self.state_seeding,
            TorrentState::Paused => self.state_paused,
            TorrentState::Checking => self.state_checking,
            TorrentState::Queued => self.state_queued,
            TorrentState::Error => self.state_error,
        }
    }

    pub(crate) fn level(&self, level: LogLevel) -> Style {
        match level {
            LogLevel::Error => self.error,
            LogLevel::Warn => self.warn,
            LogLevel::Info => self.info,
            LogLevel::Debug => self.debug,
            LogLevel::Trace => self.trace,
        }
    }

    /// The selected-row style for a pane with or without focus.
    pub(crate) fn selection(&self, focused: bool) -> Style {
        if focused {
            self.selected
        } else {
            self.selected_inactive
        }
    }
}

impl Default for Theme {
    fn default() -> Self {
        builtin_default().unwrap_or_else(|_| Theme::blank())
    }
}

fn builtin_default() -> anyhow::Result<Theme> {
    Theme::parse(BUILTIN[0].1, "built-in 'default'", true)
}

fn builtin_names() -> String {
    BUILTIN
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

/// toml's errors span several lines with a source excerpt; keep the message and position.
pub(crate) fn one_line(e: &toml::de::Error, text: &str) -> String {
    let msg = e.message().trim().replace('\n', " ");
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("line {line}, column {column}: {msg}")
        }
        None => msg,
    }
}

/// Loads the theme `--theme` or the config names: a built-in name or a path to a `.toml`
/// file. `no_color` (from `NO_COLOR`) always gives `mono`.
pub fn load_theme(name_or_path: &str, no_color: bool) -> anyhow::Result<Theme> {
    if no_color {
        return Theme::builtin("mono").context("the built-in 'mono' theme is broken");
    }
    if let Some(theme) = Theme::builtin(name_or_path) {
        return Ok(theme);
    }
    let path = Path::new(name_or_path);
    let looks_like_path = name_or_path.contains('/') || name_or_path.ends_with(".toml");
    if !looks_like_path && !path.exists() {
        bail!(
            "unknown theme '{name_or_path}': use one of {} or the path of a .toml file",
            builtin_names()
        );
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read theme file '{}'", path.display()))?;
    let mut theme = Theme::from_toml(&text, &format!("file '{}'", path.display()))?;
    theme.name = path.display().to_string();
    Ok(theme)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_loads_and_sets_every_slot() {
        for (name, text) in BUILTIN {
            let theme = Theme::from_toml(text, name).unwrap_or_else(|e| panic!("{name}: {e:#}"));
            let set = Theme::slots_set(text).unwrap();
            let missing: Vec<_> = Theme::SLOTS.iter().filter(|s| !set.contains(s)).collect();
            assert!(missing.is_empty(), "{name} leaves out {missing:?}");
            assert!(Theme::builtin(name).is_some(), "{name}");
            assert_ne!(
                theme.selected, theme.text,
                "{name}: selection must stand out"
            );
        }
    }

    fn colours(theme: &Theme) -> Vec<Color> {
        let t = theme.clone();
        [
            t.screen,
            t.text,
            t.dim,
            t.header,
            t.title,
            t.border,
            t.border_focused,
            t.selected,
            t.selected_inactive,
            t.table_header,
            t.tab,
            t.tab_active,
            t.progress_filled,
            t.progress_empty,
            t.download,
            t.upload,
            t.state_downloading,
            t.state_seeding,
            t.state_paused,
            t.state_checking,
            t.state_queued,
            t.state_error,
            t.error,
            t.warn,
            t.info,
            t.debug,
            t.trace,
            t.success,
            t.piece_have,
            t.piece_missing,
            t.key,
            t.input,
            t.popup,
        ]
        .iter()
        .flat_map(|s| [s.fg, s.bg])
        .flatten()
        .collect()
    }

    #[test]
    fn mono_has_no_colour_and_basic_only_ansi() {
        let mono = Theme::builtin("mono").unwrap();
        assert!(
            colours(&mono).iter().all(|c| *c == Color::Reset),
            "{:?}",
            colours(&mono)
        );
        let basic = Theme::builtin("basic").unwrap();
        for c in colours(&basic) {
            assert!(
                !matches!(c, Color::Rgb(..) | Color::Indexed(_)),
                "basic uses {c:?}"
            );
        }
    }

    #[test]
    fn no_color_gives_mono() {
        let t = load_theme("gruvbox", true).unwrap();
        assert_eq!(t, Theme::builtin("mono").unwrap());
    }

    #[test]
    fn partial_user_theme_inherits() {
        let t = Theme::from_toml(
            "inherits = \"light\"\n[styles]\nerror = { fg = \"#ff0000\", modifiers = [\"bold\"] }\n",
            "file 'x.toml'",
        )
        .unwrap();
        let light = Theme::builtin("light").unwrap();
        assert_eq!(
            t.error,
            Style::new()
                .fg(Color::Rgb(255, 0, 0))
                .add_modifier(Modifier::BOLD)
        );
        assert_eq!(t.download, light.download);
    }

    #[test]
    fn errors_name_file_and_field() {
        let e = Theme::from_toml(
            "[styles]\nselected = { fg = \"blurple\" }\n",
            "file 't.toml'",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("t.toml") && e.contains("styles.selected.fg"),
            "{e}"
        );
        assert!(e.contains("blurple"), "{e}");

        let e = Theme::from_toml("[styles]\nselceted = { fg = \"red\" }\n", "file 't.toml'")
            .unwrap_err()
            .to_string();
        assert!(e.contains("t.toml") && e.contains("selceted"), "{e}");

        let e = Theme::from_toml(
            "[styles]\nerror = { fg = \"red\", bold = true }\n",
            "file 't.toml'",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("bold"), "{e}");

        let e = Theme::from_toml(
            "[styles]\nerror = { modifiers = [\"shiny\"] }\n",
            "file 't.toml'",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("styles.error.modifiers") && e.contains("shiny"),
            "{e}"
        );

        let e = Theme::from_toml("inherits = \"nope\"\n", "file 't.toml'")
            .unwrap_err()
            .to_string();
        assert!(e.contains("inherits") && e.contains("nope"), "{e}");
    }

    #[test]
    fn load_theme_by_name_path_or_error() {
        assert_eq!(load_theme("gruvbox", false).unwrap().name, "gruvbox");
        let e = load_theme("gruvboxx", false).unwrap_err().to_string();
        assert!(
            e.contains("gruvboxx") && e.contains("solarized-dark"),
            "{e}"
        );
        let e = load_theme("/nonexistent/t.toml", false).unwrap_err();
        assert!(format!("{e:#}").contains("/nonexistent/t.toml"));

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mine.toml");
        std::fs::write(&path, "[styles]\ndownload = { fg = \"nope\" }\n").unwrap();
        let e = load_theme(path.to_str().unwrap(), false)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("mine.toml") && e.contains("styles.download.fg"),
            "{e}"
        );
        std::fs::write(&path, "[styles]\ndownload = { fg = \"green\" }\n").unwrap();
        let t = load_theme(path.to_str().unwrap(), false).unwrap();
        assert_eq!(t.download.fg, Some(Color::Green));
    }
}
