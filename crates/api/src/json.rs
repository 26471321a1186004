//! JSON answers.

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::{BufMut, BytesMut};
use serde::Serialize;

use crate::model::write::WriteJson;

/// Bytes reserved for an answer before it is written: one resource (an asset is about 600
/// bytes) fits without growing the buffer; a page grows it a few times.
const FIRST_CAPACITY: usize = 1024;

/// A `200 application/json` answer of `T` (wrap it in `(StatusCode, Json(..))` for another
/// status). A value that cannot be serialized is answered 500 `INTERNAL_ERROR` with the error
/// envelope (SPEC §1.4) and logged.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        let mut buf = BytesMut::with_capacity(FIRST_CAPACITY).writer();
        let written = serde_json::to_writer(&mut buf, &self.0);
        answer(written.map(|()| Body::from(buf.into_inner().freeze())))
    }
}

/// `body` as a `200 application/json` answer; a value that could not be written as the 500
/// envelope, logged.
fn answer<E: std::fmt::Display>(body: Result<Body, E>) -> Response {
    match body {
        Ok(body) => {
            let mut resp = Response::new(body);
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            resp
        }
        Err(e) => {
            tracing::error!(error = %e, "answer could not be serialized");
            crate::ApiError(flexportal_domain::DomainError::internal()).into_response()
        }
    }
}

/// A `200 application/json` answer written by the value's hand-written [`WriteJson`] (the
/// same bytes as [`Json`] would write, faster); errors as for [`Json`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Written<T>(pub T);

impl<T: WriteJson> IntoResponse for Written<T> {
    fn into_response(self) -> Response {
        let mut buf = Vec::with_capacity(self.0.size_hint());
        let written = self.0.write_json(&mut buf);
        answer(written.map(|()| Body::from(buf)))
    }
}
