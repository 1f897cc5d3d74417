//! The `managed` Flink target: Amazon Managed Service for Apache Flink
//! (MSF, the `kinesisanalyticsv2` API), running the same runner jar as the
//! session cluster.
//!
//! **Submit** (one submission of a run):
//! 1. the sealed script (the envelope JSON) is put to
//!    `s3://<script_bucket>/<script_prefix>/<job id>/<run id>/script.json`
//!    for the run's first submission, `.../<run id>/<n>/script.json` for its
//!    n-th (a next attempt after a job of the run ran: its status object
//!    must not be the earlier job's);
//! 2. each job has one application, `<application_prefix>-<job id>`.
//!    `DescribeApplication` tells whether it exists: if not,
//!    `CreateApplication` makes it (runtime `FLINK-2_2`, the runner jar from
//!    S3 as its code, snapshots off, the job's parallelism, the run's
//!    property group); if it is `READY` (stopped), `UpdateApplication`
//!    changes it with the `ConditionalToken` the description carried (so a
//!    concurrent change fails instead of being overwritten) to the run's
//!    property group, parallelism and runner jar;
//! 3. `StartApplication` (no snapshot restored) starts it.
//!
//! The runner finds its work in the property group `sluice` (MSF passes no
//! program arguments; the runner reads `/etc/flink/application_properties.json`):
//! `script.s3`, `expect.job`, `expect.run`, `status.s3` and `await`
//! (`true` for batch jobs).
//!
//! The reference the run keeps is `msf:<job id>:<run id>` (first
//! submission) or `msf:<job id>:<run id>:<n>`.
//!
//! **One job per submission.** An application whose `script.s3` is this
//! submission's script was started by it: when it is up (starting, running,
//! ...) or its run has reported its end, a submission made again (a
//! redelivery after a lost answer) adopts it instead of starting it again,
//! and [`FlinkJobs::find`] finds it.
//!
//! **How a batch job's end is learned.** MSF has no API for the state of the
//! Flink job inside an application: `DescribeApplication` says `RUNNING`
//! while the application's cluster is up, which for a batch job stays so
//! after the job has finished (and bills); `ListApplicationOperations` lists
//! start/stop/update operations, not jobs; the Flink dashboard is reached
//! only through a pre-signed browser URL (`CreateApplicationPresignedUrl`),
//! not meant for programs. So the runner reports it: for batch jobs
//! (`await=true`) it waits for the job's end and writes
//! `{"v":1,"state":"FINISHED|FAILED|CANCELED","flink_job_id":...,"failure":...}`
//! to `status.s3` (`.../status.json`, next to the script). [`MsfTarget`]'s
//! `status`:
//! - reads the status object; when it is there the run has ended, and while
//!   the application still runs *this* run it is stopped (`StopApplication`)
//!   before the end is reported: a failed stop is `Unreachable`, so the
//!   reconciler tries again on its next pass and the application does not
//!   stay up billing;
//! - without a status object, follows the application: starting, running,
//!   updating, autoscaling, stopping -> in progress; stopped (`READY`) or
//!   rolled back without a report -> failed (see its logs); gone, or
//!   running another run -> unknown.
//!
//! Streaming jobs never end by themselves: they run until `cancel`, which
//! writes a `CANCELED` status object and stops the application (`Force`).
//!
//! **Errors.** Throttling is retried by the SDK (standard retry, 3
//! attempts); what remains of it, 5xx, timeouts, an application busy in
//! another state (`ResourceInUseException`, a `RUNNING` application that an
//! earlier run still holds), a stale token (`ConcurrentModificationException`)
//! -> `Unreachable` (a later delivery may succeed); an application or request
//! MSF refuses (`InvalidApplicationConfigurationException`,
//! `InvalidArgumentException`, `InvalidRequestException`,
//! `CodeValidationException`, `LimitExceededException`, ...) ->
//! `Rejected(<code: message>)`.
//!
//! The service role of the applications needs `s3:GetObject` on the runner
//! jar and the scripts, `s3:PutObject` on the status objects and
//! `kms:Decrypt` with the scripts' encryption context.

use std::fmt;

use async_trait::async_trait;
use aws_sdk_kinesisanalyticsv2 as msf;
use aws_sdk_kinesisanalyticsv2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kinesisanalyticsv2::types::{
    ApplicationCodeConfiguration, ApplicationCodeConfigurationUpdate, ApplicationConfiguration,
    ApplicationConfigurationUpdate, ApplicationDetail, ApplicationRestoreConfiguration,
    ApplicationRestoreType, ApplicationSnapshotConfiguration, ApplicationStatus, CodeContent,
    CodeContentType, CodeContentUpdate, ConfigurationType, EnvironmentProperties,
    EnvironmentPropertyUpdates, FlinkApplicationConfiguration, FlinkApplicationConfigurationUpdate,
    FlinkRunConfiguration, ParallelismConfiguration, ParallelismConfigurationUpdate, PropertyGroup,
    RunConfiguration, RuntimeEnvironment, S3ContentLocation, S3ContentLocationUpdate,
};
use aws_sdk_s3::primitives::ByteStream;
use serde::{Deserialize, Serialize};
use sluice_domain::model::job::JobId;
use sluice_domain::model::run::RunId;
use sluice_domain::ports::{
    FlinkError, FlinkJobState, FlinkJobStatus, FlinkJobs, FlinkSubmitter, Submission,
    SubmitSettings,
};
use sluice_flink::ManagedTargetConfig;

/// The runtime the runner jar is built for (ARCHITECTURE.md §5).
pub const RUNTIME: RuntimeEnvironment = RuntimeEnvironment::Flink22;

/// The property group the runner reads.
pub const PROPERTY_GROUP: &str = "sluice";

/// A status object is small; anything larger is not one.
const MAX_STATUS_BYTES: usize = 64 * 1024;

/// What the runner writes when a batch job ends (and `cancel` writes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunStatusObject {
    pub v: u32,
    /// `FINISHED`, `FAILED` or `CANCELED`.
    pub state: String,
    #[serde(default)]
    pub flink_job_id: Option<String>,
    /// The failure's root cause, without script values (the runner's
    /// redactor made it).
    #[serde(default)]
    pub failure: Option<String>,
}

/// [`FlinkSubmitter`] and [`FlinkJobs`] on MSF. Build one per target and process.
pub struct MsfTarget {
    msf: msf::Client,
    s3: aws_sdk_s3::Client,
    config: ManagedTargetConfig,
}

impl fmt::Debug for MsfTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MsfTarget")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The submission of a run a reference names.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RunRef {
    job_id: JobId,
    run_id: RunId,
    /// 1 for the run's first submission.
    number: u32,
}

impl RunRef {
    fn of(submission: &Submission) -> Self {
        Self {
            job_id: submission.job_id.clone(),
            run_id: submission.run_id.clone(),
            number: submission.number.max(1),
        }
    }

    fn parse(reference: &str) -> Option<Self> {
        let mut parts = reference.split(':');
        let (Some("msf"), Some(job), Some(run)) = (parts.next(), parts.next(), parts.next()) else {
            return None;
        };
        let number = match (parts.next(), parts.next()) {
            (None, _) => 1,
            (Some(n), None) => n.parse().ok().filter(|n: &u32| *n > 1)?,
            (Some(_), Some(_)) => return None,
        };
        Some(Self {
            job_id: JobId::parse(job)?,
            run_id: RunId::parse(run)?,
            number,
        })
    }

