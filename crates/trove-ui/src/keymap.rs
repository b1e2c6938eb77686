//! Keys as data: which key runs which [`Action`] in which context, with the description the
//! help screen and the hint bar show. Defaults come from `keymap-default.toml` (embedded);
//! a user file adds or overrides entries.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use anyhow::{Context as _, anyhow};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;

use super::action::Action;

const DEFAULT: &str = include_str!("keymap-default.toml");

/// Where a key is pressed; each has its own section in the keymap file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Context {
    Manager,
    Files,
    Help,
    Dialog,
    Confirm,
}

impl Context {
    pub(crate) const ALL: [Context; 5] = [
        Context::Manager,
        Context::Files,
        Context::Help,
        Context::Dialog,
        Context::Confirm,
    ];

    pub(crate) fn section(self) -> &'static str {
        match self {
            Context::Manager => "manager",
            Context::Files => "files",
            Context::Help => "help",
            Context::Dialog => "dialog",
            Context::Confirm => "confirm",
        }
    }

    /// The heading of the section on the help screen.
    pub(crate) fn title(self) -> &'static str {
        match self {
            Context::Manager => "Dashboard",
            Context::Files => "Files tab (detail pane focused)",
            Context::Help => "Help screen",
            Context::Dialog => "Dialogs and the filter prompt",
            Context::Confirm => "Questions",
        }
    }
}

/// One key with its modifiers, normalised so that a typed `D` matches `"D"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub(crate) code: KeyCode,
    pub(crate) mods: KeyModifiers,
}

impl Key {
    pub(crate) fn from_event(event: &KeyEvent) -> Key {
        let mut mods =
            event.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        let code = match event.code {
            // The case already says whether Shift was down.
            KeyCode::Char(c) => {
                mods.remove(KeyModifiers::SHIFT);
                if mods.contains(KeyModifiers::CONTROL) {
                    KeyCode::Char(c.to_ascii_lowercase())
                } else {
                    KeyCode::Char(c)
                }
            }
            KeyCode::BackTab => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            KeyCode::Tab if mods.contains(KeyModifiers::SHIFT) => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            other => other,
        };
        Key { code, mods }
    }
}

impl FromStr for Key {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut chars = s.chars();
        if let (Some(c), None) = (chars.next(), chars.next()) {
            return Ok(Key {
                code: KeyCode::Char(c),
                mods: KeyModifiers::NONE,
            });
        }
        let inner = s
            .strip_prefix('<')
            .and_then(|r| r.strip_suffix('>'))
            .filter(|r| !r.is_empty())
            .ok_or_else(|| {
                format!("bad key '{s}': use one character or a name like <Enter> or <C-x>")
            })?;
        let mut mods = KeyModifiers::NONE;
        let mut rest = inner;
        // "<C-->" is Ctrl and minus: only strip a modifier if something follows it.
        while rest.len() > 2 && rest.as_bytes()[1] == b'-' {
            match rest.as_bytes()[0] {
                b'C' | b'c' => mods |= KeyModifiers::CONTROL,
                b'A' | b'a' | b'M' | b'm' => mods |= KeyModifiers::ALT,
                b'S' | b's' => mods |= KeyModifiers::SHIFT,
                _ => break,
            }
            rest = &rest[2..];
        }
        let mut chars = rest.chars();
        let code = if let (Some(c), None) = (chars.next(), chars.next()) {
            KeyCode::Char(if mods.contains(KeyModifiers::CONTROL) {
                c.to_ascii_lowercase()
            } else {
                c
            })
        } else {
            match rest.to_ascii_lowercase().as_str() {
                "space" => KeyCode::Char(' '),
                "enter" | "cr" | "return" => KeyCode::Enter,
                "esc" | "escape" => KeyCode::Esc,
                "tab" => KeyCode::Tab,
                "backtab" => KeyCode::BackTab,
                "backspace" | "bs" => KeyCode::Backspace,
                "delete" | "del" => KeyCode::Delete,
                "insert" | "ins" => KeyCode::Insert,
                "up" => KeyCode::Up,
                "down" => KeyCode::Down,
                "left" => KeyCode::Left,
                "right" => KeyCode::Right,
                "home" => KeyCode::Home,
                "end" => KeyCode::End,
                "pageup" => KeyCode::PageUp,
                "pagedown" => KeyCode::PageDown,
                "lt" => KeyCode::Char('<'),
                "gt" => KeyCode::Char('>'),
                f if f.starts_with('f')
                    && f[1..].parse::<u8>().is_ok_and(|n| (1..=12).contains(&n)) =>
                {
                    KeyCode::F(f[1..].parse().unwrap_or(1))
                }
                _ => return Err(format!("bad key '{s}': unknown key name '{rest}'")),
            }
        };
        // Shift is part of a character's case and of BackTab, as `from_event` has it.
        let key = KeyEvent::new(code, mods);
        Ok(Key::from_event(&key))
    }
}

