//! Scroll memory for lists whose height is only known while drawing (as gitui's
//! `VerticalScroll`): the top row is kept between frames and moved only as far as needed to
//! keep the selection visible, so the list does not jump while the cursor moves.

use std::cell::Cell;

#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct VerticalScroll {
    top: Cell<usize>,
}

impl VerticalScroll {
    /// The first row to draw for `selected` among `total` rows in `visible` lines.
    pub(crate) fn update(&self, selected: usize, total: usize, visible: usize) -> usize {
        let top = calc_top(self.top.get(), selected, total, visible);
        self.top.set(top);
        top
    }

    pub(crate) fn reset(&self) {
        self.top.set(0);
    }
}

fn calc_top(top: usize, selected: usize, total: usize, visible: usize) -> usize {
    if visible == 0 || total <= visible {
        return 0;
    }
    let max_top = total - visible;
    let top = top.min(max_top);
    if selected < top {
        selected
    } else if selected >= top + visible {
        selected + 1 - visible
    } else {
        top
    }
    .min(max_top)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_view_until_the_cursor_leaves_it() {
        let s = VerticalScroll::default();
        assert_eq!(s.update(0, 100, 10), 0);
        assert_eq!(s.update(9, 100, 10), 0);
        assert_eq!(s.update(10, 100, 10), 1);
        assert_eq!(s.update(5, 100, 10), 1);
        assert_eq!(s.update(0, 100, 10), 0);
        assert_eq!(s.update(99, 100, 10), 90);
        // Rows disappear: the view slides back instead of showing blank lines.
        assert_eq!(s.update(3, 5, 10), 0);
        assert_eq!(s.update(0, 0, 0), 0);
    }
}