    fn reference(&self) -> String {
        match self.number {
            1 => format!("msf:{}:{}", self.job_id, self.run_id),
            n => format!("msf:{}:{}:{n}", self.job_id, self.run_id),
        }
    }
}

/// Why an AWS call failed, as the source of `Unreachable`.
#[derive(Debug, thiserror::Error)]
#[error("{call}: {detail}")]
struct AwsFault {
    call: &'static str,
    detail: String,
}

fn unreachable(call: &'static str, detail: impl Into<String>) -> FlinkError {
    FlinkError::Unreachable(Box::new(AwsFault {
        call,
        detail: detail.into(),
    }))
}

/// Error codes after which a later attempt may succeed.
const RETRYABLE_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "InternalError",
    "InternalFailure",
    "InternalServerError",
    "RequestTimeout",
    "ResourceInUseException",
    "ConcurrentModificationException",
    "ResourceNotFoundException",
];

/// An SDK error as the port's error: service errors by their code, the
/// rest (no answer, timeouts) as `Unreachable`.
fn classify<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
    call: &'static str,
    error: SdkError<E>,
) -> FlinkError {
    let (code, message, status) = match &error {
        SdkError::ServiceError(service) => (
            service.err().code().map(str::to_owned),
            service.err().message().map(str::to_owned),
            Some(service.raw().status().as_u16()),
        ),
        _ => (None, None, None),
    };
    let described = match (&code, &message) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.clone(),
        _ => aws_sdk_kinesisanalyticsv2::error::DisplayErrorContext(&error).to_string(),
    };
    match code.as_deref() {
        Some(code) if RETRYABLE_CODES.contains(&code) => unreachable(call, described),
        Some(_) if status.is_some_and(|s| s >= 500) => unreachable(call, described),
        Some(_) => FlinkError::Rejected(format!("{call}: {described}")),
        None => unreachable(call, described),
    }
}

/// `arn:<partition>:s3:::<bucket>`, in the partition of the role's ARN.
fn bucket_arn(role_arn: &str, bucket: &str) -> String {
    let partition = role_arn.split(':').nth(1).unwrap_or("aws");
    format!("arn:{partition}:s3:::{bucket}")
}

impl MsfTarget {
    pub fn new(msf: msf::Client, s3: aws_sdk_s3::Client, config: ManagedTargetConfig) -> Self {
        Self { msf, s3, config }
    }

    /// The clients from the function's AWS configuration (S3 path-style
    /// when an endpoint is overridden, as for moto).
    pub fn from_sdk_config(aws: &aws_config::SdkConfig, config: ManagedTargetConfig) -> Self {
        let s3 = aws_sdk_s3::config::Builder::from(aws)
            .force_path_style(aws.endpoint_url().is_some())
            .build();
        Self::new(
            msf::Client::new(aws),
            aws_sdk_s3::Client::from_conf(s3),
            config,
        )
    }

    fn application_name(&self, job_id: &JobId) -> String {
        format!("{}-{job_id}", self.config.application_prefix)
    }

    fn key(&self, run: &RunRef, file: &str) -> String {
        let prefix = &self.config.script_prefix;
        match run.number {
            1 => format!("{prefix}/{}/{}/{file}", run.job_id, run.run_id),
            n => format!("{prefix}/{}/{}/{n}/{file}", run.job_id, run.run_id),
        }
    }

    /// Where the submission's `file` is, as the runner's properties name it.
    fn location(&self, run: &RunRef, file: &str) -> String {
        format!("s3://{}/{}", self.config.script_bucket, self.key(run, file))
    }

    /// Whether the application was last configured for this submission.
    fn holds(&self, detail: &ApplicationDetail, run: &RunRef) -> bool {
        current_script(detail) == Some(self.location(run, "script.json").as_str())
    }

    /// Whether this submission started the application: it holds it, and
    /// it is up (or on its way down), or its run has reported its end.
    async fn started(&self, detail: &ApplicationDetail, run: &RunRef) -> Result<bool, FlinkError> {
        if !self.holds(detail, run) {
            return Ok(false);
        }
        match &detail.application_status {
            s if is_up(s) => Ok(true),
            ApplicationStatus::Stopping
            | ApplicationStatus::ForceStopping
            | ApplicationStatus::RollingBack => Ok(true),
            _ => Ok(self.read_status(run).await?.is_some()),
        }
    }

    fn properties(&self, run: &RunRef, settings: &SubmitSettings) -> PropertyGroup {
        PropertyGroup::builder()
            .property_group_id(PROPERTY_GROUP)
            .property_map("script.s3", self.location(run, "script.json"))
            .property_map("status.s3", self.location(run, "status.json"))
            .property_map("expect.job", run.job_id.as_str())
            .property_map("expect.run", run.run_id.as_str())
            .property_map("await", settings.batch.to_string())
            .build()
            .expect("id and map are set")
    }

    fn parallelism(settings: &SubmitSettings) -> i32 {
        i32::try_from(settings.parallelism.max(1)).unwrap_or(i32::MAX)
    }

    async fn describe(&self, name: &str) -> Result<Option<ApplicationDetail>, FlinkError> {
        match self
            .msf
            .describe_application()
            .application_name(name)
            .send()
            .await
        {
            Ok(out) => Ok(out.application_detail),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(classify("DescribeApplication", e)),
        }
    }

    async fn create(
        &self,
        name: &str,
        run: &RunRef,
        settings: &SubmitSettings,
    ) -> Result<(), FlinkError> {
        let code = ApplicationCodeConfiguration::builder()
            .code_content_type(CodeContentType::Zipfile)
            .code_content(
                CodeContent::builder()
                    .s3_content_location(
                        S3ContentLocation::builder()
                            .bucket_arn(bucket_arn(
                                &self.config.service_role_arn,
                                &self.config.bucket,
                            ))
                            .file_key(&self.config.runner_jar_key)
                            .build()
                            .expect("bucket and key are set"),
                    )
                    .build(),
            )
            .build()
            .expect("the code type is set");
        let configuration = ApplicationConfiguration::builder()
            .application_code_configuration(code)
            .environment_properties(
                EnvironmentProperties::builder()
                    .property_groups(self.properties(run, settings))
                    .build()
                    .expect("groups are set"),
            )
            .flink_application_configuration(
                FlinkApplicationConfiguration::builder()
                    .parallelism_configuration(
                        ParallelismConfiguration::builder()
                            .configuration_type(ConfigurationType::Custom)
                            .parallelism(Self::parallelism(settings))
                            .parallelism_per_kpu(1)
                            .auto_scaling_enabled(false)
                            .build()
                            .expect("the type is set"),
                    )
                    .build(),
            )
            // Each run starts afresh: nothing to restore, nothing to keep.
            .application_snapshot_configuration(
                ApplicationSnapshotConfiguration::builder()
                    .snapshots_enabled(false)
                    .build()
                    .expect("the flag is set"),
            )
            .build();
        self.msf
            .create_application()
            .application_name(name)
            .application_description(format!("sluice job {}", run.job_id))
            .runtime_environment(RUNTIME)
            .service_execution_role(&self.config.service_role_arn)
            .application_configuration(configuration)
            .send()
            .await
            .map_err(|e| classify("CreateApplication", e))?;
        tracing::info!(application = name, "created the MSF application");
        Ok(())
    }

