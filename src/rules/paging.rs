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

    /// The requested page (clamped into range) of `total` items, its items read with
    /// `read(offset, limit)`.
    pub fn read<E>(
        requested: i64,
        total: i64,
        read: impl FnOnce(i64, i64) -> Result<Vec<T>, E>,
    ) -> Result<Paged<T>, E> {
        let pages = ((total + Self::PER_PAGE - 1) / Self::PER_PAGE).max(1);
        let page = requested.clamp(1, pages);
        let items = read((page - 1) * Self::PER_PAGE, Self::PER_PAGE)?;
        Ok(Paged {
            items,
            page,
            pages,
            total,
        })
    }
}
