//! Reading what a qBittorrent client sends: parameters from the query string, from an
//! `application/x-www-form-urlencoded` body or from a `multipart/form-data` body (files
//! included), and the values inside them (hash lists, flags, numbers).

use axum::http::{HeaderMap, header};
use bytes::Bytes;
use trove_proto::MAX_TORRENT_FILE_BYTES;

use super::errors::{Refusal, one_line};

/// A file sent in a multipart body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Upload {
    pub(crate) name: String,
    pub(crate) bytes: Bytes,
}

/// Every parameter of one request: query string first, then the body's fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Params {
    fields: Vec<(String, String)>,
    pub(crate) files: Vec<Upload>,
}

impl Params {
    /// The parameters of a query string and an url-encoded body (form decoding never
    /// fails: bytes that are not UTF-8 become U+FFFD, which no value accepts).
    pub(crate) fn from_query_and_form(query: Option<&str>, body: &[u8]) -> Params {
        let mut fields: Vec<(String, String)> = Vec::new();
        if let Some(query) = query {
            fields.extend(form_urlencoded::parse(query.as_bytes()).into_owned());
        }
        fields.extend(form_urlencoded::parse(body).into_owned());
        Params {
            fields,
            files: Vec::new(),
        }
    }

    /// The parameters of a request, whatever its body's type.
    pub(crate) async fn read(
        query: Option<&str>,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<Params, Refusal> {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !content_type
            .to_ascii_lowercase()
            .starts_with("multipart/form-data")
        {
            return Ok(Params::from_query_and_form(query, &body));
        }
        let mut params = Params::from_query_and_form(query, b"");
        read_multipart(content_type, body, &mut params).await?;
        Ok(params)
    }

    /// The last value given for `name` (qBittorrent reads one value per name).
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A value that must be there.
    pub(crate) fn require(&self, name: &str) -> Result<&str, Refusal> {
        self.get(name)
            .ok_or_else(|| Refusal::bad(format!("the parameter '{name}' is missing")))
    }

    /// `true`/`false` (any case), or absent.
    pub(crate) fn flag(&self, name: &str) -> Result<Option<bool>, Refusal> {
        self.get(name).map(|v| parse_flag(name, v)).transpose()
    }

    /// A whole number, or absent (an empty value counts as absent, as qBittorrent's forms
    /// send them).
    pub(crate) fn int(&self, name: &str) -> Result<Option<i64>, Refusal> {
        match self.get(name).map(str::trim) {
            None | Some("") => Ok(None),
            Some(v) => parse_int(name, v).map(Some),
        }
    }
}

async fn read_multipart(
    content_type: &str,
    body: Bytes,
    params: &mut Params,
) -> Result<(), Refusal> {
    let boundary = multer::parse_boundary(content_type).map_err(|e| {
        Refusal::bad(format!(
            "the multipart body's Content-Type has no usable boundary: {e}"
        ))
    })?;
    let limits = multer::Constraints::new()
        .size_limit(multer::SizeLimit::new().per_field(MAX_TORRENT_FILE_BYTES as u64));
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(body) });
    let mut multipart = multer::Multipart::with_constraints(stream, boundary, limits);
    let broken = |e: multer::Error| {
        Refusal::bad(format!(
            "the multipart body cannot be read: {}",
            one_line(&e.to_string())
        ))
    };
    while let Some(field) = multipart.next_field().await.map_err(broken)? {
        let name = field.name().unwrap_or("").to_string();
        let file_name = field.file_name().map(str::to_string);
        let bytes = field.bytes().await.map_err(broken)?;
        match file_name {
            Some(file_name) => params.files.push(Upload {
                name: file_name,
                bytes,
            }),
            None => params
                .fields
                .push((name, String::from_utf8_lossy(&bytes).into_owned())),
        }
    }
    Ok(())
}

pub(crate) fn parse_flag(name: &str, value: &str) -> Result<bool, Refusal> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(Refusal::bad(format!(
            "'{name}' must be true or false, not '{}'",
            one_line(value)
        ))),
    }
}

pub(crate) fn parse_int(name: &str, value: &str) -> Result<i64, Refusal> {
    value.trim().parse::<i64>().map_err(|_| {
        Refusal::bad(format!(
            "'{name}' must be a whole number, not '{}'",
            one_line(value)
        ))
    })
}

/// The torrents a request names: `all`, or info-hashes joined by `|`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Selection {
    All,
    Hashes(Vec<String>),
}

impl Selection {
    /// Whether `hash` (lower-case hex) is selected.
    pub(crate) fn contains(&self, hash: &str) -> bool {
        match self {
            Selection::All => true,
            Selection::Hashes(hashes) => hashes.iter().any(|h| h == hash),
        }
    }
}

/// Reads `all` or `h1|h2|...`: each an info-hash of 40 hex digits (any case).
pub(crate) fn parse_hashes(text: &str) -> Result<Selection, Refusal> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("all") {
        return Ok(Selection::All);
    }
    let mut hashes = Vec::new();
    for part in text.split('|').map(str::trim).filter(|p| !p.is_empty()) {
        hashes.push(parse_hash(part)?);
    }
    Ok(Selection::Hashes(hashes))
}