    async fn update(
        &self,
        name: &str,
        token: Option<String>,
        version: i64,
        run: &RunRef,
        settings: &SubmitSettings,
    ) -> Result<(), FlinkError> {
        let update = ApplicationConfigurationUpdate::builder()
            .environment_property_updates(
                EnvironmentPropertyUpdates::builder()
                    .property_groups(self.properties(run, settings))
                    .build()
                    .expect("groups are set"),
            )
            .flink_application_configuration_update(
                FlinkApplicationConfigurationUpdate::builder()
                    .parallelism_configuration_update(
                        ParallelismConfigurationUpdate::builder()
                            .configuration_type_update(ConfigurationType::Custom)
                            .parallelism_update(Self::parallelism(settings))
                            .parallelism_per_kpu_update(1)
                            .auto_scaling_enabled_update(false)
                            .build(),
                    )
                    .build(),
            )
            // The deployment may have moved to another runner jar.
            .application_code_configuration_update(
                ApplicationCodeConfigurationUpdate::builder()
                    .code_content_type_update(CodeContentType::Zipfile)
                    .code_content_update(
                        CodeContentUpdate::builder()
                            .s3_content_location_update(
                                S3ContentLocationUpdate::builder()
                                    .bucket_arn_update(bucket_arn(
                                        &self.config.service_role_arn,
                                        &self.config.bucket,
                                    ))
                                    .file_key_update(&self.config.runner_jar_key)
                                    .build(),
                            )
                            .build(),
                    )
                    .build(),
            )
            .build();
        let request = self
            .msf
            .update_application()
            .application_name(name)
            .application_configuration_update(update);
        // The token makes the update conditional on the description we
        // read; applications described without one are updated on their
        // version id, the older form of the same condition.
        let request = match token {
            Some(token) => request.conditional_token(token),
            None => request.current_application_version_id(version),
        };
        request
            .send()
            .await
            .map_err(|e| classify("UpdateApplication", e))?;
        Ok(())
    }

    async fn start(&self, name: &str) -> Result<(), FlinkError> {
        self.msf
            .start_application()
            .application_name(name)
            .run_configuration(
                RunConfiguration::builder()
                    .flink_run_configuration(
                        FlinkRunConfiguration::builder()
                            .allow_non_restored_state(true)
                            .build(),
                    )
                    .application_restore_configuration(
                        ApplicationRestoreConfiguration::builder()
                            .application_restore_type(
                                ApplicationRestoreType::SkipRestoreFromSnapshot,
                            )
                            .build()
                            .expect("the type is set"),
                    )
                    .build(),
            )
            .send()
            .await
            .map_err(|e| classify("StartApplication", e))?;
        Ok(())
    }

    async fn stop(&self, name: &str, force: bool) -> Result<(), FlinkError> {
        match self
            .msf
            .stop_application()
            .application_name(name)
            .force(force)
            .send()
            .await
        {
            Ok(_) => {
                tracing::info!(application = name, force, "stopping the MSF application");
                Ok(())
            }
            Err(e) => Err(classify("StopApplication", e)),
        }
    }

    async fn read_status(&self, run: &RunRef) -> Result<Option<RunStatusObject>, FlinkError> {
        let answer = self
            .s3
            .get_object()
            .bucket(&self.config.script_bucket)
            .key(self.key(run, "status.json"))
            .send()
            .await;
        let object = match answer {
            Ok(object) => object,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
            Err(e) => return Err(classify("S3 GetObject (status)", e)),
        };
        if object.content_length().unwrap_or_default() > MAX_STATUS_BYTES as i64 {
            return Err(FlinkError::Rejected(
                "the run's status object is too large".into(),
            ));
        }
        let bytes = object
            .body
            .collect()
            .await
            .map_err(|e| unreachable("S3 GetObject (status)", e.to_string()))?
            .into_bytes();
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| unreachable("S3 GetObject (status)", format!("not a status object: {e}")))
    }

    async fn write_status(&self, run: &RunRef, status: &RunStatusObject) -> Result<(), FlinkError> {
        self.s3
            .put_object()
            .bucket(&self.config.script_bucket)
            .key(self.key(run, "status.json"))
            .content_type("application/json")
            .body(ByteStream::from(
                serde_json::to_vec(status).expect("serializes"),
            ))
            .send()
            .await
            .map_err(|e| classify("S3 PutObject (status)", e))?;
        Ok(())
    }
}

/// The script (`script.s3`) an application was last configured for: it
/// names the run's submission.
fn current_script(detail: &ApplicationDetail) -> Option<&str> {
    detail
        .application_configuration_description()?
        .environment_property_descriptions()?
        .property_group_descriptions()
        .iter()
        .find(|g| g.property_group_id() == PROPERTY_GROUP)?
        .property_map()
        .get("script.s3")
        .map(String::as_str)
}

/// The application's cluster is (or is getting) up.
fn is_up(status: &ApplicationStatus) -> bool {
    matches!(
        status,
        ApplicationStatus::Starting
            | ApplicationStatus::Running
            | ApplicationStatus::Updating
            | ApplicationStatus::Autoscaling
            | ApplicationStatus::Maintenance
    )
}

fn ended(state: &str) -> Option<FlinkJobState> {
    match state {
        "FINISHED" => Some(FlinkJobState::Finished),
        "FAILED" => Some(FlinkJobState::Failed),
        "CANCELED" => Some(FlinkJobState::Canceled),
        _ => None,
    }
}

#[async_trait]
impl FlinkSubmitter for MsfTarget {
    #[tracing::instrument(skip_all, fields(job_id = %submission.job_id, run_id = %submission.run_id, submission = submission.number))]
    async fn submit(
        &self,
        submission: &Submission,
        sealed_script: &str,
        settings: &SubmitSettings,
    ) -> Result<String, FlinkError> {
        let run = RunRef::of(submission);
        let name = self.application_name(&run.job_id);
        let detail = self.describe(&name).await?;
        if let Some(detail) = &detail
            && self.started(detail, &run).await?
        {
            let reference = run.reference();
            tracing::info!(
                application = name,
                reference,
                "this submission started the application already; adopting it"
            );
            return Ok(reference);
        }
        self.s3
            .put_object()
            .bucket(&self.config.script_bucket)
            .key(self.key(&run, "script.json"))
            .content_type("application/json")
            .body(ByteStream::from(sealed_script.as_bytes().to_vec()))
            .send()
            .await
            .map_err(|e| classify("S3 PutObject (script)", e))?;
        match detail {
            None => self.create(&name, &run, settings).await?,
            Some(detail) => match &detail.application_status {
                ApplicationStatus::Ready | ApplicationStatus::RolledBack => {
                    self.update(
                        &name,
                        detail.conditional_token.clone(),
                        detail.application_version_id,
                        &run,
                        settings,
                    )
                    .await?
                }
                other => {
                    return Err(unreachable(
                        "DescribeApplication",
                        format!(
                            "the application {name} is {} (an earlier run still holds it); \
                             it must be READY to start a run",
                            other.as_str()
                        ),
                    ));
                }
            },
        }
        self.start(&name).await?;
        let reference = run.reference();
        tracing::info!(application = name, reference, "started the run on MSF");
        Ok(reference)
    }
}

