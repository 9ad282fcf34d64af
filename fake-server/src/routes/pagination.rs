//! Pagination shared by every list: `page`, `per_page` (1–200, default 20), absolute
//! `links.pages` keeping the filters, and `meta.total`.

use super::*;

pub(super) struct Paging {
    pub(super) page: u64,
    pub(super) per_page: u64,
}

pub(super) fn paging(query: &HashMap<String, String>) -> Result<Paging, ApiError> {
    let number = |name: &str, default: u64| -> Result<u64, ApiError> {
        match query.get(name) {
            None => Ok(default),
            Some(text) => text
                .parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("{name} must be a positive integer"))),
        }
    };
    let page = number("page", 1)?;
    let per_page = number("per_page", 20)?;
    if page < 1 {
        return Err(ApiError::bad_request("page must be at least 1"));
    }
    if !(1..=200).contains(&per_page) {
        return Err(ApiError::bad_request("per_page must be between 1 and 200"));
    }
    Ok(Paging { page, per_page })
}

/// One page of `items` with `links` (absolute, to this server, keeping the filters) and
/// `meta`. The pages object only holds the links that make sense.
pub(super) fn page_of<T: Clone>(
    items: &[T],
    paging: &Paging,
    base_url: &str,
    path: &str,
    filters: &[(&str, &str)],
) -> (Vec<T>, Value, Value) {
    let total = items.len() as u64;
    let last = total.div_ceil(paging.per_page).max(1);
    let start = ((paging.page - 1) * paging.per_page).min(total) as usize;
    let end = (start as u64 + paging.per_page).min(total) as usize;
    let url = |page: u64| {
        let mut query: Vec<String> = filters.iter().map(|(k, v)| format!("{k}={v}")).collect();
        query.push(format!("page={page}"));
        query.push(format!("per_page={}", paging.per_page));
        format!("{base_url}{path}?{}", query.join("&"))
    };
    let mut pages = serde_json::Map::new();
    if paging.page > 1 {
        pages.insert("first".into(), json!(url(1)));
        pages.insert("prev".into(), json!(url((paging.page - 1).min(last))));
    }
    if paging.page < last {
        pages.insert("next".into(), json!(url(paging.page + 1)));
        pages.insert("last".into(), json!(url(last)));
    }
    let links = if pages.is_empty() {
        json!({})
    } else {
        json!({ "pages": pages })
    };
    (items[start..end].to_vec(), links, json!({ "total": total }))
}

/// A list's answer: the page of items (or map, for the backup policies) under `key`, with `links` and `meta`, serialized
/// once. (`json!` would first serialize the items into a deep copy, which for a page of
/// 200 Droplets cost the fake more than rendering them.) The three members come in
/// alphabetical order, as a `Value` map writes them.
pub(super) fn listing<T: Serialize + ?Sized>(
    key: &str,
    items: &T,
    links: Value,
    meta: Value,
) -> Reply {
    struct Body<'a, T: ?Sized> {
        key: &'a str,
        items: &'a T,
        links: Value,
        meta: Value,
    }
    impl<T: Serialize + ?Sized> Serialize for Body<'_, T> {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeMap;
            let mut map = serializer.serialize_map(Some(3))?;
            if self.key < "links" {
                map.serialize_entry(self.key, self.items)?;
            }
            map.serialize_entry("links", &self.links)?;
            if ("links".."meta").contains(&self.key) {
                map.serialize_entry(self.key, self.items)?;
            }
            map.serialize_entry("meta", &self.meta)?;
            if self.key >= "meta" {
                map.serialize_entry(self.key, self.items)?;
            }
            map.end()
        }
    }
    let body = Body {
        key,
        items,
        links,
        meta,
    };
    match serde_json::to_vec(&body) {
        Ok(bytes) => Ok((
            StatusCode::OK,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            bytes,
        )
            .into_response()),
        Err(error) => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            format!("the fake could not encode the page: {error}"),
        )),
    }
}

/// Everything but the unreserved characters of RFC 3986, percent-encoded.
const NOT_UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

pub(super) fn encode(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, NOT_UNRESERVED).to_string()
}
