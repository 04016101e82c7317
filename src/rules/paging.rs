//! Long lists shown a page at a time.

/// One page of a longer list.
#[derive(Debug, Clone)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub page: i64,
    pub pages: i64,
    pub total: i64,
}

impl<T> Paged<T> {
    pub const PER_PAGE: i64 = 25;

    /// The page to show for a requested page number, clamped into range.
    pub fn clamp(requested: i64, total: i64) -> (i64, i64) {
        let pages = ((total + Self::PER_PAGE - 1) / Self::PER_PAGE).max(1);
        let page = requested.clamp(1, pages);
        (page, pages)
    }
}
