//! The AWS configuration of a function, built for a short cold start
//! (BENCHMARKS.md, "Cold start"). Every function's `main` calls [`load`]
//! once and builds its SDK clients from the result.
//!
//! What `aws_config::defaults(..).load()` alone would do at init, and what
//! this does instead:
//!
//! - **Credentials.** The default chain builds every provider it might try
//!   (profile, web identity, ECS, IMDS with its own HTTP client), about
//!   0.5 ms, before it asks the first one. Lambda puts the role's
//!   credentials in the environment, the chain's first provider: when
//!   `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` are set, that provider
//!   is the only one. Without them (a laptop with a profile) the chain runs
//!   as before.
//! - **Region.** `AWS_REGION` (Lambda sets it), else `AWS_DEFAULT_REGION`,
//!   the chain's first two sources; else the chain.
//! - **One HTTP client for every SDK client, built on first use.** Each SDK
//!   client otherwise gets an HTTPS client of its own, and building a client
//!   (`Client::new`) builds a connector at once to load and parse the TLS
//!   roots (0.6 ms to read the bundle, 0.1-0.2 ms per parse), then another on
//!   its first request. [`SharedConnectors`] builds a connector on the first
//!   request and shares it between all the SDK clients of the process: the
//!   roots are read and parsed once, and not during init.
//! - **Clients a function seldom needs, built when first used**
//!   ([`LazyClient`]). Building a client of a service parses that service's
//!   endpoint rules (its own copy of the partitions, with their regular
//!   expressions): 0.1-0.2 ms each. The jobs function's Scheduler and Lambda
//!   clients (schedules, runs, discovery), the sources function's KMS client
//!   (writes) and Lambda client (connection tests, discovery) and the
//!   reconciler's Lambda client (retries and child runs) wait for a request
//!   that needs them.
//!
//! Everything else is `aws_config`'s: endpoint URLs (`AWS_ENDPOINT_URL` and
//! the per-service `AWS_ENDPOINT_URL_<SERVICE>` of the local stack), retries,
//! timeouts, profiles.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Deref;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::{BehaviorVersion, ConfigLoader, Region, SdkConfig};
use aws_smithy_http_client::Connector;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::shared::IntoShared as _;

/// The configuration every SDK client of a function is built from.
pub async fn load() -> SdkConfig {
    loader(|name| std::env::var(name).ok()).load().await
}

/// The loader [`load`] runs, given the process's environment as `var`.
fn loader(var: impl Fn(&str) -> Option<String>) -> ConfigLoader {
    let var = |name: &str| var(name).filter(|v| !v.trim().is_empty());
    let mut loader =
        aws_config::defaults(BehaviorVersion::latest()).http_client(SharedConnectors::default());
    if let Some(region) = var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION")) {
        loader = loader.region(Region::new(region));
    }
    if var("AWS_ACCESS_KEY_ID").is_some() && var("AWS_SECRET_ACCESS_KEY").is_some() {
        loader = loader.credentials_provider(EnvironmentVariableCredentialsProvider::new());
    }
    loader
}

/// What a connector is built from: (connect timeout, read timeout).
type ConnectorKey = (Option<Duration>, Option<Duration>);

/// The SDK's default HTTPS client (hyper 1, rustls with aws-lc-rs, the
/// system's roots, proxies from the environment), with one connector per
/// timeout settings for the whole process, built on its first request.
///
/// The SDK's own default builds a connector when each client is built
/// (`validate_base_client_config`, to load the roots early) and keeps
/// connectors per client; this one does neither.
#[derive(Debug, Default)]
pub struct SharedConnectors {
    connectors: Mutex<HashMap<ConnectorKey, SharedHttpConnector>>,
}

impl HttpClient for SharedConnectors {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        let key = (settings.connect_timeout(), settings.read_timeout());
        let mut connectors = self
            .connectors
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        connectors
            .entry(key)
            .or_insert_with(|| {
                let mut builder =
                    Connector::builder().tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc));
                builder.set_connector_settings(Some(settings.clone()));
                builder.set_sleep_impl(components.sleep_impl());
                builder.set_proxy_config(Some(ProxyConfig::from_env()));
                builder.build().into_shared()
            })
            .clone()
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        Some(ConnectorMetadata::new("hyper", Some(Cow::Borrowed("1.x"))))
    }
}

/// An SDK client built from the function's configuration on its first use
/// (the first request that needs it), then kept; it derefs to the client.
/// An adapter that takes `impl Into<LazyClient<Client>>` also takes a built
/// client (tests' mock clients).
pub struct LazyClient<C>(Arc<LazyInner<C>>);

