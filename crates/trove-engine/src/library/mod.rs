//! The library scan: for each storage root its space, the state of each torrent's data on
//! disk and the orphans (what sits in the root that belongs to no torrent).
//!
//! The scan only `stat`s: it never reads data, so a root of many thousand files is done in
//! a blink. The engine (and the offline `trove library`) gathers what it knows of each
//! torrent into [`TorrentInput`]s on its own thread and runs [`scan`] on a blocking one.

mod check;
mod orphans;

use std::collections::HashSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use trove_proto::library::{DataState, LibraryReport, LibraryRoot, LibraryTorrent, MissingData};
use trove_proto::snapshot::RootInfo;

use crate::roots::RootManager;
use crate::source::CheckedTorrent;
use crate::store::TorrentRecord;

pub use check::{FileCheck, check_files, files_to_check};
pub use orphans::{is_trove_file, orphans};

/// One torrent of a root, as the scan needs it.
#[derive(Debug, Clone)]
pub struct TorrentInput {
    pub info_hash: String,
    pub name: String,
    pub size: u64,
    pub have_bytes: u64,
    pub selected_bytes: u64,
    /// Its name at the top of the root (its folder, or a single file's name): that entry
    /// of the root is the torrent's, not an orphan.
    pub top: Option<OsString>,
    /// The files to look at (None: metadata not known).
    pub files: Option<Vec<FileCheck>>,
    /// Set by whoever moves the torrent's data (see [`DataState::Moving`]); wins over what
    /// the files say.
    pub moving: Option<DataState>,
}

impl TorrentInput {
    /// A torrent as its record and metadata describe it; `have` is its have-bytes per file
    /// (trove's numbering), empty when not known (then a complete torrent's files are all
    /// looked at, and an incomplete one's none).
    pub fn new(
        record: &TorrentRecord,
        torrent: Option<&CheckedTorrent>,
        root: &Path,
        have: &[u64],
    ) -> Self {
        let complete = record.selected_bytes > 0 && record.have_bytes >= record.selected_bytes;
        let have = match (have.is_empty(), complete) {
            (false, _) => Some(have),
            (true, true) => None,
            (true, false) => Some(have),
        };
        let top = match torrent {
            Some(t) if t.single_file => t
                .files
                .first()
                .and_then(|f| f.components.first())
                .map(OsString::from),
            Some(t) => Some(OsString::from(&t.name)),
            // A magnet's data will land under its name, when it has one.
            None => Some(OsString::from(&record.name)),
        };
        TorrentInput {
            info_hash: record.info_hash.clone(),
            name: record.name.clone(),
            size: torrent.map_or(record.size, |t| t.total_len),
            have_bytes: record.have_bytes,
            selected_bytes: record.selected_bytes,
            top,
            files: torrent.map(|t| {
                files_to_check(
                    t,
                    root,
                    record.vault_file.as_deref(),
                    have,
                    record.only_files.as_deref(),
                )
            }),
            moving: None,
        }
    }
}

/// One root to scan: how the session sees it, and its torrents.
#[derive(Debug, Clone)]
pub struct RootInput {
    pub info: RootInfo,
    pub torrents: Vec<TorrentInput>,
}

/// Every root of `info` (as `roots` last probed them), each with its torrents (given with
/// their root token).
pub fn group_by_root(
    roots: &RootManager,
    info: Vec<RootInfo>,
    torrents: impl IntoIterator<Item = (String, TorrentInput)>,
) -> Vec<RootInput> {
    let mut out: Vec<RootInput> = info
        .into_iter()
        .map(|info| RootInput {
            info,
            torrents: Vec::new(),
        })
        .collect();
    for (token, t) in torrents {
        let token = roots.by_token(&token).map_or(token, |r| r.token.clone());
        if let Some(r) = out.iter_mut().find(|r| r.info.token == token) {
            r.torrents.push(t);
        }
    }
    out
}

/// Looks at every root: free space, each torrent's files, the orphans. Blocking (it
/// `stat`s the disks): run it off an async task's thread.
pub fn scan(roots: Vec<RootInput>) -> LibraryReport {
    // A move copies straight to the torrent's name in the target root: while it runs, that
    // entry is the moving torrent's, not an orphan. (root label, name) pairs.
    let incoming: Vec<(String, OsString)> = roots
        .iter()
        .flat_map(|r| &r.torrents)
        .filter_map(|t| match (&t.moving, &t.top) {
            (Some(DataState::Moving { to_root, .. }), Some(top)) => {
                Some((to_root.clone(), top.clone()))
            }
            _ => None,
        })
        .collect();
    LibraryReport {
        roots: roots
            .into_iter()
            .map(|r| {
                let coming: Vec<OsString> = incoming
                    .iter()
                    .filter(|(label, _)| *label == r.info.label)
                    .map(|(_, top)| top.clone())
                    .collect();
                scan_root(r, coming)
            })
            .collect(),
    }
}