/// One info-hash: 40 hex digits, returned in lower case.
pub(crate) fn parse_hash(text: &str) -> Result<String, Refusal> {
    let hash = text.trim();
    if hash.len() == 40 && hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(hash.to_ascii_lowercase())
    } else {
        Err(Refusal::bad(format!(
            "'{}' is not an info-hash (40 hex digits)",
            one_line(text)
        )))
    }
}

/// A comma-separated list (tags), blanks trimmed and empty items dropped.
pub(crate) fn comma_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// A tag as trove keeps it: no control characters, not blank, not absurdly long.
pub(crate) fn check_tag(tag: &str) -> Result<(), Refusal> {
    if tag.chars().any(char::is_control) || tag.chars().count() > 200 {
        return Err(Refusal::bad(format!(
            "the tag '{}' has control characters or is longer than 200 characters",
            one_line(tag)
        )));
    }
    Ok(())
}

/// A rate limit as qBittorrent sends it (bytes per second, 0 or negative = none).
pub(crate) fn rate(value: i64) -> Option<u64> {
    u64::try_from(value).ok().filter(|v| *v > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_and_body_both_count_and_the_body_wins() {
        let p = Params::from_query_and_form(Some("a=1&b=x%20y"), b"a=2&c=%E2%9C%93");
        assert_eq!(p.get("a"), Some("2"));
        assert_eq!(p.get("b"), Some("x y"));
        assert_eq!(p.get("c"), Some("✓"));
        assert_eq!(p.get("d"), None);
    }

    #[test]
    fn hashes_are_all_or_a_bar_separated_list_of_full_hashes() {
        let h = "A".repeat(40);
        assert_eq!(parse_hashes("all"), Ok(Selection::All));
        assert_eq!(
            parse_hashes(&format!("{h}|{}", "b".repeat(40))),
            Ok(Selection::Hashes(vec!["a".repeat(40), "b".repeat(40)]))
        );
        for bad in ["abc", "../etc", &"g".repeat(40), "a\0b"] {
            assert!(parse_hashes(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn flags_and_numbers_say_what_is_wrong() {
        let p = Params::from_query_and_form(Some("paused=TRUE&limit=x&offset="), b"");
        assert_eq!(p.flag("paused"), Ok(Some(true)));
        let err = p.int("limit").expect_err("x is no number");
        assert!(err.message.contains("'limit'"), "{}", err.message);
        assert_eq!(p.int("offset"), Ok(None));
        assert_eq!(rate(-1), None);
        assert_eq!(rate(0), None);
        assert_eq!(rate(1024), Some(1024));
    }

    #[tokio::test]
    async fn multipart_fields_and_files_are_read_and_truncation_is_refused() {
        let body = "--XX\r\nContent-Disposition: form-data; name=\"category\"\r\n\r\nmovies\r\n\
                    --XX\r\nContent-Disposition: form-data; name=\"torrents\"; filename=\"a.torrent\"\r\n\
                    Content-Type: application/x-bittorrent\r\n\r\nd4:infoe\r\n--XX--\r\n";
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            "multipart/form-data; boundary=XX".parse().expect("header"),
        );
        let p = Params::read(None, &headers, Bytes::from(body))
            .await
            .expect("reads");
        assert_eq!(p.get("category"), Some("movies"));
        assert_eq!(p.files.len(), 1);
        assert_eq!(&p.files[0].bytes[..], b"d4:infoe");
        let cut = Bytes::from(body[..body.len() / 2].to_string());
        let err = Params::read(None, &headers, cut)
            .await
            .expect_err("truncated");
        assert_eq!(err.status, axum::http::StatusCode::BAD_REQUEST);
    }

    proptest::proptest! {
        /// Any query or form text decodes, and every value reader either reads it or
        /// gives a 400 with one line naming the parameter.
        #[test]
        fn arbitrary_forms_decode_or_give_a_400(query in ".{0,120}", body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..120)) {
            let p = Params::from_query_and_form(Some(&query), &body);
            for name in ["hashes", "limit", "offset", "rid", "paused", "filter", "category", "tags"] {
                let value = p.get(name).unwrap_or(&query).to_string();
                let results = [
                    parse_hashes(&value).err(),
                    parse_hash(&value).err(),
                    parse_int(name, &value).err(),
                    parse_flag(name, &value).err(),
                    p.int(name).err(),
                    p.flag(name).err(),
                    crate::qbit::info::Filter::parse(&value).err(),
                    crate::qbit::categories::check_name(&value).err(),
                    check_tag(&value).err(),
                ];
                for refusal in results.into_iter().flatten() {
                    proptest::prop_assert_eq!(refusal.status, axum::http::StatusCode::BAD_REQUEST);
                    proptest::prop_assert!(!refusal.message.is_empty() && !refusal.message.contains('\n'));
                }
            }
            let _ = crate::qbit::info::InfoQuery::parse(&p);
            let _ = crate::qbit::sync::parse_rid(&p);
        }
    }
}
