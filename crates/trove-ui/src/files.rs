//! The Files tab's tree: folders built from the `/`-joined paths of a torrent's files, with
//! sizes, progress and selection summed up the tree.

use std::collections::{BTreeMap, HashSet};

use trove_proto::snapshot::FileEntry;

use super::format;

/// Whether the files under a row are downloaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Selection {
    All,
    Some,
    None,
}

impl Selection {
    pub(crate) fn checkbox(self) -> &'static str {
        match self {
            Selection::All => "[x]",
            Selection::Some => "[-]",
            Selection::None => "[ ]",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TreeRow {
    pub(crate) depth: usize,
    /// The last path component, made safe to draw.
    pub(crate) name: String,
    /// The folder's path inside the torrent (`a/b`), which names it for folding; a file's
    /// own path.
    pub(crate) path: String,
    pub(crate) is_dir: bool,
    /// A folder whose rows below are hidden.
    pub(crate) folded: bool,
    /// Positions in the files slice of every file at or under this row.
    pub(crate) files: Vec<usize>,
    pub(crate) size: u64,
    pub(crate) have: u64,
    pub(crate) selection: Selection,
}

impl TreeRow {
    pub(crate) fn progress(&self) -> f64 {
        if self.size == 0 {
            1.0
        } else {
            self.have as f64 / self.size as f64
        }
    }
}

#[derive(Default)]
struct Node {
    dirs: BTreeMap<String, Node>,
    files: Vec<(String, usize)>,
}

/// The rows of the tree, folders before files, each level sorted by name.
pub(crate) fn tree(files: &[FileEntry]) -> Vec<TreeRow> {
    let mut root = Node::default();
    for (pos, f) in files.iter().enumerate() {
        let mut parts: Vec<&str> = f.path.split('/').filter(|p| !p.is_empty()).collect();
        let leaf = parts.pop().unwrap_or("");
        let mut node = &mut root;
        for p in parts {
            node = node.dirs.entry(p.to_string()).or_default();
        }
        node.files.push((leaf.to_string(), pos));
    }
    let mut rows = Vec::new();
    flatten(&root, 0, "", files, &mut rows);
    rows
}

/// The rows left once the folders in `folded` are folded: their rows below are gone (a
/// folded folder's row still holds every file under it, so toggling it reaches them all).
pub(crate) fn fold(rows: Vec<TreeRow>, folded: &HashSet<String>) -> Vec<TreeRow> {
    if folded.is_empty() {
        return rows;
    }
    let mut out = Vec::with_capacity(rows.len());
    let mut hide_below: Option<usize> = None;
    for mut row in rows {
        if let Some(depth) = hide_below {
            if row.depth > depth {
                continue;
            }
            hide_below = None;
        }
        if row.is_dir && folded.contains(&row.path) {
            row.folded = true;
            hide_below = Some(row.depth);
        }
        out.push(row);
    }
    out
}

/// Appends the rows of `node`'s children and returns the file positions under it.
fn flatten(
    node: &Node,
    depth: usize,
    prefix: &str,
    files: &[FileEntry],
    rows: &mut Vec<TreeRow>,
) -> Vec<usize> {
    let mut all = Vec::new();
    for (name, child) in &node.dirs {
        let at = rows.len();
        let path = format!("{prefix}{name}");
        rows.push(TreeRow {
            depth,
            name: format::sanitize(name),
            path: path.clone(),
            is_dir: true,
            folded: false,
            files: Vec::new(),
            size: 0,
            have: 0,
            selection: Selection::None,
        });
        let under = flatten(child, depth + 1, &format!("{path}/"), files, rows);
        let row = &mut rows[at];
        row.size = under.iter().map(|&i| files[i].size).sum();
        row.have = under
            .iter()
            .map(|&i| files[i].have_bytes.min(files[i].size))
            .sum();
        row.selection = selection_of(under.iter().map(|&i| files[i].selected));
        all.extend_from_slice(&under);
        row.files = under;
    }
    let mut leaves: Vec<&(String, usize)> = node.files.iter().collect();
    leaves.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    for (name, pos) in leaves {
        let f = &files[*pos];
        rows.push(TreeRow {
            depth,
            name: format::sanitize(name),
            path: f.path.clone(),
            is_dir: false,
            folded: false,
            files: vec![*pos],
            size: f.size,
            have: f.have_bytes.min(f.size),
            selection: if f.selected {
                Selection::All
            } else {
                Selection::None
            },
        });
        all.push(*pos);
    }
    all
}

fn selection_of(mut selected: impl Iterator<Item = bool>) -> Selection {
    let Some(first) = selected.next() else {
        return Selection::None;
    };
    if selected.all(|s| s == first) {
        if first {
            Selection::All
        } else {
            Selection::None
        }
    } else {
        Selection::Some
    }
}

/// Flips the row: a fully selected row is skipped, anything else becomes fully selected.
/// Returns the engine file indices to download afterwards.
pub(crate) fn toggle(files: &mut [FileEntry], row: &TreeRow) -> Vec<usize> {
    let select = row.selection != Selection::All;
    for &pos in &row.files {
        if let Some(f) = files.get_mut(pos) {
            f.selected = select;
        }
    }
    files
        .iter()
        .filter(|f| f.selected)
        .map(|f| f.index)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(index: usize, path: &str, size: u64, have: u64, selected: bool) -> FileEntry {
        FileEntry {
            index,
            path: path.to_string(),
            size,
            have_bytes: have,
            selected,
        }
    }

    #[test]
    fn builds_a_sorted_tree_with_sums() {
        let files = vec![
            file(0, "b.txt", 10, 10, true),
            file(1, "sub/z.bin", 100, 50, true),
            file(2, "sub/a.bin", 100, 0, false),
            file(3, "a.txt", 5, 0, true),
            file(4, "sub/deep/x", 1, 1, true),
        ];
        let rows = tree(&files);
        let names: Vec<_> = rows.iter().map(|r| (r.depth, r.name.as_str())).collect();
        assert_eq!(
            names,
            vec![
                (0, "sub"),
                (1, "deep"),
                (2, "x"),
                (1, "a.bin"),
                (1, "z.bin"),
                (0, "a.txt"),
                (0, "b.txt")
            ]
        );
        assert_eq!(rows[0].size, 201);
        assert_eq!(rows[0].have, 51);
        assert_eq!(rows[0].selection, Selection::Some);
        assert_eq!(rows[1].selection, Selection::All);
    }

    #[test]
    fn toggling_a_folder_flips_all_below() {
        let mut files = vec![
            file(0, "d/a", 1, 0, true),
            file(1, "d/b", 1, 0, false),
            file(2, "c", 1, 0, true),
        ];
        let rows = tree(&files);
        assert_eq!(toggle(&mut files, &rows[0]), vec![0, 1, 2]);
        let rows = tree(&files);
        assert_eq!(toggle(&mut files, &rows[0]), vec![2]);
        let rows = tree(&files);
        assert_eq!(toggle(&mut files, &rows[3]), Vec::<usize>::new());
    }

    #[test]
    fn folding_hides_the_rows_below_and_toggling_still_reaches_them() {
        let mut files = vec![
            file(0, "d/a", 1, 0, true),
            file(1, "d/e/b", 1, 0, false),
            file(2, "c", 1, 0, true),
        ];
        let all = tree(&files);
        assert_eq!(all.len(), 5, "d, e, b, a, c");
        let folded: HashSet<String> = ["d".to_string()].into();
        let rows = fold(tree(&files), &folded);
        let names: Vec<_> = rows.iter().map(|r| (r.name.as_str(), r.folded)).collect();
        assert_eq!(names, vec![("d", true), ("c", false)]);
        // Toggling the folded folder selects every file under it, hidden ones too.
        assert_eq!(toggle(&mut files, &rows[0]), vec![0, 1, 2]);
        // A folded folder inside an open one hides only its own rows.
        let folded: HashSet<String> = ["d/e".to_string()].into();
        let rows = fold(tree(&files), &folded);
        let names: Vec<_> = rows.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(names, vec!["d", "d/e", "d/a", "c"]);
    }
}
