//! Public requests in flight per client address: the public Job Board routes take no key
//! whose rate limit could count them, so one address may only have a few at once.

use std::collections::HashMap;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::{HttpResponse, web};

pub struct InFlight {
    limit: u32,
    by_address: Mutex<HashMap<IpAddr, u32>>,
}

/// A place taken in `InFlight`, given back when dropped.
pub struct Slot {
    in_flight: Arc<InFlight>,
    address: IpAddr,
}

impl InFlight {
    pub fn new(limit: u32) -> Self {
        Self {
            limit,
            by_address: Mutex::new(HashMap::new()),
        }
    }

    pub fn enter(in_flight: &Arc<InFlight>, address: IpAddr) -> Option<Slot> {
        let mut by_address = in_flight
            .by_address
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let count = by_address.entry(address).or_insert(0);
        if *count >= in_flight.limit {
            return None;
        }
        *count += 1;
        Some(Slot {
            in_flight: Arc::clone(in_flight),
            address,
        })
    }
}

impl Slot {
    /// The answer, keeping this place until its body has been sent, not only until it
    /// starts.
    pub fn hold(self, response: HttpResponse) -> HttpResponse {
        response
            .map_body(|_, body| Holding { body, _slot: self })
            .map_into_boxed_body()
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut by_address = self
            .in_flight
            .by_address
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(count) = by_address.get_mut(&self.address) {
            *count -= 1;
            if *count == 0 {
                by_address.remove(&self.address);
            }
        }
    }
}

/// An answer's body that holds a place in `InFlight` until it has been sent.
struct Holding {
    body: BoxBody,
    _slot: Slot,
}

impl MessageBody for Holding {
    type Error = <BoxBody as MessageBody>::Error;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<web::Bytes, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_next(cx)
    }
}
