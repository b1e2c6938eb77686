//! Answers as qBittorrent gives them: plain text (`Ok.`, `Fails.`, a one-line reason) or
//! JSON, with qBittorrent's status codes.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use trove_proto::EngineError;

pub(crate) use crate::wire::one_line;

/// A refusal: the status qBittorrent would give and one line saying what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
}

/// What every endpoint handler returns.
pub(crate) type Answer = Result<Response, Refusal>;

impl Refusal {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Refusal {
        Refusal {
            status,
            message: one_line(&message.into()),
        }
    }

    pub(crate) fn bad(message: impl Into<String>) -> Refusal {
        Refusal::new(StatusCode::BAD_REQUEST, message)
    }

    pub(crate) fn conflict(message: impl Into<String>) -> Refusal {
        Refusal::new(StatusCode::CONFLICT, message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Refusal {
        Refusal::new(StatusCode::NOT_FOUND, message)
    }

    pub(crate) fn forbidden() -> Refusal {
        Refusal::new(StatusCode::FORBIDDEN, "Forbidden")
    }

    /// An engine error as the answer to a request that changes something: a torrent it
    /// does not know is 404, a bad source 400, a root it refuses 409, the rest 500.
    pub(crate) fn engine(error: EngineError) -> Refusal {
        let status = match &error {
            EngineError::UnknownId(_) | EngineError::AmbiguousId { .. } => StatusCode::NOT_FOUND,
            EngineError::BadSource(_) => StatusCode::BAD_REQUEST,
            EngineError::Root(_) => StatusCode::CONFLICT,
            EngineError::Stopped => StatusCode::SERVICE_UNAVAILABLE,
            EngineError::Store(_) | EngineError::Engine(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Refusal::new(status, error.to_string())
    }

    pub(crate) fn into_response(self) -> Response {
        text_with(self.status, self.message)
    }
}

/// `200` and a line of text, as qBittorrent answers actions (`Ok.`, `Fails.`, or nothing).
pub(crate) fn text(body: impl Into<String>) -> Response {
    text_with(StatusCode::OK, body.into())
}

fn text_with(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=UTF-8"),
    );
    response
}

/// `200` with an empty body: what qBittorrent answers to an action that worked.
pub(crate) fn done() -> Answer {
    Ok(text(""))
}

/// `200` with a JSON body.
pub(crate) fn json(value: &impl Serialize) -> Answer {
    let body = serde_json::to_vec(value).map_err(|e| {
        Refusal::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the answer cannot be written as JSON: {e}"),
        )
    })?;
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response())
}
