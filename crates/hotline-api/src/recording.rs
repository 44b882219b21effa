//! `GET /api/v1/tickets/{id}/recording`: the call's recording (WAV), streamed from disk.
//!
//! The path is the ticket's `recording` as the switch stored it (a relative path is relative to the
//! process's working directory, which the switch shares). A single `Range: bytes=…` gets a 206:
//! browsers' audio players seek with it. A recording still being written is served as far as it
//! is at the time of the request.

use std::io::{self, SeekFrom};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use tokio::fs::File;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::{ApiError, ApiPath, ApiState};

/// Read size per body chunk: large enough for few syscalls, small enough to keep memory flat.
const CHUNK: usize = 64 * 1024;

/// An inclusive byte range within a file of known length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ByteRange {
    start: u64,
    end: u64,
}

#[derive(Debug, PartialEq, Eq)]
enum RangeRequest {
    /// No (usable) Range header: the whole file.
    Full,
    Partial(ByteRange),
    /// Malformed or outside the file: 416.
    Unsatisfiable,
}

/// Interprets a Range header against a file of `len` bytes. Only one `bytes` range is served; a
/// multi-range request and other units get the whole file, which RFC 9110 allows (a server may
/// ignore Range) and spares us multipart responses nobody here needs.
fn parse_range(value: Option<&HeaderValue>, len: u64) -> RangeRequest {
    let Some(value) = value else {
        return RangeRequest::Full;
    };
    let Ok(value) = value.to_str() else {
        return RangeRequest::Unsatisfiable;
    };
    let value = value.trim();
    let Some((unit, spec)) = value.split_once('=') else {
        return RangeRequest::Unsatisfiable;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return RangeRequest::Full;
    }
    if spec.contains(',') {
        return RangeRequest::Full;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeRequest::Unsatisfiable;
    };
    let (first, last) = (first.trim(), last.trim());
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let range = if first.is_empty() {
        // `bytes=-N`: the last N bytes.
        if !digits(last) {
            return RangeRequest::Unsatisfiable;
        }
        let Ok(n) = last.parse::<u64>() else {
            return RangeRequest::Unsatisfiable;
        };
        if n == 0 || len == 0 {
            return RangeRequest::Unsatisfiable;
        }
        ByteRange {
            start: len.saturating_sub(n),
            end: len - 1,
        }
    } else {
        if !digits(first) || !(last.is_empty() || digits(last)) {
            return RangeRequest::Unsatisfiable;
        }
        let Ok(start) = first.parse::<u64>() else {
            return RangeRequest::Unsatisfiable;
        };
        let end = if last.is_empty() {
            u64::MAX
        } else {
            // More digits than u64 holds still means "to the end".
            last.parse::<u64>().unwrap_or(u64::MAX)
        };
        if start >= len || end < start {
            return RangeRequest::Unsatisfiable;
        }
        ByteRange {
            start,
            end: end.min(len - 1),
        }
    };
    RangeRequest::Partial(range)
}

/// The `count` bytes of `file` from its current position, as body chunks. Ends early (and the
/// connection with it, Content-Length being unmet) if the file shrinks meanwhile.
fn file_stream(file: File, count: u64) -> impl Stream<Item = io::Result<Bytes>> {
    futures::stream::try_unfold(file.take(count), |mut f| async move {
        let mut buf = vec![0u8; CHUNK];
        let n = f.read(&mut buf).await?;
        if n == 0 {
            if f.limit() > 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "recording shorter than announced",
                ));
            }
            return Ok(None);
        }
        buf.truncate(n);
        Ok(Some((Bytes::from(buf), f)))
    })
}

fn not_found(id: i64, what: &str) -> ApiError {
    ApiError::not_found(format!("ticket {id}: {what}"))
}