#[async_trait]
impl FlinkJobs for MsfTarget {
    #[tracing::instrument(skip_all, fields(run_id = %submission.run_id, submission = submission.number))]
    async fn find(&self, submission: &Submission) -> Result<Option<String>, FlinkError> {
        let run = RunRef::of(submission);
        let Some(detail) = self.describe(&self.application_name(&run.job_id)).await? else {
            return Ok(None);
        };
        Ok(self.started(&detail, &run).await?.then(|| run.reference()))
    }

    #[tracing::instrument(skip(self))]
    async fn status(&self, reference: &str) -> Result<FlinkJobStatus, FlinkError> {
        let run = RunRef::parse(reference).ok_or(FlinkError::UnknownJob)?;
        let name = self.application_name(&run.job_id);
        let report = self.read_status(&run).await?;
        let detail = self.describe(&name).await?;
        let holds_run = detail.as_ref().is_some_and(|d| self.holds(d, &run));
        let status = |state, failure| FlinkJobStatus {
            state,
            rows_read: None,
            rows_written: None,
            failure,
            tables: Vec::new(),
        };
        if let Some(report) = report
            && let Some(state) = ended(&report.state)
        {
            // The job has ended: MSF keeps the application (and the bill)
            // running until it is stopped.
            if let Some(detail) = &detail
                && holds_run
                && is_up(&detail.application_status)
            {
                self.stop(&name, false).await?;
            }
            let failure = (state == FlinkJobState::Failed).then(|| {
                report
                    .failure
                    .clone()
                    .unwrap_or_else(|| "the Flink job failed".into())
            });
            return Ok(status(state, failure));
        }
        let Some(detail) = detail else {
            return Err(FlinkError::UnknownJob);
        };
        if !holds_run {
            return Err(FlinkError::UnknownJob);
        }
        Ok(match &detail.application_status {
            s if is_up(s) => status(FlinkJobState::InProgress, None),
            ApplicationStatus::Stopping
            | ApplicationStatus::ForceStopping
            | ApplicationStatus::RollingBack => status(FlinkJobState::InProgress, None),
            ApplicationStatus::Deleting => return Err(FlinkError::UnknownJob),
            other => status(
                FlinkJobState::Failed,
                Some(format!(
                    "the MSF application {name} is {} and its run reported no result \
                     (see the application's logs)",
                    other.as_str()
                )),
            ),
        })
    }

