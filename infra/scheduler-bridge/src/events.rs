//! The stand-in for an EventBridge rule that targets a Lambda function (the template's rule on
//! runs' final state changes, targeting the notifier): moto's EventBridge cannot invoke a
//! function served by `cargo lambda watch`, so its rule sends the events to an SQS queue, and
//! this loop reads the queue and invokes the function with each event.
//!
//! At least once, as EventBridge: each event is invoked `copies` times at once (2 in the local
//! stack), so the function's handling of duplicates is exercised on every event; a message is
//! deleted once one copy succeeded, else it comes back after its visibility timeout and is
//! invoked again.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::BoxError;
use crate::delivery::Invoker;

/// One message of the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedEvent {
    pub receipt: String,
    pub body: String,
}

/// The queue a rule sends events to.
#[async_trait]
pub trait EventQueue: Send + Sync {
    /// The messages available now (waiting a moment when there are none).
    async fn receive(&self) -> Result<Vec<QueuedEvent>, BoxError>;
    async fn delete(&self, receipt: &str) -> Result<(), BoxError>;
}

/// Forwards the queue's events to `function` forever.
pub async fn run_event_forwarder(
    queue: Arc<dyn EventQueue>,
    invoker: Arc<dyn Invoker>,
    function: String,
    copies: u32,
) {
    loop {
        match queue.receive().await {
            Ok(events) => {
                for event in events {
                    let (queue, invoker, function) =
                        (queue.clone(), invoker.clone(), function.clone());
                    tokio::spawn(async move {
                        forward(queue.as_ref(), invoker.as_ref(), &function, copies, event).await
                    });
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not read the event queue; trying again");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// Invokes `function` with `event` `copies` times at once; deletes it when one succeeded.
pub async fn forward(
    queue: &dyn EventQueue,
    invoker: &dyn Invoker,
    function: &str,
    copies: u32,
    event: QueuedEvent,
) -> bool {
    let attempts = (0..copies.max(1)).map(|_| invoker.invoke(function, &event.body));
    let results = futures_util::future::join_all(attempts).await;
    let delivered = results.iter().any(Result::is_ok);
    if let Some(Err(e)) = results.iter().find(|r| r.is_err()) {
        tracing::warn!(function, code = %e.code, message = %e.message, "an event's delivery failed");
    }
    if delivered {
        if let Err(e) = queue.delete(&event.receipt).await {
            tracing::warn!(error = %e, "could not delete a delivered event; it will come again");
        }
        tracing::info!(function, copies, outcome = "delivered", "event delivered");
    }
    delivered
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::delivery::DeliveryError;

    #[derive(Default)]
    struct Recorder {
        invoked: Mutex<Vec<String>>,
        deleted: Mutex<Vec<String>>,
        fail: bool,
    }

    #[async_trait]
    impl Invoker for Recorder {
        async fn invoke(&self, function: &str, payload: &str) -> Result<(), DeliveryError> {
            self.invoked
                .lock()
                .unwrap()
                .push(format!("{function}:{payload}"));
            if self.fail {
                Err(DeliveryError {
                    code: "FunctionError".into(),
                    message: "Retryable".into(),
                })
            } else {
                Ok(())
            }
        }
    }

    #[async_trait]
    impl EventQueue for Recorder {
        async fn receive(&self) -> Result<Vec<QueuedEvent>, BoxError> {
            Ok(Vec::new())
        }
        async fn delete(&self, receipt: &str) -> Result<(), BoxError> {
            self.deleted.lock().unwrap().push(receipt.to_owned());
            Ok(())
        }
    }

    fn event() -> QueuedEvent {
        QueuedEvent {
            receipt: "r1".into(),
            body: "{\"detail\":{}}".into(),
        }
    }

    #[tokio::test]
    async fn each_event_is_invoked_twice_and_deleted_once_delivered() {
        let r = Recorder::default();
        assert!(forward(&r, &r, "notifier", 2, event()).await);
        assert_eq!(
            *r.invoked.lock().unwrap(),
            ["notifier:{\"detail\":{}}", "notifier:{\"detail\":{}}"]
        );
        assert_eq!(*r.deleted.lock().unwrap(), ["r1"]);
    }

    #[tokio::test]
    async fn an_event_no_copy_delivered_stays_in_the_queue() {
        let r = Recorder {
            fail: true,
            ..Recorder::default()
        };
        assert!(!forward(&r, &r, "notifier", 2, event()).await);
        assert_eq!(r.invoked.lock().unwrap().len(), 2);
        assert!(r.deleted.lock().unwrap().is_empty());
    }
}
