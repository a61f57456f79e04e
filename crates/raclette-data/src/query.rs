//! List queries: filters on fields, sort, paging.

use serde_json::Value;

use crate::DataError;

/// Items per page when a query names no `limit`.
pub const DEFAULT_PAGE_SIZE: u32 = 100;
/// The largest `limit` a query may ask for.
pub const MAX_PAGE_SIZE: u32 = 1000;
/// The largest `offset` a query may ask for (use filters to go deeper).
pub const MAX_OFFSET: u64 = 1_000_000;
/// A page stops early once its items' documents pass this many bytes, so
/// that one answer stays bounded whatever the page size.
pub const MAX_PAGE_BYTES: usize = 1024 * 1024;
/// The most filters one query may have.
pub const MAX_FILTERS: usize = 32;

/// How a filter compares a field with its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterOp {
    /// Equal (`field=value`).
    Eq,
    /// Not equal (`field[ne]=value`).
    Ne,
    /// Less than (`field[lt]=value`).
    Lt,
    /// Less than or equal (`field[lte]=value`).
    Lte,
    /// Greater than (`field[gt]=value`).
    Gt,
    /// Greater than or equal (`field[gte]=value`).
    Gte,
}

impl FilterOp {
    pub(crate) fn sql(self) -> &'static str {
        match self {
            FilterOp::Eq => "=",
            FilterOp::Ne => "<>",
            FilterOp::Lt => "<",
            FilterOp::Lte => "<=",
            FilterOp::Gt => ">",
            FilterOp::Gte => ">=",
        }
    }

    fn parse(name: &str) -> Option<FilterOp> {
        Some(match name {
            "eq" => FilterOp::Eq,
            "ne" => FilterOp::Ne,
            "lt" => FilterOp::Lt,
            "lte" => FilterOp::Lte,
            "gt" => FilterOp::Gt,
            "gte" => FilterOp::Gte,
            _ => return None,
        })
    }
}

/// One condition on a field: a framework field (`owner`, `createdAt`, …)
/// or one of the collection type's own.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    /// The field, as clients name it.
    pub field: String,
    /// The comparison.
    pub op: FilterOp,
    /// The value compared with; always bound, never spliced into SQL.
    pub value: Value,
}

/// What a list or a count asks for. Items soft-deleted are left out unless
/// a filter names `isDeleted`.
///
/// ```
/// use raclette_data::{ListQuery, FilterOp};
/// let query = ListQuery::new()
///     .filter("isCompleted", FilterOp::Eq, false)
///     .sort_by("createdAt", true)
///     .limit(20);
/// assert_eq!(query.page_size(), 20);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListQuery {
    /// Conditions, all of which must hold.
    pub filters: Vec<Filter>,
    /// The field to sort by and whether descending; default `createdAt`
    /// ascending. Ties are broken by `_id`.
    pub sort: Option<(String, bool)>,
    /// Items per page; default [`DEFAULT_PAGE_SIZE`], at most
    /// [`MAX_PAGE_SIZE`].
    pub limit: Option<u32>,
    /// Items to skip.
    pub offset: u64,
}

impl ListQuery {
    /// Every live item, oldest first, first page.
    pub fn new() -> Self {
        ListQuery::default()
    }

    /// Adds a condition.
    pub fn filter(mut self, field: &str, op: FilterOp, value: impl Into<Value>) -> Self {
        self.filters.push(Filter {
            field: field.to_owned(),
            op,
            value: value.into(),
        });
        self
    }

    /// Sorts by `field`, descending when `descending`.
    pub fn sort_by(mut self, field: &str, descending: bool) -> Self {
        self.sort = Some((field.to_owned(), descending));
        self
    }

    /// Sets the page size.
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Sets the number of items skipped.
    pub fn offset(mut self, offset: u64) -> Self {
        self.offset = offset;
        self
    }

    /// The page size this query gets.
    pub fn page_size(&self) -> u32 {
        self.limit.unwrap_or(DEFAULT_PAGE_SIZE)
    }

