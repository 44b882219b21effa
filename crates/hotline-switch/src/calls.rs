//! The live-call registry behind `GET /api/v1/calls` and the call-control routes.
//!
//! Each call task owns its call; the registry only keeps, per call, the task's input sender and the last view
//! the task published. Control requests go to the task as [`CallInput::Control`] and the task answers; the
//! registry's lock is held for a map operation only, never across an await.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use hotline_api::{CallControl, CallControlError, CallView, MonitorMode, TransferMode};
use tokio::sync::{mpsc, oneshot};

use crate::messages::CallInput;

/// What the API asks a call to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Control {
    Conference {
        number: String,
    },
    Leave,
    Transfer {
        number: String,
        mode: TransferMode,
    },
    Monitor {
        supervisor: String,
        mode: MonitorMode,
    },
}

pub type ControlReply = oneshot::Sender<Result<CallView, CallControlError>>;

struct Entry {
    tx: mpsc::UnboundedSender<CallInput>,
    view: CallView,
}

#[derive(Default)]
pub struct CallRegistry {
    calls: Mutex<HashMap<u64, Entry>>,
}

impl CallRegistry {
    /// Adds or refreshes a call's view.
    pub fn publish(&self, tx: &mpsc::UnboundedSender<CallInput>, view: CallView) {
        if let Ok(mut calls) = self.calls.lock() {
            calls.insert(
                view.id,
                Entry {
                    tx: tx.clone(),
                    view,
                },
            );
        }
    }

    pub fn remove(&self, id: u64) {
        if let Ok(mut calls) = self.calls.lock() {
            calls.remove(&id);
        }
    }

    /// Live calls, oldest first.
    pub fn list(&self) -> Vec<CallView> {
        let mut out: Vec<CallView> = match self.calls.lock() {
            Ok(calls) => calls.values().map(|e| e.view.clone()).collect(),
            Err(_) => Vec::new(),
        };
        out.sort_by_key(|v| v.id);
        out
    }

    /// The call `agent` is talking on (answered, not yet left): where the agent's consultation call goes.
    pub fn call_of_agent(&self, agent: &str) -> Option<mpsc::UnboundedSender<CallInput>> {
        let calls = self.calls.lock().ok()?;
        calls
            .values()
            .find(|e| {
                e.view
                    .legs
                    .iter()
                    .any(|l| l.role == "agent" && l.party == agent && l.state == "up")
            })
            .map(|e| e.tx.clone())
    }

    fn sender(&self, id: u64) -> Option<mpsc::UnboundedSender<CallInput>> {
        self.calls.lock().ok()?.get(&id).map(|e| e.tx.clone())
    }
}

/// The switch's [`CallControl`]: forwards each request to the call's task and waits for its answer.
pub struct SwitchCallControl {
    pub registry: Arc<CallRegistry>,
}

impl SwitchCallControl {
    fn ask(
        &self,
        id: u64,
        control: Control,
    ) -> BoxFuture<'static, Result<CallView, CallControlError>> {
        let tx = self.registry.sender(id);
        Box::pin(async move {
            let tx = tx.ok_or(CallControlError::NotFound)?;
            let (reply, rx) = oneshot::channel();
            tx.send(CallInput::Control { control, reply })
                .map_err(|_| CallControlError::NotFound)?;
            match tokio::time::timeout(Duration::from_secs(10), rx).await {
                Ok(Ok(result)) => result,
                // The call ended while the request was on its way.
                Ok(Err(_)) => Err(CallControlError::NotFound),
                Err(_) => Err(CallControlError::Unavailable(
                    "the call did not answer in time".into(),
                )),
            }
        })
    }
}

impl CallControl for SwitchCallControl {
    fn list(&self) -> BoxFuture<'static, Vec<CallView>> {
        let list = self.registry.list();
        Box::pin(async move { list })
    }

    fn conference(
        &self,
        call: u64,
        number: String,
    ) -> BoxFuture<'static, Result<CallView, CallControlError>> {
        self.ask(call, Control::Conference { number })
    }

    fn leave(&self, call: u64) -> BoxFuture<'static, Result<CallView, CallControlError>> {
        self.ask(call, Control::Leave)
    }

    fn transfer(
        &self,
        call: u64,
        number: String,
        mode: TransferMode,
    ) -> BoxFuture<'static, Result<CallView, CallControlError>> {
        self.ask(call, Control::Transfer { number, mode })
    }

    fn monitor(
        &self,
        call: u64,
        supervisor: String,
        mode: MonitorMode,
    ) -> BoxFuture<'static, Result<CallView, CallControlError>> {
        self.ask(call, Control::Monitor { supervisor, mode })
    }
}
