//! Success bodies: the payload plus `request_id` and `status_code`, as every SDK model requires.

use crate::observe::current_request_id;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

pub struct Reply<T>(pub T);

#[derive(Serialize)]
struct Envelope<'a, T> {
    request_id: String,
    status_code: u16,
    #[serde(flatten)]
    body: &'a T,
}

impl<T: Serialize> IntoResponse for Reply<T> {
    fn into_response(self) -> Response {
        axum::Json(Envelope {
            request_id: current_request_id(),
            status_code: 200,
            body: &self.0,
        })
        .into_response()
    }
}