/// Scans one root; `coming` are the names that moves under way are copying into it.
fn scan_root(input: RootInput, coming: Vec<OsString>) -> LibraryRoot {
    let RootInput { mut info, torrents } = input;
    // The space as it is now, not as the last probe saw it.
    info.free_bytes = fs4::available_space(&info.path).ok().or(info.free_bytes);
    info.total_bytes = fs4::total_space(&info.path).ok().or(info.total_bytes);
    let owned: HashSet<OsString> = torrents
        .iter()
        .filter_map(|t| t.top.clone())
        .chain(coming)
        .collect();
    let (orphans, problem) = match orphans(&info.path, &owned) {
        Ok(o) => (o, info.problem.clone()),
        Err(e) => (
            Vec::new(),
            info.problem
                .clone()
                .or_else(|| Some(format!("cannot be read ({e})"))),
        ),
    };
    LibraryRoot {
        torrents: torrents.into_iter().map(torrent_state).collect(),
        orphans,
        label: info.label,
        token: info.token,
        path: info.path,
        is_default: info.is_default,
        free_bytes: info.free_bytes,
        total_bytes: info.total_bytes,
        problem,
        vault: info.vault,
    }
}

fn torrent_state(t: TorrentInput) -> LibraryTorrent {
    let data = match (&t.moving, &t.files) {
        (Some(m), _) => m.clone(),
        (None, None) => DataState::NoMetadata,
        (None, Some(files)) => match check_files(files).into_state() {
            Some(problem) => problem,
            None if t.selected_bytes > 0 && t.have_bytes >= t.selected_bytes => DataState::Complete,
            None => DataState::Partial,
        },
    };
    LibraryTorrent {
        info_hash: t.info_hash,
        name: t.name,
        size: t.size,
        have_bytes: t.have_bytes,
        selected_bytes: t.selected_bytes,
        data,
    }
}

/// What a torrent's files say about its data, from a fresh `stat` of each.
pub fn missing_data(
    t: &CheckedTorrent,
    root: &Path,
    vault_file: Option<&str>,
    have: Option<&[u64]>,
    only_files: Option<&[usize]>,
) -> MissingData {
    check_files(&files_to_check(t, root, vault_file, have, only_files))
}

/// The folder a torrent's data is in, for a root path.
pub fn root_path_of(roots: &RootManager, record: &TorrentRecord) -> Option<PathBuf> {
    roots
        .by_token(&record.root_token)
        .map(|r| r.path.clone())
        .or_else(|| record.root_path.clone())
}