impl fmt::Display for Key {
    /// Short names for the help screen and the hint bar.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("C-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("A-")?;
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            f.write_str("S-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("enter"),
            KeyCode::Esc => f.write_str("esc"),
            KeyCode::Tab => f.write_str("tab"),
            KeyCode::BackTab => f.write_str("S-tab"),
            KeyCode::Backspace => f.write_str("bksp"),
            KeyCode::Delete => f.write_str("del"),
            KeyCode::Insert => f.write_str("ins"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::Home => f.write_str("home"),
            KeyCode::End => f.write_str("end"),
            KeyCode::PageUp => f.write_str("pgup"),
            KeyCode::PageDown => f.write_str("pgdn"),
            KeyCode::F(n) => write!(f, "F{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Binding {
    pub(crate) key: Key,
    pub(crate) action: Action,
    pub(crate) desc: String,
}

/// The effective keys: user entries first, then the defaults they did not replace.
#[derive(Debug, Clone)]
pub struct Keymap {
    sections: Vec<(Context, Vec<Binding>)>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeymapFile {
    manager: Option<Section>,
    files: Option<Section>,
    help: Option<Section>,
    dialog: Option<Section>,
    confirm: Option<Section>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Section {
    #[serde(default)]
    keymap: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    on: String,
    run: String,
    desc: Option<String>,
}

impl KeymapFile {
    fn section(&self, ctx: Context) -> &[Entry] {
        let s = match ctx {
            Context::Manager => &self.manager,
            Context::Files => &self.files,
            Context::Help => &self.help,
            Context::Dialog => &self.dialog,
            Context::Confirm => &self.confirm,
        };
        s.as_ref().map_or(&[], |s| &s.keymap)
    }
}

fn parse_file(text: &str, origin: &str) -> anyhow::Result<Vec<(Context, Vec<Binding>)>> {
    let file: KeymapFile = toml::from_str(text)
        .map_err(|e| anyhow!("keymap {origin}: {}", super::theme::one_line(&e, text)))?;
    let mut out = Vec::new();
    for ctx in Context::ALL {
        let mut bindings = Vec::new();
        for (i, entry) in file.section(ctx).iter().enumerate() {
            let place = format!(
                "keymap {origin}: [{}] entry {} (on = {:?})",
                ctx.section(),
                i + 1,
                entry.on
            );
            let key: Key = entry.on.parse().map_err(|e| anyhow!("{place}: {e}"))?;
            let action: Action = entry.run.parse().map_err(|e| {
                anyhow!(
                    "{place}: {e}; actions are: {}",
                    Action::all_names().collect::<Vec<_>>().join(", ")
                )
            })?;
            let desc = entry.desc.clone().unwrap_or_default();
            bindings.push(Binding { key, action, desc });
        }
        out.push((ctx, bindings));
    }
    Ok(out)
}

impl Default for Keymap {
    fn default() -> Self {
        // Tested to parse; an empty keymap would still let `q`-less users out via signals.
        let sections = parse_file(DEFAULT, "built-in").unwrap_or_default();
        Keymap { sections }
    }
}

impl Keymap {
    /// The defaults with the user's file (if any) laid over them.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Keymap> {
        let Some(path) = path else {
            return Ok(Keymap::default());
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read keymap file '{}'", path.display()))?;
        Keymap::with_overrides(&text, &format!("file '{}'", path.display()))
    }

    pub(crate) fn with_overrides(text: &str, origin: &str) -> anyhow::Result<Keymap> {
        let user = parse_file(text, origin)?;
        let mut keymap = Keymap::default();
        for (ctx, mut mine) in user {
            let Some((_, defaults)) = keymap.sections.iter_mut().find(|(c, _)| *c == ctx) else {
                continue;
            };
            for b in &mut mine {
                if b.desc.is_empty() {
                    // Reuse the default description of that action, else its name.
                    b.desc = defaults
                        .iter()
                        .find(|d| d.action == b.action)
                        .map_or_else(|| b.action.name().replace('_', " "), |d| d.desc.clone());
                }
            }
            defaults.retain(|d| !mine.iter().any(|m| m.key == d.key));
            mine.append(defaults);
            *defaults = mine;
        }
        Ok(keymap)
    }

    pub(crate) fn bindings(&self, ctx: Context) -> &[Binding] {
        self.sections
            .iter()
            .find(|(c, _)| *c == ctx)
            .map_or(&[], |(_, b)| b.as_slice())
    }

    /// The action for a key in the first of `contexts` that binds it.
    pub(crate) fn lookup(&self, contexts: &[Context], event: &KeyEvent) -> Option<Action> {
        let key = Key::from_event(event);
        contexts.iter().find_map(|ctx| {
            self.bindings(*ctx)
                .iter()
                .find(|b| b.key == key)
                .map(|b| b.action)
        })
    }

    /// The first key that runs `action` in `ctx`, for hints ("a add").
    pub(crate) fn key_for(&self, ctx: Context, action: Action) -> Option<Key> {
        self.bindings(ctx)
            .iter()
            .find(|b| b.action == action)
            .map(|b| b.key)
    }

    /// The help screen's rows for one context: keys sharing an action and description are
    /// listed together; unbound (`noop`) keys are left out.
    pub(crate) fn help_rows(&self, ctx: Context) -> Vec<(String, String)> {
        let mut rows: Vec<(Vec<String>, Action, String)> = Vec::new();
        for b in self.bindings(ctx) {
            if b.action == Action::Noop {
                continue;
            }
            match rows
                .iter_mut()
                .find(|(_, a, d)| *a == b.action && *d == b.desc)
            {
                Some((keys, _, _)) => keys.push(b.key.to_string()),
                None => rows.push((vec![b.key.to_string()], b.action, b.desc.clone())),
            }
        }
        rows.into_iter()
            .map(|(keys, _, desc)| (keys.join(" "), desc))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyEventKind;

    fn ev(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        let mut e = KeyEvent::new(code, mods);
        e.kind = KeyEventKind::Press;
        e
    }

    #[test]
    fn default_keymap_parses_completely() {
        let parsed = parse_file(DEFAULT, "built-in").unwrap();
        let total: usize = parsed.iter().map(|(_, b)| b.len()).sum();
        assert!(total > 50, "{total}");
        let km = Keymap::default();
        for b in km.bindings(Context::Manager) {
            assert!(!b.desc.is_empty(), "{:?}", b.key);
        }
        // No key is bound twice within a section: the second would never fire.
        for ctx in Context::ALL {
            let keys = km.bindings(ctx).iter().map(|b| b.key).collect::<Vec<_>>();
            let mut dedup = keys.clone();
            dedup.sort_by_key(|k| format!("{k:?}"));
            dedup.dedup();
            assert_eq!(keys.len(), dedup.len(), "{ctx:?}");
        }
    }

    #[test]
    fn keys_parse_and_match_events() {
        let km = Keymap::default();
        let m = [Context::Manager];
        assert_eq!(
            km.lookup(&m, &ev(KeyCode::Char('a'), KeyModifiers::NONE)),
            Some(Action::Add)
        );
        assert_eq!(
            km.lookup(&m, &ev(KeyCode::Char('D'), KeyModifiers::SHIFT)),
            Some(Action::Purge)
        );
        assert_eq!(
            km.lookup(&m, &ev(KeyCode::Char(' '), KeyModifiers::NONE)),
            Some(Action::Mark)
        );
        assert_eq!(
            km.lookup(&m, &ev(KeyCode::BackTab, KeyModifiers::SHIFT)),
            Some(Action::PrevPane)
        );
        assert_eq!(
            km.lookup(&m, &ev(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
        assert_eq!(
            km.lookup(&m, &ev(KeyCode::Char('x'), KeyModifiers::NONE)),
            None
        );
        let files = [Context::Files, Context::Manager];
        assert_eq!(
            km.lookup(&files, &ev(KeyCode::Char(' '), KeyModifiers::NONE)),
            Some(Action::ToggleFile)
        );
        assert_eq!(
            km.lookup(&files, &ev(KeyCode::Char('p'), KeyModifiers::NONE)),
            Some(Action::PauseResume)
        );

        assert_eq!("<C-x>".parse::<Key>().unwrap().to_string(), "C-x");
        assert_eq!("<S-Tab>".parse::<Key>().unwrap().code, KeyCode::BackTab);
        assert_eq!("<F5>".parse::<Key>().unwrap().code, KeyCode::F(5));
        assert_eq!("<".parse::<Key>().unwrap().code, KeyCode::Char('<'));
        assert!("<Hyper-x>".parse::<Key>().is_err());
        assert!("ab".parse::<Key>().is_err());
    }

    #[test]
    fn user_file_overrides_and_unbinds() {
        let km = Keymap::with_overrides(
            r#"
            [manager]
            keymap = [
              { on = "x", run = "purge" },
              { on = "D", run = "noop" },
              { on = "a", run = "help", desc = "Mine" },
            ]
            "#,
            "file 'k.toml'",
        )
        .unwrap();
        let m = [Context::Manager];
        assert_eq!(
            km.lookup(&m, &ev(KeyCode::Char('x'), KeyModifiers::NONE)),
            Some(Action::Purge)
        );
        assert_eq!(
            km.lookup(&m, &ev(KeyCode::Char('D'), KeyModifiers::NONE)),
            Some(Action::Noop)
        );
        assert_eq!(
            km.lookup(&m, &ev(KeyCode::Char('a'), KeyModifiers::NONE)),
            Some(Action::Help)
        );
        // Untouched defaults stay.
        assert_eq!(
            km.lookup(&m, &ev(KeyCode::Char('q'), KeyModifiers::NONE)),
            Some(Action::Quit)
        );
        let help = km.help_rows(Context::Manager);
        assert!(
            help.iter()
                .any(|(k, d)| k == "x" && d.contains("delete its data")),
            "{help:?}"
        );
        assert!(!help.iter().any(|(k, _)| k == "D"));
        assert!(help.iter().any(|(k, d)| k == "a" && d == "Mine"));
        // The shared rows of the help screen: j and ↓ together.
        assert!(
            help.iter().any(|(k, d)| k == "j ↓" && d == "Move down"),
            "{help:?}"
        );
    }

    #[test]
    fn bad_user_files_name_the_place() {
        let e = Keymap::with_overrides(
            "[manager]\nkeymap = [{ on = \"x\", run = \"fly\" }]",
            "file 'k.toml'",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("k.toml") && e.contains("[manager] entry 1") && e.contains("fly"),
            "{e}"
        );
        let e = Keymap::with_overrides(
            "[manager]\nkeymap = [{ on = \"<Bogus>\", run = \"quit\" }]",
            "file 'k.toml'",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("<Bogus>"), "{e}");
        let e = Keymap::with_overrides("[managr]\n", "file 'k.toml'")
            .unwrap_err()
            .to_string();
        assert!(e.contains("k.toml") && e.contains("managr"), "{e}");
        let e = Keymap::with_overrides(
            "[manager]\nkeymap = [{ on = \"x\", run = \"quit\", dsc = \"\" }]",
            "file 'k.toml'",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("dsc"), "{e}");
        let e = Keymap::load(Some(Path::new("/nonexistent/keys.toml"))).unwrap_err();
        assert!(format!("{e:#}").contains("/nonexistent/keys.toml"));
    }
}
