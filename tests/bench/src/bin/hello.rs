//! The floor of the cold-start figures: the smallest `lambda_runtime`
//! function (as in aws-lambda-rust-runtime's `basic-lambda` example, with
//! the same logging set-up as the functions), built with the same profile.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move {
        Ok::<_, Error>(json!({ "hello": event.payload }))
    }))
    .await
}
