//! Search, a filter and pages for a page whose rows are all at hand (agents of an integration,
//! staff): `?q=&show=&page=` in the address, so a reload or a shared link keeps the place.

use serde::Deserialize;

/// Rows a page shows at once.
pub const ROWS_PER_PAGE: usize = 50;

/// What the reader asked for: text to look for, a filter the page defines, a page from 1.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Browse {
    pub q: String,
    pub show: String,
    pub page: String,
}

/// One page of the rows that match, with what the pager needs.
pub struct Paged<T> {
    pub rows: Vec<T>,
    /// 1-based, within `1..=pages`.
    pub page: usize,
    pub pages: usize,
    /// Rows that match, on every page.
    pub matching: usize,
    /// Whether a search or filter is applied.
    pub filtered: bool,
    pub query: Browse,
}

impl Browse {
    /// Whether any of `texts` contains the search, ignoring case; everything matches no search.
    pub fn finds(&self, texts: &[&str]) -> bool {
        let needle = self.q.trim().to_lowercase();
        needle.is_empty() || texts.iter().any(|text| text.to_lowercase().contains(&needle))
    }

    /// The chosen filter, or `default` when none (or an unknown one) is chosen.
    pub fn show<'a>(&'a self, known: &[&'a str], default: &'a str) -> &'a str {
        known.iter().copied().find(|value| *value == self.show).unwrap_or(default)
    }

    /// The page of `rows` asked for (the last one when it asks past the end).
    pub fn paginate<T>(&self, rows: Vec<T>, default_show: &str) -> Paged<T> {
        let matching = rows.len();
        let pages = matching.div_ceil(ROWS_PER_PAGE).max(1);
        let page = self.page.trim().parse::<usize>().unwrap_or(1).clamp(1, pages);
        let rows = rows.into_iter().skip((page - 1) * ROWS_PER_PAGE).take(ROWS_PER_PAGE).collect();
        let filtered = !self.q.trim().is_empty() || (!self.show.is_empty() && self.show != default_show);
        Paged { rows, page, pages, matching, filtered, query: self.clone() }
    }
}

impl<T> Paged<T> {
    /// The address of page `page` with the same search and filter, for `path`.
    pub fn link(&self, path: &str, page: usize) -> String {
        let mut url = url::form_urlencoded::Serializer::new(String::new());
        if !self.query.q.trim().is_empty() {
            url.append_pair("q", self.query.q.trim());
        }
        if !self.query.show.is_empty() {
            url.append_pair("show", &self.query.show);
        }
        if page > 1 {
            url.append_pair("page", &page.to_string());
        }
        let query = url.finish();
        if query.is_empty() { path.to_owned() } else { format!("{path}?{query}") }
    }

    /// `Rows 51–100 of 130`, for the pager.
    pub fn range(&self) -> String {
        if self.matching == 0 {
            return "No rows".to_owned();
        }
        let first = (self.page - 1) * ROWS_PER_PAGE + 1;
        let last = first + self.rows.len() - 1;
        format!("{first}–{last} of {}", self.matching)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn browse(q: &str, show: &str, page: &str) -> Browse {
        Browse { q: q.to_owned(), show: show.to_owned(), page: page.to_owned() }
    }

    #[test]
    fn search_ignores_case_and_an_empty_search_finds_everything() {
        assert!(browse(" ANN ", "", "").finds(&["Ann Nguyễn", "x"]));
        assert!(browse("nguy", "", "").finds(&["nobody", "Ann Nguyen"]));
        assert!(!browse("zoe", "", "").finds(&["Ann"]));
        assert!(browse("", "", "").finds(&[]));
    }

    #[test]
    fn pages_hold_fifty_rows_and_a_page_past_the_end_is_the_last() {
        let paged = browse("", "", "3").paginate((0..120).collect(), "all");
        assert_eq!((paged.page, paged.pages, paged.rows.len()), (3, 3, 20));
        assert_eq!(paged.rows[0], 100);
        assert_eq!(paged.range(), "101–120 of 120");
        let past = browse("", "", "9").paginate((0..120).collect::<Vec<_>>(), "all");
        assert_eq!(past.page, 3);
        let garbage = browse("", "", "x").paginate((0..10).collect::<Vec<_>>(), "all");
        assert_eq!((garbage.page, garbage.pages), (1, 1));
        assert_eq!(browse("", "", "").paginate(Vec::<u8>::new(), "all").range(), "No rows");
    }

    #[test]
    fn links_keep_the_search_and_filter() {
        let paged = browse("a&b", "unmatched", "1").paginate((0..120).collect::<Vec<_>>(), "all");
        assert_eq!(paged.link("/users", 2), "/users?q=a%26b&show=unmatched&page=2");
        assert_eq!(paged.link("/users", 1), "/users?q=a%26b&show=unmatched");
        assert!(paged.filtered);
        assert!(!browse("", "all", "").paginate(vec![1], "all").filtered);
    }

    #[test]
    fn an_unknown_filter_is_the_default() {
        assert_eq!(browse("", "matched", "").show(&["all", "matched"], "all"), "matched");
        assert_eq!(browse("", "bogus", "").show(&["all", "matched"], "all"), "all");
    }
}