pub(crate) async fn get_recording(
    State(st): State<ApiState>,
    axum::Extension(actor): axum::Extension<hotline_workflow::Actor>,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    // A unit liaison hears only the calls of tickets its unit works on.
    crate::routing::visible(&st, &actor, id).await?;
    let Some(detail) = st.tickets.get(id).await? else {
        return Err(ApiError::not_found(format!("ticket {id} not found")));
    };
    let Some(path) = detail.ticket.recording.filter(|p| !p.is_empty()) else {
        return Err(not_found(id, "no recording"));
    };
    let mut file = match File::open(&path).await {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(not_found(id, "recording file missing"))
        }
        Err(e) => return Err(ApiError::internal(format!("open {path}: {e}"))),
    };
    let meta = file
        .metadata()
        .await
        .map_err(|e| ApiError::internal(format!("stat {path}: {e}")))?;
    if !meta.is_file() {
        return Err(not_found(id, "recording file missing"));
    }
    // The length now; a recording in progress keeps growing, the response stays consistent.
    let len = meta.len();

    let (status, range) = match parse_range(headers.get(header::RANGE), len) {
        RangeRequest::Full => (StatusCode::OK, None),
        RangeRequest::Partial(r) => (StatusCode::PARTIAL_CONTENT, Some(r)),
        RangeRequest::Unsatisfiable => {
            let mut resp = ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "range_not_satisfiable",
                format!("recording is {len} bytes; send one range as bytes=first-last"),
            )
            .into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                resp.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return Ok(resp);
        }
    };
    let (start, count) = match range {
        Some(r) => (r.start, r.end - r.start + 1),
        None => (0, len),
    };
    if start > 0 {
        file.seek(SeekFrom::Start(start))
            .await
            .map_err(|e| ApiError::internal(format!("seek {path}: {e}")))?;
    }

    let mut resp = Response::new(Body::from_stream(file_stream(file, count)));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("audio/wav"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(count));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    // Citizens' voices: no shared or on-disk caches; and a recording in progress changes.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"ticket-{id}.wav\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Some(r) = range {
        if let Ok(v) = HeaderValue::from_str(&format!("bytes {}-{}/{len}", r.start, r.end)) {
            h.insert(header::CONTENT_RANGE, v);
        }
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(v: &str, len: u64) -> RangeRequest {
        parse_range(Some(&HeaderValue::from_str(v).unwrap()), len)
    }

    fn part(start: u64, end: u64) -> RangeRequest {
        RangeRequest::Partial(ByteRange { start, end })
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_range(None, 10), RangeRequest::Full);
        assert_eq!(p("bytes=0-4", 10), part(0, 4));
        assert_eq!(p("bytes=2-", 10), part(2, 9));
        assert_eq!(p("bytes=2-100", 10), part(2, 9));
        assert_eq!(p("bytes=9-9", 10), part(9, 9));
        assert_eq!(p("bytes=-3", 10), part(7, 9));
        assert_eq!(p("bytes=-30", 10), part(0, 9));
        assert_eq!(p("Bytes = 1 - 2", 10), part(1, 2));
        assert_eq!(p("bytes=0-99999999999999999999999", 10), part(0, 9));
        assert_eq!(p("bytes=0-1,4-5", 10), RangeRequest::Full);
        assert_eq!(p("items=0-1", 10), RangeRequest::Full);
        for bad in [
            "bytes=10-",
            "bytes=10-20",
            "bytes=5-2",
            "bytes=-0",
            "bytes=-",
            "bytes=abc",
            "bytes=a-b",
            "bytes=+1-2",
            "bytes=1",
            "bytes",
            "bytes=99999999999999999999999-",
        ] {
            assert_eq!(p(bad, 10), RangeRequest::Unsatisfiable, "{bad}");
        }
        // An empty file has no satisfiable range.
        assert_eq!(p("bytes=0-", 0), RangeRequest::Unsatisfiable);
        assert_eq!(p("bytes=-1", 0), RangeRequest::Unsatisfiable);
    }
}