    /// Records the run as canceled (the status object) and force-stops the
    /// application while it runs this run. A run that already ended is left
    /// as it ended.
    #[tracing::instrument(skip(self))]
    async fn cancel(&self, reference: &str) -> Result<(), FlinkError> {
        let run = RunRef::parse(reference).ok_or(FlinkError::UnknownJob)?;
        let name = self.application_name(&run.job_id);
        let report = self.read_status(&run).await?;
        if report.is_none_or(|r| ended(&r.state).is_none()) {
            self.write_status(
                &run,
                &RunStatusObject {
                    v: 1,
                    state: "CANCELED".into(),
                    flink_job_id: None,
                    failure: None,
                },
            )
            .await?;
        }
        match self.describe(&name).await? {
            None => Err(FlinkError::UnknownJob),
            Some(detail) if self.holds(&detail, &run) && is_up(&detail.application_status) => {
                self.stop(&name, true).await
            }
            Some(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    //! Every request the adapter makes, checked field by field through the
    //! SDK's own test tooling (`aws-smithy-mocks`): moto has no MSF.

    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use aws_sdk_kinesisanalyticsv2::Client as Msf;
    use aws_sdk_kinesisanalyticsv2::config::retry::RetryConfig;
    use aws_sdk_kinesisanalyticsv2::operation::create_application::{
        CreateApplicationInput, CreateApplicationOutput,
    };
    use aws_sdk_kinesisanalyticsv2::operation::describe_application::{
        DescribeApplicationError, DescribeApplicationOutput,
    };
    use aws_sdk_kinesisanalyticsv2::operation::start_application::{
        StartApplicationInput, StartApplicationOutput,
    };
    use aws_sdk_kinesisanalyticsv2::operation::stop_application::{
        StopApplicationInput, StopApplicationOutput,
    };
    use aws_sdk_kinesisanalyticsv2::operation::update_application::{
        UpdateApplicationInput, UpdateApplicationOutput,
    };
    use aws_sdk_kinesisanalyticsv2::types::error::ResourceNotFoundException;
    use aws_sdk_kinesisanalyticsv2::types::{
        ApplicationConfigurationDescription, EnvironmentPropertyDescriptions,
    };
    use aws_sdk_s3::Client as S3;
    use aws_sdk_s3::operation::get_object::{GetObjectError, GetObjectOutput};
    use aws_sdk_s3::operation::put_object::{PutObjectInput, PutObjectOutput};
    use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
    use serde_json::json;

    use super::*;

    const JOB: &str = "job_01JABCDEFGHJKMNPQRSTVWXYZ0";
    const RUN: &str = "run_01JABCDEFGHJKMNPQRSTVWXYZ1";
    const ROLE: &str = "arn:aws:iam::123456789012:role/sluice-msf";
    const APP: &str = "sluice-job_01JABCDEFGHJKMNPQRSTVWXYZ0";
    const ENVELOPE: &str = r#"{"v":1,"sealed":"..."}"#;
    const THROTTLED: &str = r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#;

    fn config() -> ManagedTargetConfig {
        ManagedTargetConfig {
            bucket: "sluice-artifacts".into(),
            runner_jar_key: "runner/flink-sql-runner-0.1.0.jar".into(),
            service_role_arn: ROLE.into(),
            application_prefix: "sluice".into(),
            script_bucket: "sluice-scripts".into(),
            script_prefix: "sluice/runs".into(),
        }
    }

    fn job() -> JobId {
        JobId::parse(JOB).unwrap()
    }

    fn run() -> RunId {
        RunId::parse(RUN).unwrap()
    }

    fn reference() -> String {
        format!("msf:{JOB}:{RUN}")
    }

    /// The run's first submission.
    fn submission() -> Submission {
        Submission {
            job_id: job(),
            run_id: run(),
            number: 1,
        }
    }

    const BATCH: SubmitSettings = SubmitSettings {
        parallelism: 3,
        batch: true,
    };

    /// Requests a rule saw, for field-by-field assertions.
    type Seen<T> = Arc<Mutex<Vec<T>>>;

    fn seen<T>() -> Seen<T> {
        Arc::new(Mutex::new(Vec::new()))
    }

    fn msf_client(rules: &[&Rule]) -> Msf {
        mock_client!(
            aws_sdk_kinesisanalyticsv2,
            RuleMode::Sequential,
            rules,
            |c| c.retry_config(
                RetryConfig::standard()
                    .with_max_attempts(3)
                    .with_initial_backoff(Duration::from_millis(1))
            )
        )
    }

    fn s3_client(rules: &[&Rule]) -> S3 {
        mock_client!(aws_sdk_s3, RuleMode::MatchAny, rules)
    }

    /// The application, last configured for the first submission of
    /// `current_run`.
    fn detail(status: ApplicationStatus, current_run: Option<&str>) -> ApplicationDetail {
        detail_of(
            status,
            current_run.map(|run| format!("sluice/runs/{JOB}/{run}/script.json")),
        )
    }

    /// The application, last configured for the script at `script_key`.
    fn detail_of(status: ApplicationStatus, script_key: Option<String>) -> ApplicationDetail {
        let mut groups = Vec::new();
        if let Some(key) = script_key {
            groups.push(
                PropertyGroup::builder()
                    .property_group_id(PROPERTY_GROUP)
                    .property_map("script.s3", format!("s3://sluice-scripts/{key}"))
                    .build()
                    .unwrap(),
            );
        }
        ApplicationDetail::builder()
            .application_arn(format!(
                "arn:aws:kinesisanalytics:us-east-1:123456789012:application/{APP}"
            ))
            .application_name(APP)
            .runtime_environment(RuntimeEnvironment::Flink22)
            .application_status(status)
            .application_version_id(7)
            .conditional_token("token-of-version-7")
            .application_configuration_description(
                ApplicationConfigurationDescription::builder()
                    .environment_property_descriptions(
                        EnvironmentPropertyDescriptions::builder()
                            .set_property_group_descriptions(Some(groups))
                            .build(),
                    )
                    .build(),
            )
            .build()
            .unwrap()
    }

    fn describe_returns(detail: ApplicationDetail) -> Rule {
        mock!(Msf::describe_application)
            .match_requests(|r| r.application_name() == Some(APP))
            .then_output(move || {
                DescribeApplicationOutput::builder()
                    .application_detail(detail.clone())
                    .build()
            })
    }

    fn describe_not_found() -> Rule {
        mock!(Msf::describe_application).then_error(|| {
            DescribeApplicationError::ResourceNotFoundException(
                ResourceNotFoundException::builder()
                    .message("Application sluice-job_... not found")
                    .build(),
            )
        })
    }

    fn start_ok(requests: &Seen<StartApplicationInput>) -> Rule {
        let requests = requests.clone();
        mock!(Msf::start_application).then_compute_output(move |r| {
            requests.lock().unwrap().push(r.clone());
            StartApplicationOutput::builder().build()
        })
    }

    fn stop_ok(requests: &Seen<StopApplicationInput>) -> Rule {
        let requests = requests.clone();
        mock!(Msf::stop_application).then_compute_output(move |r| {
            requests.lock().unwrap().push(r.clone());
            StopApplicationOutput::builder().build()
        })
    }

    /// What a PutObject carried (its input holds a stream, not `Clone`).
    #[derive(Debug)]
    struct Put {
        bucket: Option<String>,
        key: Option<String>,
        content_type: Option<String>,
        body: Vec<u8>,
    }

    fn put_ok(requests: &Seen<Put>) -> Rule {
        let requests = requests.clone();
        mock!(S3::put_object).then_compute_output(move |r: &PutObjectInput| {
            requests.lock().unwrap().push(Put {
                bucket: r.bucket().map(str::to_owned),
                key: r.key().map(str::to_owned),
                content_type: r.content_type().map(str::to_owned),
                body: r.body().bytes().expect("an in-memory body").to_vec(),
            });
            PutObjectOutput::builder().build()
        })
    }

    fn status_object(json: &'static str) -> Rule {
        mock!(S3::get_object)
            .match_requests(|r| {
                r.bucket() == Some("sluice-scripts")
                    && r.key() == Some(&format!("sluice/runs/{JOB}/{RUN}/status.json"))
            })
            .then_output(move || {
                GetObjectOutput::builder()
                    .content_length(json.len() as i64)
                    .body(ByteStream::from_static(json.as_bytes()))
                    .build()
            })
    }

    fn no_status_object() -> Rule {
        mock!(S3::get_object).then_error(|| {
            GetObjectError::NoSuchKey(aws_sdk_s3::types::error::NoSuchKey::builder().build())
        })
    }

    fn target(msf: Msf, s3: S3) -> MsfTarget {
        MsfTarget::new(msf, s3, config())
    }

    fn properties() -> Vec<(&'static str, String)> {
        vec![
            ("await", "true".into()),
            ("expect.job", JOB.into()),
            ("expect.run", RUN.into()),
            (
                "script.s3",
                format!("s3://sluice-scripts/sluice/runs/{JOB}/{RUN}/script.json"),
            ),
            (
                "status.s3",
                format!("s3://sluice-scripts/sluice/runs/{JOB}/{RUN}/status.json"),
            ),
        ]
    }

    fn sorted(map: &HashMap<String, String>) -> Vec<(&str, String)> {
        let mut entries: Vec<(&str, String)> =
            map.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        entries.sort_unstable();
        entries
    }

    fn assert_started_afresh(start: &StartApplicationInput) {
        assert_eq!(start.application_name(), Some(APP));
        let run = start.run_configuration().expect("a run configuration");
        assert_eq!(
            run.application_restore_configuration()
                .map(|r| r.application_restore_type()),
            Some(&ApplicationRestoreType::SkipRestoreFromSnapshot)
        );
        assert_eq!(
            run.flink_run_configuration()
                .and_then(|f| f.allow_non_restored_state()),
            Some(true)
        );
    }

    #[tokio::test]
    async fn the_first_run_puts_the_script_creates_the_application_and_starts_it() {
        let puts = seen();
        let creates: Seen<CreateApplicationInput> = seen();
        let starts = seen();
        let create = {
            let creates = creates.clone();
            mock!(Msf::create_application).then_compute_output(move |r| {
                creates.lock().unwrap().push(r.clone());
                CreateApplicationOutput::builder().build()
            })
        };
        let (describe, start, put) = (describe_not_found(), start_ok(&starts), put_ok(&puts));
        let target = target(
            msf_client(&[&describe, &create, &start]),
            s3_client(&[&put]),
        );

        let reference = target
            .submit(&submission(), ENVELOPE, &BATCH)
            .await
            .unwrap();
        assert_eq!(reference, reference_of_run());

        let puts = puts.lock().unwrap();
        assert_eq!(puts.len(), 1);
        assert_eq!(puts[0].bucket.as_deref(), Some("sluice-scripts"));
        assert_eq!(
            puts[0].key.as_deref(),
            Some(format!("sluice/runs/{JOB}/{RUN}/script.json").as_str())
        );
        assert_eq!(puts[0].content_type.as_deref(), Some("application/json"));
        assert_eq!(puts[0].body, ENVELOPE.as_bytes());

        let creates = creates.lock().unwrap();
        assert_eq!(creates.len(), 1);
        let c = &creates[0];
        assert_eq!(c.application_name(), Some(APP));
        assert_eq!(c.runtime_environment(), Some(&RuntimeEnvironment::Flink22));
        assert_eq!(c.runtime_environment().unwrap().as_str(), "FLINK-2_2");
        assert_eq!(c.service_execution_role(), Some(ROLE));
        assert_eq!(
            c.application_description(),
            Some(format!("sluice job {JOB}").as_str())
        );
        let conf = c.application_configuration().unwrap();
        let code = conf.application_code_configuration().unwrap();
        assert_eq!(code.code_content_type(), &CodeContentType::Zipfile);
        let location = code
            .code_content()
            .and_then(|c| c.s3_content_location())
            .unwrap();
        assert_eq!(location.bucket_arn(), "arn:aws:s3:::sluice-artifacts");
        assert_eq!(location.file_key(), "runner/flink-sql-runner-0.1.0.jar");
        let groups = conf.environment_properties().unwrap().property_groups();
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].property_group_id(), "sluice");
        assert_eq!(sorted(groups[0].property_map()), properties());
        let parallelism = conf
            .flink_application_configuration()
            .and_then(|f| f.parallelism_configuration())
            .unwrap();
        assert_eq!(parallelism.configuration_type(), &ConfigurationType::Custom);
        assert_eq!(parallelism.parallelism(), Some(3));
        assert_eq!(parallelism.parallelism_per_kpu(), Some(1));
        assert_eq!(parallelism.auto_scaling_enabled(), Some(false));
        assert!(
            !conf
                .application_snapshot_configuration()
                .unwrap()
                .snapshots_enabled()
        );

        assert_started_afresh(&starts.lock().unwrap()[0]);
        assert_eq!(
            (describe.num_calls(), create.num_calls(), start.num_calls()),
            (1, 1, 1)
        );
    }

    fn reference_of_run() -> String {
        reference()
    }

    #[tokio::test]
    async fn a_later_run_updates_the_application_with_its_token_then_starts_it() {
        let updates: Seen<UpdateApplicationInput> = seen();
        let (puts, starts) = (seen(), seen());
        let update = {
            let updates = updates.clone();
            mock!(Msf::update_application).then_compute_output(move |r| {
                updates.lock().unwrap().push(r.clone());
                UpdateApplicationOutput::builder().build()
            })
        };
        let describe = describe_returns(detail(ApplicationStatus::Ready, Some("run_older")));
        let (start, put) = (start_ok(&starts), put_ok(&puts));
        let streaming = SubmitSettings {
            parallelism: 2,
            batch: false,
        };
        let target = target(
            msf_client(&[&describe, &update, &start]),
            s3_client(&[&put]),
        );
        target
            .submit(&submission(), ENVELOPE, &streaming)
            .await
            .unwrap();

        let updates = updates.lock().unwrap();
        assert_eq!(updates.len(), 1);
        let u = &updates[0];
        assert_eq!(u.application_name(), Some(APP));
        assert_eq!(u.conditional_token(), Some("token-of-version-7"));
        // One condition, not two: the token replaces the version id.
        assert_eq!(u.current_application_version_id(), None);
        assert_eq!(u.service_execution_role_update(), None);
        let conf = u.application_configuration_update().unwrap();
        let groups = conf
            .environment_property_updates()
            .unwrap()
            .property_groups();
        assert_eq!(groups.len(), 1);
        let mut expected = properties();
        expected[0].1 = "false".into();
        assert_eq!(sorted(groups[0].property_map()), expected);
        let parallelism = conf
            .flink_application_configuration_update()
            .and_then(|f| f.parallelism_configuration_update())
            .unwrap();
        assert_eq!(
            parallelism.configuration_type_update(),
            Some(&ConfigurationType::Custom)
        );
        assert_eq!(parallelism.parallelism_update(), Some(2));
        assert_eq!(parallelism.auto_scaling_enabled_update(), Some(false));
        let code = conf
            .application_code_configuration_update()
            .and_then(|c| c.code_content_update())
            .and_then(|c| c.s3_content_location_update())
            .unwrap();
        assert_eq!(
            code.bucket_arn_update(),
            Some("arn:aws:s3:::sluice-artifacts")
        );
        assert_eq!(
            code.file_key_update(),
            Some("runner/flink-sql-runner-0.1.0.jar")
        );
        assert_started_afresh(&starts.lock().unwrap()[0]);
    }

    #[tokio::test]
    async fn an_application_an_earlier_run_holds_is_busy_and_left_alone() {
        for status in [
            ApplicationStatus::Running,
            ApplicationStatus::Starting,
            ApplicationStatus::Updating,
            ApplicationStatus::Stopping,
        ] {
            let (puts, starts) = (seen(), seen());
            let describe = describe_returns(detail(status.clone(), Some("run_older")));
            let update = mock!(Msf::update_application)
                .then_output(|| UpdateApplicationOutput::builder().build());
            let (start, put) = (start_ok(&starts), put_ok(&puts));
            let target = target(
                msf_client(&[&describe, &update, &start]),
                s3_client(&[&put]),
            );
            let error = target
                .submit(&submission(), ENVELOPE, &BATCH)
                .await
                .unwrap_err();
            let FlinkError::Unreachable(cause) = error else {
                panic!("{status:?}: a busy application is retryable, got {error:?}");
            };
            assert!(cause.to_string().contains(status.as_str()), "{cause}");
            assert_eq!(
                (update.num_calls(), start.num_calls()),
                (0, 0),
                "{status:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_submission_made_again_adopts_the_application_it_started() {
        // Its StartApplication went through but the answer was lost: the
        // application is up for this very submission.
        for status in [ApplicationStatus::Starting, ApplicationStatus::Running] {
            let describe = describe_returns(detail(status.clone(), Some(RUN)));
            let update = mock!(Msf::update_application)
                .then_output(|| UpdateApplicationOutput::builder().build());
            let (start, put) = (start_ok(&seen()), put_ok(&seen()));
            let target_ = target(
                msf_client(&[&describe, &update, &start]),
                s3_client(&[&put]),
            );
            let reference = target_
                .submit(&submission(), ENVELOPE, &BATCH)
                .await
                .unwrap();
            assert_eq!(reference, reference_of_run(), "{status:?}");
            assert_eq!(
                (put.num_calls(), update.num_calls(), start.num_calls()),
                (0, 0, 0),
                "{status:?}: nothing started again"
            );
        }

        // It ran and ended already: adopted too, the reconciler reads its end.
        let describe = describe_returns(detail(ApplicationStatus::Ready, Some(RUN)));
        let start = start_ok(&seen());
        let object = status_object(r#"{"v":1,"state":"FINISHED"}"#);
        let target_ = target(msf_client(&[&describe, &start]), s3_client(&[&object]));
        let reference = target_
            .submit(&submission(), ENVELOPE, &BATCH)
            .await
            .unwrap();
        assert_eq!(reference, reference_of_run());
        assert_eq!(start.num_calls(), 0);

        // Configured for it but never started (no report): started now.
        let describe = describe_returns(detail(ApplicationStatus::Ready, Some(RUN)));
        let update = mock!(Msf::update_application)
            .then_output(|| UpdateApplicationOutput::builder().build());
        let (start, put, missing) = (start_ok(&seen()), put_ok(&seen()), no_status_object());
        let target_ = target(
            msf_client(&[&describe, &update, &start]),
            s3_client(&[&missing, &put]),
        );
        target_
            .submit(&submission(), ENVELOPE, &BATCH)
            .await
            .unwrap();
        assert_eq!((update.num_calls(), start.num_calls()), (1, 1));
    }

    #[tokio::test]
    async fn find_names_the_application_this_submission_started() {
        let cases = [
            (detail(ApplicationStatus::Running, Some(RUN)), true),
            (detail(ApplicationStatus::Stopping, Some(RUN)), true),
            (detail(ApplicationStatus::Running, Some("run_older")), false),
            (detail(ApplicationStatus::Ready, Some(RUN)), false),
        ];
        for (detail, found) in cases {
            let status = detail.application_status.clone();
            let describe = describe_returns(detail);
            let missing = no_status_object();
            let target_ = target(msf_client(&[&describe]), s3_client(&[&missing]));
            assert_eq!(
                target_.find(&submission()).await.unwrap(),
                found.then(reference_of_run),
                "{status:?}"
            );
        }
        let describe = describe_not_found();
        let target_ = target(msf_client(&[&describe]), s3_client(&[]));
        assert_eq!(target_.find(&submission()).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_next_attempt_is_a_submission_with_its_own_script_and_status() {
        // The first job of the run failed and reported so; the application
        // is stopped, still configured for it.
        let second = Submission {
            number: 2,
            ..submission()
        };
        let updates: Seen<UpdateApplicationInput> = seen();
        let update = {
            let updates = updates.clone();
            mock!(Msf::update_application).then_compute_output(move |r| {
                updates.lock().unwrap().push(r.clone());
                UpdateApplicationOutput::builder().build()
            })
        };
        let describe = describe_returns(detail(ApplicationStatus::Ready, Some(RUN)));
        let (puts, starts) = (seen(), seen());
        let (start, put) = (start_ok(&starts), put_ok(&puts));
        let earlier = status_object(r#"{"v":1,"state":"FAILED","failure":"boom"}"#);
        let target_ = target(
            msf_client(&[&describe, &update, &start]),
            s3_client(&[&earlier, &put]),
        );
        let reference = target_.submit(&second, ENVELOPE, &BATCH).await.unwrap();
        assert_eq!(reference, format!("msf:{JOB}:{RUN}:2"));
        assert_eq!(
            puts.lock().unwrap()[0].key.as_deref(),
            Some(format!("sluice/runs/{JOB}/{RUN}/2/script.json").as_str())
        );
        {
            let updates = updates.lock().unwrap();
            let groups = updates[0]
                .application_configuration_update()
                .and_then(|c| c.environment_property_updates())
                .unwrap()
                .property_groups();
            let properties = groups[0].property_map();
            assert_eq!(
                properties["status.s3"],
                format!("s3://sluice-scripts/sluice/runs/{JOB}/{RUN}/2/status.json")
            );
        }
        assert_eq!(starts.lock().unwrap().len(), 1);

        // Its status is its own: the earlier job's report is not read.
        let describe = describe_returns(detail_of(
            ApplicationStatus::Running,
            Some(format!("sluice/runs/{JOB}/{RUN}/2/script.json")),
        ));
        let (earlier, missing) = (
            status_object(r#"{"v":1,"state":"FAILED","failure":"boom"}"#),
            no_status_object(),
        );
        let target_ = target(msf_client(&[&describe]), s3_client(&[&earlier, &missing]));
        let status = target_.status(&reference).await.unwrap();
        assert_eq!(status.state, FlinkJobState::InProgress);
        assert_eq!(earlier.num_calls(), 0);
    }

    #[tokio::test]
    async fn msf_refusals_are_final_and_a_state_race_is_retryable() {
        // Errors as MSF sends them (JSON 1.1: `__type` and `message`), so
        // the SDK's own deserializer makes the modeled errors.
        let wire = |code: &str, message: &str| {
            Some(json!({"__type": code, "message": message}).to_string())
        };
        // UpdateApplication in a wrong state (it moved since the describe).
        let in_use = mock!(Msf::update_application)
            .sequence()
            .http_status(
                400,
                wire("ResourceInUseException", "Application is in RUNNING state"),
            )
            .build();
        let describe = describe_returns(detail(ApplicationStatus::Ready, None));
        let put = put_ok(&seen());
        let target_ = target(msf_client(&[&describe, &in_use]), s3_client(&[&put]));
        let error = target_
            .submit(&submission(), ENVELOPE, &BATCH)
            .await
            .unwrap_err();
        let FlinkError::Unreachable(cause) = error else {
            panic!("a state race is retryable, got {error:?}");
        };
        assert!(
            cause.to_string().contains("ResourceInUseException"),
            "{cause}"
        );
        // The SDK does not retry it: one call, the delivery is retried instead.
        assert_eq!(in_use.num_calls(), 1);

        // A configuration MSF refuses: no redelivery can fix it.
        let invalid = mock!(Msf::update_application)
            .sequence()
            .http_status(
                400,
                wire(
                    "InvalidApplicationConfigurationException",
                    "Parallelism exceeds the account limit",
                ),
            )
            .build();
        let describe = describe_returns(detail(ApplicationStatus::Ready, None));
        let put = put_ok(&seen());
        let target_ = target(msf_client(&[&describe, &invalid]), s3_client(&[&put]));
        let error = target_
            .submit(&submission(), ENVELOPE, &BATCH)
            .await
            .unwrap_err();
        let FlinkError::Rejected(reason) = error else {
            panic!("expected a rejection, got {error:?}");
        };
        assert_eq!(
            reason,
            "UpdateApplication: InvalidApplicationConfigurationException: Parallelism exceeds the account limit"
        );

        // StartApplication refusing the application.
        let describe = describe_returns(detail(ApplicationStatus::Ready, None));
        let update = mock!(Msf::update_application)
            .then_output(|| UpdateApplicationOutput::builder().build());
        let start = mock!(Msf::start_application)
            .sequence()
            .http_status(
                400,
                wire(
                    "InvalidApplicationConfigurationException",
                    "The runner jar is not a valid application",
                ),
            )
            .build();
        let put = put_ok(&seen());
        let target_ = target(
            msf_client(&[&describe, &update, &start]),
            s3_client(&[&put]),
        );
        let error = target_
            .submit(&submission(), ENVELOPE, &BATCH)
            .await
            .unwrap_err();
        assert!(
            matches!(&error, FlinkError::Rejected(r) if r.starts_with("StartApplication: InvalidApplicationConfigurationException")),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn throttling_is_retried_by_the_sdk_and_what_remains_of_it_is_retryable() {
        // Throttled twice, then answered: the SDK's standard retry.
        let describe = mock!(Msf::describe_application)
            .sequence()
            .http_status(400, Some(THROTTLED.into()))
            .times(2)
            .output(|| {
                DescribeApplicationOutput::builder()
                    .application_detail(detail(ApplicationStatus::Ready, None))
                    .build()
            })
            .build();
        let update = mock!(Msf::update_application)
            .then_output(|| UpdateApplicationOutput::builder().build());
        let starts = seen();
        let (start, put) = (start_ok(&starts), put_ok(&seen()));
        let target_ = target(
            msf_client(&[&describe, &update, &start]),
            s3_client(&[&put]),
        );
        target_
            .submit(&submission(), ENVELOPE, &BATCH)
            .await
            .unwrap();
        assert_eq!(describe.num_calls(), 3);

        // Throttled on every attempt: the delivery fails retryably.
        let describe = mock!(Msf::describe_application)
            .sequence()
            .http_status(400, Some(THROTTLED.into()))
            .repeatedly()
            .build();
        let put = put_ok(&seen());
        let target_ = target(msf_client(&[&describe]), s3_client(&[&put]));
        let error = target_
            .submit(&submission(), ENVELOPE, &BATCH)
            .await
            .unwrap_err();
        let FlinkError::Unreachable(cause) = error else {
            panic!("expected a retryable failure, got {error:?}");
        };
        assert!(cause.to_string().contains("ThrottlingException"), "{cause}");
        assert_eq!(describe.num_calls(), 3);
    }

    #[tokio::test]
    async fn a_finished_batch_job_stops_its_application_before_it_is_reported() {
        let stops = seen();
        let describe = describe_returns(detail(ApplicationStatus::Running, Some(RUN)));
        let stop = stop_ok(&stops);
        let object = status_object(r#"{"v":1,"state":"FINISHED","flink_job_id":"a1b2c3"}"#);
        let target_ = target(msf_client(&[&describe, &stop]), s3_client(&[&object]));
        let status = target_.status(&reference()).await.unwrap();
        assert_eq!(status.state, FlinkJobState::Finished);
        assert_eq!(status.failure, None);
        let stops = stops.lock().unwrap();
        assert_eq!(stops.len(), 1);
        assert_eq!(stops[0].application_name(), Some(APP));
        assert_eq!(stops[0].force(), Some(false));
    }

    #[tokio::test]
    async fn a_failed_stop_keeps_the_run_followed() {
        // The application must not stay up billing: the end is reported
        // only once the stop went through.
        let describe = describe_returns(detail(ApplicationStatus::Running, Some(RUN)));
        let stop = mock!(Msf::stop_application)
            .sequence()
            .http_status(400, Some(THROTTLED.into()))
            .repeatedly()
            .build();
        let object = status_object(r#"{"v":1,"state":"FINISHED"}"#);
        let target_ = target(msf_client(&[&describe, &stop]), s3_client(&[&object]));
        let error = target_.status(&reference()).await.unwrap_err();
        assert!(matches!(error, FlinkError::Unreachable(_)), "{error:?}");
    }

    #[tokio::test]
    async fn an_ended_run_on_a_stopped_or_reused_application_needs_no_stop() {
        for detail in [
            detail(ApplicationStatus::Ready, Some(RUN)),
            detail(ApplicationStatus::Stopping, Some(RUN)),
            detail(ApplicationStatus::Running, Some("run_newer")),
        ] {
            let describe = describe_returns(detail);
            let stop = stop_ok(&seen());
            let object = status_object(
                r#"{"v":1,"state":"FAILED","failure":"SQLException: Access denied for user"}"#,
            );
            let target_ = target(msf_client(&[&describe, &stop]), s3_client(&[&object]));
            let status = target_.status(&reference()).await.unwrap();
            assert_eq!(status.state, FlinkJobState::Failed);
            assert_eq!(
                status.failure.as_deref(),
                Some("SQLException: Access denied for user")
            );
            assert_eq!(stop.num_calls(), 0);
        }
    }

    #[tokio::test]
    async fn without_a_report_the_application_tells() {
        let cases = [
            (
                ApplicationStatus::Starting,
                Some(RUN),
                Ok(FlinkJobState::InProgress),
            ),
            (
                ApplicationStatus::Running,
                Some(RUN),
                Ok(FlinkJobState::InProgress),
            ),
            (
                ApplicationStatus::Ready,
                Some(RUN),
                Ok(FlinkJobState::Failed),
            ),
            (ApplicationStatus::Running, Some("run_newer"), Err(())),
        ];
        for (status, holder, expected) in cases {
            let describe = describe_returns(detail(status.clone(), holder));
            let stop = stop_ok(&seen());
            let missing = no_status_object();
            let target_ = target(msf_client(&[&describe, &stop]), s3_client(&[&missing]));
            let got = target_.status(&reference()).await;
            match expected {
                Ok(state) => assert_eq!(got.unwrap().state, state, "{status:?}"),
                Err(()) => assert!(matches!(got, Err(FlinkError::UnknownJob)), "{status:?}"),
            }
            assert_eq!(stop.num_calls(), 0);
        }
        let missing = no_status_object();
        let describe = describe_not_found();
        let target_ = target(msf_client(&[&describe]), s3_client(&[&missing]));
        assert!(matches!(
            target_.status(&reference()).await,
            Err(FlinkError::UnknownJob)
        ));
        // Not a reference of this target: nothing is asked.
        let target_ = target(msf_client(&[]), s3_client(&[]));
        for bad in [
            "c4390a7ccce0ea641798d21de69b45c9",
            "msf:job_x:run_y",
            "msf:a:b:c",
        ] {
            assert!(matches!(
                target_.status(bad).await,
                Err(FlinkError::UnknownJob)
            ));
        }
    }

    #[tokio::test]
    async fn cancel_records_the_run_canceled_and_force_stops_its_application() {
        let (puts, stops) = (seen(), seen());
        let describe = describe_returns(detail(ApplicationStatus::Running, Some(RUN)));
        let stop = stop_ok(&stops);
        let (missing, put) = (no_status_object(), put_ok(&puts));
        let target_ = target(
            msf_client(&[&describe, &stop]),
            s3_client(&[&missing, &put]),
        );
        target_.cancel(&reference()).await.unwrap();
        {
            let puts = puts.lock().unwrap();
            assert_eq!(
                puts[0].key.as_deref(),
                Some(format!("sluice/runs/{JOB}/{RUN}/status.json").as_str())
            );
            let written: RunStatusObject = serde_json::from_slice(&puts[0].body).unwrap();
            assert_eq!(written.state, "CANCELED");
            assert_eq!(stops.lock().unwrap()[0].force(), Some(true));
        }

        // An application already running a newer run is not stopped.
        let describe = describe_returns(detail(ApplicationStatus::Running, Some("run_newer")));
        let stop = stop_ok(&seen());
        let (missing, put) = (no_status_object(), put_ok(&seen()));
        let target_ = target(
            msf_client(&[&describe, &stop]),
            s3_client(&[&missing, &put]),
        );
        target_.cancel(&reference()).await.unwrap();
        assert_eq!(stop.num_calls(), 0);
    }

    #[test]
    fn references_round_trip() {
        let r = RunRef {
            job_id: job(),
            run_id: run(),
            number: 1,
        };
        assert_eq!(
            r.reference(),
            reference(),
            "as before submissions had numbers"
        );
        assert_eq!(RunRef::parse(&r.reference()), Some(r.clone()));
        let second = RunRef { number: 2, ..r };
        assert_eq!(second.reference(), format!("{}:2", reference()));
        assert_eq!(RunRef::parse(&second.reference()), Some(second));
        for bad in ["0", "1", "x", "2:3"] {
            assert_eq!(
                RunRef::parse(&format!("{}:{bad}", reference())),
                None,
                "{bad}"
            );
        }
        assert_eq!(
            bucket_arn("arn:aws-cn:iam::1:role/r", "b"),
            "arn:aws-cn:s3:::b"
        );
    }
}
