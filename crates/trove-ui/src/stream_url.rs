//! The URLs a media player opens to stream a torrent's files from the session's API (see
//! the README's streaming section). The dashboard only builds them; the daemon serves them.

/// Where the session's API answers over TCP, and the token its URLs carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamBase {
    /// `http://host:port`, without a trailing slash.
    pub url: String,
    /// Carried as `?token=`: a player cannot send an `Authorization` header.
    pub token: Option<String>,
}

impl StreamBase {
    /// The URL of file `index` (trove's numbering) of the torrent `hash`.
    pub fn file(&self, hash: &str, index: usize) -> String {
        self.with_token(format!(
            "{}/api/trove/v1/torrents/{hash}/files/{index}",
            self.url
        ))
    }

    /// The URL of the torrent's `.m3u` playlist: every file, in torrent order.
    pub fn playlist(&self, hash: &str) -> String {
        self.with_token(format!(
            "{}/api/trove/v1/torrents/{hash}/playlist.m3u",
            self.url
        ))
    }

    fn with_token(&self, url: String) -> String {
        match &self.token {
            // The token is hex (`trove token`), so it needs no escaping in a query.
            Some(token) => format!("{url}?token={token}"),
            None => url,
        }
    }
}