struct LazyInner<C> {
    client: OnceLock<C>,
    /// How to build it; `None` for a client given ready-made.
    build: Option<Build<C>>,
}

/// The configuration and the client's constructor.
type Build<C> = (SdkConfig, fn(&SdkConfig) -> C);

impl<C> LazyClient<C> {
    /// `build` is the client's constructor, e.g. `aws_sdk_lambda::Client::new`.
    pub fn new(aws: &SdkConfig, build: fn(&SdkConfig) -> C) -> Self {
        Self(Arc::new(LazyInner {
            client: OnceLock::new(),
            build: Some((aws.clone(), build)),
        }))
    }

    /// Whether the client has been built yet.
    pub fn is_built(&self) -> bool {
        self.0.client.get().is_some()
    }
}

impl<C> Deref for LazyClient<C> {
    type Target = C;

    fn deref(&self) -> &C {
        self.0.client.get_or_init(|| {
            let (aws, build) = self
                .0
                .build
                .as_ref()
                .expect("a client without one is built");
            build(aws)
        })
    }
}

impl<C> From<C> for LazyClient<C> {
    fn from(client: C) -> Self {
        Self(Arc::new(LazyInner {
            client: OnceLock::from(client),
            build: None,
        }))
    }
}

impl<C> Clone for LazyClient<C> {
    /// The clone shares the client (and builds it at most once).
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<C> std::fmt::Debug for LazyClient<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyClient")
            .field("built", &self.is_built())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use aws_smithy_runtime_api::client::runtime_components::RuntimeComponentsBuilder;

    use super::*;

    async fn load_with(vars: &[(&str, &str)]) -> SdkConfig {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        loader(|name| vars.get(name).cloned()).load().await
    }

    #[tokio::test]
    async fn the_region_comes_from_aws_region_then_aws_default_region() {
        let both = load_with(&[
            ("AWS_REGION", "eu-west-1"),
            ("AWS_DEFAULT_REGION", "us-east-2"),
        ])
        .await;
        assert_eq!(both.region(), Some(&Region::new("eu-west-1")));
        let fallback = load_with(&[("AWS_REGION", " "), ("AWS_DEFAULT_REGION", "us-east-2")]).await;
        assert_eq!(fallback.region(), Some(&Region::new("us-east-2")));
    }

    #[tokio::test]
    async fn every_config_has_credentials_and_the_shared_http_client() {
        for vars in [
            &[
                ("AWS_ACCESS_KEY_ID", "AKID"),
                ("AWS_SECRET_ACCESS_KEY", "secret"),
            ][..],
            // Without environment credentials: the default chain.
            &[("AWS_ACCESS_KEY_ID", "AKID")][..],
        ] {
            let config = load_with(vars).await;
            assert!(config.credentials_provider().is_some(), "{vars:?}");
            let client = config.http_client().expect("an HTTP client");
            assert_eq!(
                client.connector_metadata().map(|m| m.name().into_owned()),
                Some("hyper".to_owned())
            );
        }
    }

    #[tokio::test]
    async fn a_lazy_client_is_built_once_on_first_use_and_shared_by_its_clones() {
        let aws = load_with(&[
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
        ])
        .await;
        let lazy = LazyClient::new(&aws, aws_sdk_lambda::Client::new);
        let clone = lazy.clone();
        assert!(!lazy.is_built());
        assert_eq!(
            clone.config().region(),
            Some(&aws_sdk_lambda::config::Region::new("eu-west-1"))
        );
        assert!(lazy.is_built(), "built once, for both");

        let ready = LazyClient::from(aws_sdk_lambda::Client::new(&aws));
        assert!(ready.is_built());
    }

    #[tokio::test]
    async fn one_connector_serves_every_client_with_the_same_timeouts() {
        let shared = SharedConnectors::default();
        let components = RuntimeComponentsBuilder::for_tests()
            .with_sleep_impl(aws_smithy_async::rt::sleep::default_async_sleep())
            .build()
            .unwrap();
        let settings = HttpConnectorSettings::builder()
            .connect_timeout(Duration::from_millis(3100))
            .build();
        let other = HttpConnectorSettings::builder()
            .connect_timeout(Duration::from_secs(1))
            .build();
        assert!(
            shared.connectors.lock().unwrap().is_empty(),
            "none before a request"
        );
        shared.http_connector(&settings, &components);
        shared.http_connector(&settings, &components);
        assert_eq!(shared.connectors.lock().unwrap().len(), 1);
        shared.http_connector(&other, &components);
        assert_eq!(shared.connectors.lock().unwrap().len(), 2);
    }
}