/// Checks that a torrent's data is in `root` before it is pointed there: each file it has
/// data in (`have`, per file; every selected file when it has none) is there at its size.
/// The refusal names the root and the files.
pub fn check_located(
    record: &TorrentRecord,
    torrent: Option<&CheckedTorrent>,
    root: &crate::roots::StorageRoot,
    have: &[u64],
) -> Result<(), trove_proto::command::EngineError> {
    use trove_proto::command::EngineError;
    let Some(t) = torrent else {
        return Err(EngineError::BadSource(format!(
            "{} has no metadata yet, so there are no files to look for: wait for it, or remove it",
            record.name
        )));
    };
    let mut files = TorrentInput::new(record, Some(t), &root.path, have)
        .files
        .unwrap_or_default();
    if files.is_empty() {
        files = files_to_check(
            t,
            &root.path,
            record.vault_file.as_deref(),
            None,
            record.only_files.as_deref(),
        );
    }
    let problem = check_files(&files);
    if problem.is_empty() {
        return Ok(());
    }
    let mut what = Vec::new();
    if !problem.missing.is_empty() {
        what.push(format!("missing {}", problem.missing.join(", ")));
    }
    if !problem.size_changed.is_empty() {
        let changed: Vec<&str> = problem
            .size_changed
            .iter()
            .map(|c| c.path.as_str())
            .collect();
        what.push(format!("of another size {}", changed.join(", ")));
    }
    Err(EngineError::Root(format!(
        "{}'s data is not in storage root '{}' at {} ({}): nothing was changed",
        record.name,
        root.label,
        root.path.display(),
        what.join("; ")
    )))
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;
    use crate::source::FileMeta;
    use crate::store::fixtures::record;
    use trove_proto::snapshot::RootOrigin;

    /// A torrent of `files` (path inside it, length); one file named like the torrent is a
    /// single-file torrent.
    fn torrent(name: &str, files: &[(&str, u64)]) -> CheckedTorrent {
        let single = files.len() == 1 && files[0].0 == name;
        let mut offset = 0;
        let files: Vec<FileMeta> = files
            .iter()
            .enumerate()
            .map(|(i, (p, len))| {
                let f = FileMeta {
                    components: p.split('/').map(str::to_string).collect(),
                    len: *len,
                    librqbit_index: i,
                    offset,
                };
                offset += len;
                f
            })
            .collect();
        CheckedTorrent {
            info_hash: format!("{name:0>40}"),
            name: name.into(),
            bytes: Vec::new(),
            total_len: offset,
            files,
            piece_length: 16384,
            piece_count: offset.div_ceil(16384),
            single_file: single,
            trackers: Vec::new(),
        }
    }

    /// Writes every file of `t` under `root` at its length.
    fn write(t: &CheckedTorrent, root: &Path) {
        for (p, f) in t.file_paths(root).iter().zip(&t.files) {
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, vec![1u8; f.len as usize]).unwrap();
        }
    }

    fn info(root: &Path) -> RootInfo {
        RootInfo {
            token: "main".into(),
            label: "main".into(),
            path: root.into(),
            is_default: true,
            free_bytes: None,
            total_bytes: None,
            problem: None,
            origin: RootOrigin::Config,
            vault: false,
        }
    }

    /// An input for `t`: complete when `complete`, else with nothing had.
    fn input(t: &CheckedTorrent, root: &Path, complete: bool) -> TorrentInput {
        let mut r = record(&t.info_hash);
        r.name = t.name.clone();
        r.only_files = None;
        r.selected_bytes = t.total_len;
        r.have_bytes = if complete { t.total_len } else { 0 };
        TorrentInput::new(&r, Some(t), root, &[])
    }

    fn scan_one(root: &Path, torrents: Vec<TorrentInput>) -> LibraryRoot {
        scan(vec![RootInput {
            info: info(root),
            torrents,
        }])
        .roots
        .remove(0)
    }

    #[test]
    fn orphans_are_what_no_torrent_owns_sized_all_the_way_down_without_following_links() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let album = torrent("Album", &[("cd1/a.flac", 1000), ("cover.jpg", 10)]);
        let movie = torrent("movie.mkv", &[("movie.mkv", 5000)]);
        write(&album, &root);
        write(&movie, &root);
        fs::create_dir_all(root.join("Stray/deep/er")).unwrap();
        fs::write(root.join("Stray/one.bin"), vec![0u8; 100]).unwrap();
        fs::write(root.join("Stray/deep/er/two.bin"), vec![0u8; 23]).unwrap();
        fs::create_dir_all(root.join("Empty")).unwrap();
        fs::write(root.join("loose.txt"), b"hello").unwrap();
        fs::write(root.join(".trove-write-test-1"), b"").unwrap();
        // A link to a big folder outside, and one inside an orphan folder: neither is
        // followed.
        let outside = dir.path().join("outside");
        fs::create_dir_all(&outside).unwrap();
        fs::write(outside.join("big.bin"), vec![0u8; 1 << 20]).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("link")).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("Stray/inner-link")).unwrap();

        let r = scan_one(
            &root,
            vec![input(&album, &root, true), input(&movie, &root, true)],
        );
        let names: Vec<(&str, bool)> = r
            .orphans
            .iter()
            .map(|o| (o.name.as_str(), o.is_dir))
            .collect();
        assert_eq!(
            names,
            [
                ("Empty", true),
                ("Stray", true),
                ("link", false),
                ("loose.txt", false)
            ]
        );
        assert_eq!(r.orphans[0].bytes, 0);
        let inner_link = fs::symlink_metadata(root.join("Stray/inner-link"))
            .unwrap()
            .len();
        assert_eq!(r.orphans[1].bytes, 123 + inner_link);
        assert!(r.orphans[2].bytes < 4096, "the link was followed");
        assert_eq!(r.orphans[3].bytes, 5);
        assert!(r.torrents.iter().all(|t| t.data == DataState::Complete));
    }

    #[test]
    fn files_missing_and_size_changed_are_told_apart_for_multi_and_single_file_torrents() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let album = torrent(
            "Album",
            &[("a.bin", 1000), ("sub/b.bin", 2000), ("c.bin", 300)],
        );
        let single = torrent("one.iso", &[("one.iso", 4000)]);
        write(&album, root);
        write(&single, root);

        let state = |r: &LibraryRoot, name: &str| {
            r.torrents
                .iter()
                .find(|t| t.name == name)
                .unwrap()
                .data
                .clone()
        };
        let inputs = || vec![input(&album, root, true), input(&single, root, true)];
        let r = scan_one(root, inputs());
        assert_eq!(state(&r, "Album"), DataState::Complete);
        assert_eq!(state(&r, "one.iso"), DataState::Complete);

        fs::OpenOptions::new()
            .write(true)
            .open(root.join("Album/c.bin"))
            .unwrap()
            .set_len(10)
            .unwrap();
        let r = scan_one(root, inputs());
        let DataState::SizeChanged(m) = state(&r, "Album") else {
            panic!("{:?}", state(&r, "Album"));
        };
        assert_eq!(m.size_changed[0].path, "c.bin");
        assert_eq!(
            (m.size_changed[0].expected, m.size_changed[0].found),
            (300, 10)
        );

        fs::remove_file(root.join("Album/sub/b.bin")).unwrap();
        fs::remove_file(root.join("one.iso")).unwrap();
        // A link where a file was is not the file.
        std::os::unix::fs::symlink(root.join("Album/a.bin"), root.join("one.iso")).unwrap();
        let r = scan_one(root, inputs());
        let DataState::FilesMissing(m) = state(&r, "Album") else {
            panic!("{:?}", state(&r, "Album"));
        };
        assert_eq!(m.missing, ["sub/b.bin"]);
        assert_eq!(m.size_changed.len(), 1, "both kinds are named");
        assert!(
            matches!(state(&r, "one.iso"), DataState::FilesMissing(m) if m.missing == ["one.iso"])
        );
        assert!(
            r.orphans.is_empty(),
            "a torrent's own entries are not orphans"
        );

        // A torrent with nothing had yet looks at no file: partial, not missing.
        let r = scan_one(root, vec![input(&album, root, false)]);
        assert_eq!(state(&r, "Album"), DataState::Partial);
        // Per-file have-bytes: only the files with data count (b.bin, gone, has none; a
        // selection leaving out c.bin, cut short, makes it not count either).
        let mut rec = record(&album.info_hash);
        rec.name = "Album".into();
        rec.only_files = None;
        rec.selected_bytes = album.total_len;
        rec.have_bytes = 1000;
        let only_a = TorrentInput::new(&rec, Some(&album), root, &[1000, 0, 300]);
        let r = scan_one(root, vec![only_a]);
        assert!(matches!(state(&r, "Album"), DataState::SizeChanged(_)));
        rec.only_files = Some(vec![0, 1]);
        let selected = TorrentInput::new(&rec, Some(&album), root, &[1000, 0, 300]);
        let r = scan_one(root, vec![selected]);
        assert_eq!(state(&r, "Album"), DataState::Partial);
    }

    #[test]
    fn a_magnet_without_metadata_owns_its_name_and_has_no_files_to_look_at() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("Coming Soon")).unwrap();
        let mut rec = record("ab");
        rec.name = "Coming Soon".into();
        let r = scan_one(
            dir.path(),
            vec![TorrentInput::new(&rec, None, dir.path(), &[])],
        );
        assert_eq!(r.torrents[0].data, DataState::NoMetadata);
        assert!(r.orphans.is_empty());
    }

    /// A move copies into the target root under the torrent's name: while it runs, the
    /// partial copy there is the moving torrent's, not an orphan.
    #[test]
    fn a_copy_under_way_is_not_an_orphan_of_its_target_root() {
        let dir = tempfile::tempdir().unwrap();
        let (from, to) = (dir.path().join("from"), dir.path().join("to"));
        let movie = torrent("movie.mkv", &[("movie.mkv", 5000)]);
        write(&movie, &from);
        fs::create_dir_all(&to).unwrap();
        fs::write(to.join("movie.mkv"), vec![0u8; 1000]).unwrap();
        fs::write(to.join("stray.txt"), b"x").unwrap();
        let mut moving = input(&movie, &from, true);
        moving.moving = Some(DataState::Moving {
            to_root: "to".into(),
            done_bytes: 1000,
            total_bytes: 5000,
        });
        let mut target = info(&to);
        (target.token, target.label) = ("to".into(), "to".into());
        let report = scan(vec![
            RootInput {
                info: info(&from),
                torrents: vec![moving],
            },
            RootInput {
                info: target,
                torrents: Vec::new(),
            },
        ]);
        assert!(matches!(
            report.roots[0].torrents[0].data,
            DataState::Moving { .. }
        ));
        let orphans: Vec<&str> = report.roots[1]
            .orphans
            .iter()
            .map(|o| o.name.as_str())
            .collect();
        assert_eq!(orphans, ["stray.txt"]);
    }

    #[test]
    fn an_unreadable_root_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let r = scan_one(&dir.path().join("gone"), Vec::new());
        assert!(r.problem.unwrap().contains("cannot be read"));
    }
}
