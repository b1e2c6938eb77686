//! The theme and keymap files as a user meets them: `--theme PATH` on the files in
//! `themes/`, and broken files failing with the file and the field named.
// Test code: a failed unwrap is a failed test that says where.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use trove_ui::theme::{BUILTIN, Theme};
use trove_ui::{Keymap, load_theme};

#[test]
fn theme_files_on_disk_match_the_embedded_ones() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../themes");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        let from_file = load_theme(path.to_str().unwrap(), false)
            .unwrap_or_else(|e| panic!("{}: {e:#}", path.display()));
        let builtin = Theme::builtin(&name).unwrap_or_else(|| panic!("{name} is not embedded"));
        assert_eq!(
            Theme {
                name: name.clone(),
                ..from_file
            },
            builtin,
            "{name}"
        );
        seen += 1;
    }
    assert_eq!(seen, BUILTIN.len(), "every built-in has a file and back");
}

#[test]
fn required_themes_exist() {
    for name in [
        "default",
        "light",
        "high-contrast",
        "gruvbox",
        "solarized-dark",
        "mono",
        "basic",
    ] {
        load_theme(name, false).unwrap();
    }
}

#[test]
fn broken_theme_files_say_where() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "colour.toml",
            "[styles]\nupload = { fg = \"#12345\" }\n",
            "styles.upload.fg",
        ),
        (
            "field.toml",
            "[styles]\nuplaod = { fg = \"red\" }\n",
            "uplaod",
        ),
        ("top.toml", "colour = 1\n", "colour"),
        (
            "syntax.toml",
            "[styles]\nerror = { fg = \"red\"\n",
            "line 2",
        ),
    ];
    for (file, text, field) in cases {
        let path = dir.path().join(file);
        std::fs::write(&path, text).unwrap();
        let err = format!(
            "{:#}",
            load_theme(path.to_str().unwrap(), false).unwrap_err()
        );
        assert!(err.contains(file), "{file}: {err}");
        assert!(
            err.to_lowercase().contains(&field.to_lowercase()),
            "{file}: {err}"
        );
    }
    let err = format!("{:#}", load_theme("no-such-theme", false).unwrap_err());
    assert!(
        err.contains("no-such-theme") && err.contains("gruvbox"),
        "{err}"
    );
    // NO_COLOR wins over a broken theme name: there is nothing to read.
    assert_eq!(load_theme("no-such-theme", true).unwrap().name, "mono");
}

#[test]
fn broken_keymap_files_say_where() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.toml");
    std::fs::write(
        &path,
        "[manager]\nkeymap = [\n  { on = \"x\", run = \"purge\" },\n  { on = \"y\", run = \"explode\" },\n]\n",
    )
    .unwrap();
    let err = format!("{:#}", Keymap::load(Some(&path)).unwrap_err());
    assert!(
        err.contains("keys.toml") && err.contains("[manager] entry 2") && err.contains("explode"),
        "{err}"
    );
    std::fs::write(
        &path,
        "[manager]\nkeymap = [{ on = \"x\", run = \"purge\" }]\n",
    )
    .unwrap();
    Keymap::load(Some(&path)).unwrap();
}