    /// Reads a query from URL query parameters: `limit`, `offset`,
    /// `sort` (`name` or `-name` for descending), and `field=value` or
    /// `field[op]=value` filters (`op` one of `eq`, `ne`, `lt`, `lte`,
    /// `gt`, `gte`). A value is read as JSON when it is JSON (`true`,
    /// `3`, `"3"`), as a string otherwise. Parameters in `ignored` are
    /// skipped. Field names are checked when the query runs.
    ///
    /// ```
    /// use raclette_data::ListQuery;
    /// let query = ListQuery::from_params(
    ///     [("isCompleted", "false"), ("sort", "-createdAt"), ("limit", "5")],
    ///     &[],
    /// ).unwrap();
    /// assert_eq!(query.filters[0].value, serde_json::json!(false));
    /// assert_eq!(query.sort, Some(("createdAt".to_owned(), true)));
    /// assert!(ListQuery::from_params([("limit", "0")], &[]).is_err());
    /// ```
    pub fn from_params<'a, I>(params: I, ignored: &[&str]) -> Result<ListQuery, DataError>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut query = ListQuery::new();
        for (key, value) in params {
            match key {
                "limit" => {
                    let limit = value
                        .parse::<u32>()
                        .ok()
                        .filter(|n| *n >= 1)
                        .ok_or_else(|| {
                            DataError::invalid(
                                "query.limit",
                                format!(
                                    "`{value}` is not a whole number from 1 to {MAX_PAGE_SIZE}"
                                ),
                            )
                        })?;
                    query.limit = Some(limit);
                }
                "offset" => {
                    query.offset = value.parse::<u64>().map_err(|_| {
                        DataError::invalid(
                            "query.offset",
                            format!("`{value}` is not a whole number from 0 to {MAX_OFFSET}"),
                        )
                    })?;
                }
                "sort" => {
                    let (field, descending) = match value.strip_prefix('-') {
                        Some(field) => (field, true),
                        None => (value, false),
                    };
                    query.sort = Some((field.to_owned(), descending));
                }
                key if ignored.contains(&key) => {}
                key => {
                    let (field, op) = match key.strip_suffix(']').and_then(|k| k.split_once('[')) {
                        Some((field, op)) => (
                            field,
                            FilterOp::parse(op).ok_or_else(|| {
                                DataError::invalid(
                                    format!("query.{key}"),
                                    format!(
                                        "`{op}` is not a comparison; expected one of eq, ne, lt, lte, gt, gte"
                                    ),
                                )
                            })?,
                        ),
                        None => (key, FilterOp::Eq),
                    };
                    if field.is_empty() {
                        return Err(DataError::invalid(
                            "query",
                            format!("`{key}` names no field"),
                        ));
                    }
                    let value = serde_json::from_str(value)
                        .unwrap_or_else(|_| Value::String(value.to_owned()));
                    query.filters.push(Filter {
                        field: field.to_owned(),
                        op,
                        value,
                    });
                }
            }
        }
        query.check_bounds()?;
        Ok(query)
    }

    pub(crate) fn check_bounds(&self) -> Result<(), DataError> {
        if self.filters.len() > MAX_FILTERS {
            return Err(DataError::invalid(
                "query",
                format!(
                    "{} filters; at most {MAX_FILTERS} are allowed",
                    self.filters.len()
                ),
            ));
        }
        if let Some(limit) = self.limit
            && !(1..=MAX_PAGE_SIZE).contains(&limit)
        {
            return Err(DataError::invalid(
                "query.limit",
                format!("{limit} is not from 1 to {MAX_PAGE_SIZE}"),
            ));
        }
        if self.offset > MAX_OFFSET {
            return Err(DataError::invalid(
                "query.offset",
                format!("{} is above the largest offset, {MAX_OFFSET}", self.offset),
            ));
        }
        Ok(())
    }
}

/// One page of a list.
#[derive(Debug, Clone)]
pub struct Page<I> {
    /// The items, in order.
    pub items: Vec<I>,
    /// The `offset` of the next page, when there may be one.
    pub next_offset: Option<u64>,
}
