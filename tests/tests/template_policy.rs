//! The SAM template (`infra/template.yaml`) keeps its least-privilege rules.
//!
//! The template is read as YAML (`serde_yaml_ng` keeps CloudFormation's
//! short-form tags: `!Ref`, `!Sub`, `!GetAtt`, `!If`, ... become their long
//! forms) and checked rule by rule:
//! - each function has a role of its own, built by cargo lambda for
//!   `provided.al2023` on the `Architecture` parameter (default x86_64);
//! - no `*` in any allowed action, no `*` resource in a function's role;
//! - KMS use is granted by the key policy alone: `kms:Decrypt` only to the
//!   trigger, the discovery function (source secrets) and the Flink runners, `kms:GenerateDataKey` only to the sources
//!   function and the trigger, each bound to the encryption context of its
//!   purpose; the account's own statement administers without using the key;
//! - DynamoDB actions per function are exactly those its code calls, on the
//!   table and the indexes it queries;
//! - only the trigger is invoked (by the jobs function, the reconciler and the
//!   scheduler's role), and the discovery function by the sources, jobs,
//!   trigger and reconciler functions; Scheduler actions only on the tenants' groups; PassRole
//!   only of the scheduler's and the runner's roles, to their services; S3
//!   only on the managed runs' objects (not by the jobs function, which cancels
//!   through the trigger), the runner jar read by the runner alone; MSF only
//!   for the trigger, the reconciler and the runners;
//! - the header tenant mode cannot be switched on from the template;
//! - data at rest and in transit is protected (PITR, SSE, TTL, bucket policy);
//! - the HTTP API routes exactly the documented operations (infra/openapi.json)
//!   to the functions that serve them, behind the JWT authorizer.
//!
//! Every rule is also run on a copy of the template broken on purpose, so a
//! rule that can no longer fail fails its own test. Needs no stack.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_json::{Map, Value, json};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

// ------------------------------------------------------------------ reading

/// YAML with CloudFormation tags -> JSON in CloudFormation's long form.
fn long_form(value: serde_yaml_ng::Value) -> Value {
    use serde_yaml_ng::Value as Y;
    match value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => serde_json::to_value(&n).expect("a YAML number is a JSON number"),
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(long_form).collect()),
        Y::Mapping(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let key = match k {
                        Y::String(s) => s,
                        other => serde_yaml_ng::to_string(&other).unwrap().trim().to_owned(),
                    };
                    (key, long_form(v))
                })
                .collect(),
        ),
        Y::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!');
            let inner = long_form(tagged.value);
            match name {
                "Ref" | "Condition" => json!({ name: inner }),
                "GetAtt" => match inner {
                    Value::String(s) => {
                        let (resource, attribute) = s.split_once('.').expect("!GetAtt A.B");
                        json!({ "Fn::GetAtt": [resource, attribute] })
                    }
                    other => json!({ "Fn::GetAtt": other }),
                },
                _ => json!({ format!("Fn::{name}"): inner }),
            }
        }
    }
}

fn parse(text: &str) -> Value {
    long_form(serde_yaml_ng::from_str(text).expect("the template is YAML"))
}

fn template() -> Value {
    parse(&std::fs::read_to_string(repo().join("infra/template.yaml")).unwrap())
}

fn resources(t: &Value) -> &Map<String, Value> {
    t["Resources"].as_object().expect("Resources")
}

fn of_type<'a>(t: &'a Value, kind: &str) -> Vec<(&'a str, &'a Value)> {
    resources(t)
        .iter()
        .filter(|(_, r)| r["Type"] == kind)
        .map(|(name, r)| (name.as_str(), r))
        .collect()
}

fn is_no_value(v: &Value) -> bool {
    v == &json!({ "Ref": "AWS::NoValue" })
}

/// The values `v` can take: both branches of an `Fn::If`, minus `NoValue`.
fn branches(v: &Value) -> Vec<&Value> {
    if let Some(args) = v.get("Fn::If").and_then(Value::as_array) {
        return args[1..].iter().flat_map(branches).collect();
    }
    if is_no_value(v) { vec![] } else { vec![v] }
}

/// A string, or a list of strings, possibly behind `Fn::If`s.
fn list(v: &Value) -> Vec<&Value> {
    branches(v)
        .into_iter()
        .flat_map(|b| match b {
            Value::Array(items) => items.iter().flat_map(branches).collect(),
            Value::Null => vec![],
            other => vec![other],
        })
        .collect()
}

/// An expression as text: `${X}` for `Ref X`, `${A.B}` for `GetAtt A.B`,
/// the template of a `Sub`; JSON for anything else.
fn render(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(o) if o.len() == 1 => {
            let (k, a) = o.iter().next().unwrap();
            match (k.as_str(), a) {
                ("Ref", Value::String(name)) => format!("${{{name}}}"),
                ("Fn::GetAtt", Value::Array(p)) => {
                    format!("${{{}.{}}}", p[0].as_str().unwrap(), p[1].as_str().unwrap())
                }
                ("Fn::Sub", Value::String(s)) => s.clone(),
                ("Fn::Sub", Value::Array(p)) => p[0].as_str().unwrap().to_owned(),
                _ => v.to_string(),
            }
        }
        other => other.to_string(),
    }
}

/// Evaluates the few functions a name is built with, parameters at their
/// defaults.
fn evaluate(t: &Value, v: &Value) -> String {
    if let Value::String(s) = v {
        return s.clone();
    }
    let (k, a) = v
        .as_object()
        .and_then(|o| o.iter().next())
        .expect("an expression");
    let items = |a: &Value| -> Vec<String> {
        match a {
            Value::Array(xs) => xs.iter().map(|x| evaluate(t, x)).collect(),
            other => vec![evaluate(t, other)],
        }
    };
    match k.as_str() {
        "Ref" => t["Parameters"][a.as_str().unwrap()]["Default"]
            .as_str()
            .unwrap_or_else(|| panic!("{a} has no default"))
            .to_owned(),
        "Fn::Join" => items(&a[1]).join(a[0].as_str().unwrap()),
        "Fn::Split" => evaluate(t, &a[1])
            .split(a[0].as_str().unwrap())
            .collect::<Vec<_>>()
            .join("\u{0}"),
        "Fn::Select" => {
            let index: usize = a[0]
                .as_str()
                .map_or_else(|| a[0].as_u64().unwrap() as usize, |s| s.parse().unwrap());
            evaluate(t, &a[1])
                .split('\u{0}')
                .nth(index)
                .unwrap()
                .to_owned()
        }
        other => panic!("cannot evaluate {other}"),
    }
}

#[derive(Debug, Clone)]
struct Statement {
    /// The role (logical id), or `Key` for the key policy.
    owner: String,
    sid: String,
    allow: bool,
    principals: Vec<String>,
    actions: Vec<String>,
    resources: Vec<String>,
    condition: Value,
}

fn statement(owner: &str, s: &Value) -> Statement {
    let principals = match &s["Principal"] {
        Value::Null => vec![],
        Value::String(p) => vec![p.clone()],
        Value::Object(p) => p.values().flat_map(list).map(render).collect(),
        other => vec![other.to_string()],
    };
    Statement {
        owner: owner.to_owned(),
        sid: s["Sid"].as_str().unwrap_or("").to_owned(),
        allow: s["Effect"] == "Allow",
        principals,
        actions: list(&s["Action"])
            .into_iter()
            .map(|a| {
                a.as_str()
                    .unwrap_or_else(|| panic!("{owner}: action {a} is not literal"))
                    .to_owned()
            })
            .collect(),
        resources: list(&s["Resource"]).into_iter().map(render).collect(),
        condition: s["Condition"].clone(),
    }
}

/// Every statement of every function role's inline policies.
fn role_statements(t: &Value) -> Vec<Statement> {
    let mut out = vec![];
    for (name, role) in of_type(t, "AWS::IAM::Role") {
        for policy in list(&role["Properties"]["Policies"]) {
            for s in list(&policy["PolicyDocument"]["Statement"]) {
                out.push(statement(name, s));
            }
        }
    }
    out
}

fn key_statements(t: &Value) -> Vec<Statement> {
    of_type(t, "AWS::KMS::Key")
        .into_iter()
        .flat_map(|(name, key)| {
            list(&key["Properties"]["KeyPolicy"]["Statement"])
                .into_iter()
                .map(move |s| statement(name, s))
        })
        .collect()
}

fn service(action: &str) -> &str {
    action.split(':').next().unwrap()
}

/// Function logical id -> its role's logical id.
fn function_roles(t: &Value) -> BTreeMap<String, String> {
    of_type(t, "AWS::Serverless::Function")
        .into_iter()
        .filter_map(|(name, f)| {
            let role = f["Properties"]["Role"]["Fn::GetAtt"][0].as_str()?;
            Some((name.to_owned(), role.to_owned()))
        })
        .collect()
}

// ------------------------------------------------------------------ rules

type Rule = fn(&Value) -> Vec<String>;

/// The functions, the crate binary each is built from.
const FUNCTIONS: [(&str, &str); 6] = [
    ("SourcesFunction", "sources"),
    ("DiscoveryFunction", "discovery"),
    ("JobsFunction", "jobs"),
    ("TriggerFunction", "trigger"),
    ("ReconcilerFunction", "reconciler"),
    ("NotifierFunction", "notifier"),
];

fn functions_build_for_lambda(t: &Value) -> Vec<String> {
    let mut v = vec![];
    let globals = &t["Globals"]["Function"];
    let setting = |f: &Value, key: &str| -> Value {
        let own = &f["Properties"][key];
        if own.is_null() {
            globals[key].clone()
        } else {
            own.clone()
        }
    };
    if t["Parameters"]["Architecture"]["Default"] != "x86_64" {
        v.push("the Architecture parameter must default to x86_64".into());
    }
    let found: BTreeSet<&str> = of_type(t, "AWS::Serverless::Function")
        .iter()
        .map(|(n, _)| *n)
        .collect();
    let expected: BTreeSet<&str> = FUNCTIONS.iter().map(|(n, _)| *n).collect();
    if found != expected {
        v.push(format!("functions {found:?}, expected {expected:?}"));
    }
    for (name, binary) in FUNCTIONS {
        let f = &t["Resources"][name];
        if f.is_null() {
            continue;
        }
        if f["Metadata"]["BuildMethod"] != "rust-cargolambda" {
            v.push(format!("{name}: BuildMethod must be rust-cargolambda"));
        }
        if f["Metadata"]["BuildProperties"] != json!({ "Binary": binary }) {
            v.push(format!(
                "{name}: BuildProperties must be exactly {{Binary: {binary}}} (no features, no flags)"
            ));
        }
        if setting(f, "Runtime") != "provided.al2023" {
            v.push(format!("{name}: runtime must be provided.al2023"));
        }
        if setting(f, "Architectures") != json!([{ "Ref": "Architecture" }]) {
            v.push(format!("{name}: Architectures must be [!Ref Architecture]"));
        }
        let role = f["Properties"]["Role"]["Fn::GetAtt"][0].as_str();
        match role {
            Some(role) if t["Resources"][role]["Type"] == "AWS::IAM::Role" => {
                let shared = function_roles(t)
                    .iter()
                    .filter(|(_, r)| r.as_str() == role)
                    .count();
                if shared != 1 {
                    v.push(format!(
                        "{name}: its role {role} is shared with another function"
                    ));
                }
            }
            _ => v.push(format!(
                "{name}: needs a role of its own (Role: !GetAtt <Role>.Arn)"
            )),
        }
        for generated in ["Policies", "PermissionsBoundary"] {
            if !setting(f, generated).is_null() {
                v.push(format!(
                    "{name}: no SAM {generated}: grants live in its role"
                ));
            }
        }
    }
    v
}

fn no_wildcard_actions(t: &Value) -> Vec<String> {
    let mut v = vec![];
    let mut all = role_statements(t);
    all.extend(key_statements(t));
    for (name, r) in resources(t) {
        for s in list(&r["Properties"]["PolicyDocument"]["Statement"]) {
            all.push(statement(name, s));
        }
    }
    for s in all.iter().filter(|s| s.allow) {
        for a in s.actions.iter().filter(|a| a.contains('*')) {
            v.push(format!("{} {}: wildcard action {a}", s.owner, s.sid));
        }
    }
    v
}

fn no_wildcard_resources(t: &Value) -> Vec<String> {
    role_statements(t)
        .iter()
        .filter(|s| s.allow && s.resources.iter().any(|r| r == "*"))
        .map(|s| format!("{} {}: Resource \"*\"", s.owner, s.sid))
        .collect()
}

/// Grants outside the roles' inline policies would escape these checks.
fn grants_only_in_roles_and_key(t: &Value) -> Vec<String> {
    let mut v = vec![];
    for kind in [
        "AWS::IAM::Policy",
        "AWS::IAM::ManagedPolicy",
        "AWS::IAM::RolePolicy",
        "AWS::IAM::User",
        "AWS::IAM::Group",
        "AWS::KMS::Grant",
    ] {
        for (name, _) in of_type(t, kind) {
            v.push(format!(
                "{name}: a {kind}; grant in the function's role instead"
            ));
        }
    }
    let vpc_access =
        "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole";
    for (name, role) in of_type(t, "AWS::IAM::Role") {
        for arn in list(&role["Properties"]["ManagedPolicyArns"]) {
            if render(arn) != vpc_access {
                v.push(format!(
                    "{name}: managed policy {} is not allowed",
                    render(arn)
                ));
            }
        }
    }
    for s in role_statements(t) {
        if s.actions.iter().any(|a| service(a) == "kms") {
            v.push(format!(
                "{} {}: KMS is granted in the key policy only",
                s.owner, s.sid
            ));
        }
        if s.actions
            .iter()
            .any(|a| service(a) == "iam" && a != "iam:PassRole")
        {
            v.push(format!(
                "{} {}: no IAM actions but PassRole",
                s.owner, s.sid
            ));
        }
    }
    v
}

/// What the account (root) statement may do: administer, never use, the key.
const KEY_ADMIN: [&str; 23] = [
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListAliases",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListKeyRotations",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
];

const SOURCE_CONTEXT: [&str; 3] = ["tenant", "source_id", "purpose"];
const SCRIPT_CONTEXT: [&str; 4] = ["tenant", "job_id", "run_id", "purpose"];
const NOTIFICATION_CONTEXT: [&str; 3] = ["tenant", "job_id", "purpose"];

/// (principal, action, purpose): every use of the key there may be.
const KEY_USES: [(&str, &str, &str); 8] = [
    (
        "${SourcesRole.Arn}",
        "kms:GenerateDataKey",
        "source-secrets",
    ),
    ("${TriggerRole.Arn}", "kms:Decrypt", "source-secrets"),
    ("${DiscoveryRole.Arn}", "kms:Decrypt", "source-secrets"),
    ("${TriggerRole.Arn}", "kms:GenerateDataKey", "flink-script"),
    (
        "${SourcesRole.Arn}",
        "kms:GenerateDataKey",
        "notification-secrets",
    ),
    ("${NotifierRole.Arn}", "kms:Decrypt", "notification-secrets"),
    ("${FlinkRunnerRole.Arn}", "kms:Decrypt", "flink-script"),
    (
        "${SelfHostedRunnerPrincipalArn}",
        "kms:Decrypt",
        "flink-script",
    ),
];

fn key_policy(t: &Value) -> Vec<String> {
    let mut v = vec![];
    let keys = of_type(t, "AWS::KMS::Key");
    if keys.len() != 1 {
        v.push(format!("expected one KMS key, found {}", keys.len()));
    }
    for (name, key) in &keys {
        if key["Properties"]["EnableKeyRotation"] != true {
            v.push(format!("{name}: EnableKeyRotation must be true"));
        }
    }
    let root = "arn:${AWS::Partition}:iam::${AWS::AccountId}:root";
    let mut seen = BTreeSet::new();
    for s in key_statements(t).iter().filter(|s| s.allow) {
        if s.principals == [root] {
            for a in s
                .actions
                .iter()
                .filter(|a| !KEY_ADMIN.contains(&a.as_str()))
            {
                v.push(format!("{}: the account statement may not {a}", s.sid));
            }
            continue;
        }
        let [principal] = s.principals.as_slice() else {
            v.push(format!("{}: one principal per statement", s.sid));
            continue;
        };
        let [action] = s.actions.as_slice() else {
            v.push(format!("{}: one action per statement", s.sid));
            continue;
        };
        let purpose = s.condition["StringEquals"]["kms:EncryptionContext:purpose"].as_str();
        let Some(purpose) = purpose else {
            v.push(format!(
                "{}: {action} needs a StringEquals condition on kms:EncryptionContext:purpose",
                s.sid
            ));
            continue;
        };
        if !KEY_USES.contains(&(principal.as_str(), action.as_str(), purpose)) {
            v.push(format!(
                "{}: {principal} may not {action} with purpose {purpose}",
                s.sid
            ));
            continue;
        }
        let expected_keys: &[&str] = match purpose {
            "source-secrets" => &SOURCE_CONTEXT,
            "notification-secrets" => &NOTIFICATION_CONTEXT,
            _ => &SCRIPT_CONTEXT,
        };
        let keys = &s.condition["ForAllValues:StringEquals"]["kms:EncryptionContextKeys"];
        let keys: BTreeSet<&str> = list(keys).iter().filter_map(|k| k.as_str()).collect();
        if keys != expected_keys.iter().copied().collect() {
            v.push(format!(
                "{}: kms:EncryptionContextKeys must be exactly {expected_keys:?}",
                s.sid
            ));
        }
        if s.condition.as_object().map_or(0, Map::len) != 2 {
            v.push(format!("{}: unexpected conditions {}", s.sid, s.condition));
        }
        seen.insert((principal.clone(), action.clone(), purpose.to_owned()));
    }
    for (principal, action, purpose) in KEY_USES {
        if !seen.contains(&(principal.to_owned(), action.to_owned(), purpose.to_owned())) {
            v.push(format!(
                "the key policy lacks {principal} {action} ({purpose})"
            ));
        }
    }
    v
}

/// (role, action, resource): the DynamoDB calls of each function's code.
const DYNAMODB: [(&str, &str, &str); 25] = [
    ("SourcesRole", "dynamodb:GetItem", "${Table.Arn}"),
    ("SourcesRole", "dynamodb:Query", "${Table.Arn}"),
    ("SourcesRole", "dynamodb:PutItem", "${Table.Arn}"),
    ("SourcesRole", "dynamodb:DeleteItem", "${Table.Arn}"),
    ("DiscoveryRole", "dynamodb:GetItem", "${Table.Arn}"),
    ("JobsRole", "dynamodb:GetItem", "${Table.Arn}"),
    ("JobsRole", "dynamodb:Query", "${Table.Arn}"),
    ("JobsRole", "dynamodb:PutItem", "${Table.Arn}"),
    ("JobsRole", "dynamodb:UpdateItem", "${Table.Arn}"),
    ("JobsRole", "dynamodb:DeleteItem", "${Table.Arn}"),
    ("JobsRole", "dynamodb:ConditionCheckItem", "${Table.Arn}"),
    ("JobsRole", "dynamodb:Query", "${Table.Arn}/index/by_job"),
    ("TriggerRole", "dynamodb:GetItem", "${Table.Arn}"),
    ("TriggerRole", "dynamodb:PutItem", "${Table.Arn}"),
    ("TriggerRole", "dynamodb:DeleteItem", "${Table.Arn}"),
    // The run report's counters, for the runs that end in the trigger.
    ("TriggerRole", "dynamodb:UpdateItem", "${Table.Arn}"),
    ("ReconcilerRole", "dynamodb:GetItem", "${Table.Arn}"),
    ("ReconcilerRole", "dynamodb:PutItem", "${Table.Arn}"),
    ("ReconcilerRole", "dynamodb:UpdateItem", "${Table.Arn}"),
    ("ReconcilerRole", "dynamodb:DeleteItem", "${Table.Arn}"),
    (
        "ReconcilerRole",
        "dynamodb:Query",
        "${Table.Arn}/index/active",
    ),
    // Settings, claims, alert history, the run's notifications[].
    ("NotifierRole", "dynamodb:GetItem", "${Table.Arn}"),
    ("NotifierRole", "dynamodb:PutItem", "${Table.Arn}"),
    ("NotifierRole", "dynamodb:UpdateItem", "${Table.Arn}"),
    ("NotifierRole", "dynamodb:DeleteItem", "${Table.Arn}"),
];

fn dynamodb_per_function(t: &Value) -> Vec<String> {
    let expected: BTreeSet<(String, String, String)> = DYNAMODB
        .iter()
        .map(|(r, a, res)| (r.to_string(), a.to_string(), res.to_string()))
        .collect();
    let mut granted = BTreeSet::new();
    for s in role_statements(t).iter().filter(|s| s.allow) {
        for a in s.actions.iter().filter(|a| service(a) == "dynamodb") {
            for r in &s.resources {
                granted.insert((s.owner.clone(), a.clone(), r.clone()));
            }
        }
    }
    let mut v: Vec<String> = granted
        .difference(&expected)
        .map(|(role, a, r)| format!("{role}: {a} on {r} is more than its code uses"))
        .collect();
    v.extend(
        expected
            .difference(&granted)
            .map(|(role, a, r)| format!("{role}: lacks {a} on {r}")),
    );
    v
}

fn only_the_trigger_is_invoked(t: &Value) -> Vec<String> {
    let mut v = vec![];
    let allowed = [
        ("JobsRole", "${TriggerFunction.Arn}"),
        ("ReconcilerRole", "${TriggerFunction.Arn}"),
        ("SchedulerRole", "${TriggerFunction.Arn}"),
        ("ReconcilerScheduleRole", "${ReconcilerFunction.Arn}"),
        ("SourcesRole", "${DiscoveryFunction.Arn}"),
        ("JobsRole", "${DiscoveryFunction.Arn}"),
        ("TriggerRole", "${DiscoveryFunction.Arn}"),
        ("ReconcilerRole", "${DiscoveryFunction.Arn}"),
    ];
    for s in role_statements(t).iter().filter(|s| s.allow) {
        for a in s.actions.iter().filter(|a| service(a) == "lambda") {
            for r in &s.resources {
                if a != "lambda:InvokeFunction"
                    || !allowed.contains(&(s.owner.as_str(), r.as_str()))
                {
                    v.push(format!("{} {}: {a} on {r}", s.owner, s.sid));
                }
            }
        }
    }
    // The scheduler's role: invoke the trigger, report failed deliveries.
    let scheduler: BTreeSet<(String, String)> = role_statements(t)
        .into_iter()
        .filter(|s| s.owner == "SchedulerRole")
        .flat_map(|s| {
            s.actions
                .iter()
                .flat_map(|a| s.resources.iter().map(move |r| (a.clone(), r.clone())))
                .collect::<Vec<_>>()
        })
        .collect();
    let expected: BTreeSet<(String, String)> = [
        ("lambda:InvokeFunction", "${TriggerFunction.Arn}"),
        ("sqs:SendMessage", "${SchedulerDeadLetterQueue.Arn}"),
    ]
    .iter()
    .map(|(a, r)| (a.to_string(), r.to_string()))
    .collect();
    if scheduler != expected {
        v.push(format!(
            "SchedulerRole grants {scheduler:?}, expected {expected:?}"
        ));
    }
    for (role, service_principal) in [
        ("SchedulerRole", "scheduler.amazonaws.com"),
        ("ReconcilerScheduleRole", "scheduler.amazonaws.com"),
        ("FlinkRunnerRole", "kinesisanalytics.amazonaws.com"),
    ] {
        let trust =
            list(&t["Resources"][role]["Properties"]["AssumeRolePolicyDocument"]["Statement"]);
        let ok = trust.len() == 1
            && trust[0]["Principal"] == json!({ "Service": service_principal })
            && trust[0]["Condition"]["StringEquals"]["aws:SourceAccount"]
                == json!({ "Ref": "AWS::AccountId" });
        if !ok {
            v.push(format!(
                "{role}: only {service_principal} of this account may assume it"
            ));
        }
    }
    v
}

fn scheduler_only_on_tenant_groups(t: &Value) -> Vec<String> {
    let mut v = vec![];
    let arn = "arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}";
    let group = format!("{arn}:schedule-group/${{ScheduleGroupPrefix}}*");
    let schedule = format!("{arn}:schedule/${{ScheduleGroupPrefix}}*/*");
    let allowed: BTreeMap<&str, &str> = BTreeMap::from([
        ("scheduler:CreateScheduleGroup", group.as_str()),
        ("scheduler:GetScheduleGroup", group.as_str()),
        ("scheduler:CreateSchedule", schedule.as_str()),
        ("scheduler:GetSchedule", schedule.as_str()),
        ("scheduler:UpdateSchedule", schedule.as_str()),
        ("scheduler:DeleteSchedule", schedule.as_str()),
    ]);
    for s in role_statements(t).iter().filter(|s| s.allow) {
        for a in s.actions.iter().filter(|a| service(a) == "scheduler") {
            for r in &s.resources {
                if s.owner != "JobsRole" || allowed.get(a.as_str()) != Some(&r.as_str()) {
                    v.push(format!("{} {}: {a} on {r}", s.owner, s.sid));
                }
            }
        }
    }
    // sluice's own group lies outside the tenants' namespace.
    let prefix = t["Parameters"]["ScheduleGroupPrefix"]["Default"]
        .as_str()
        .unwrap_or_default();
    for (name, g) in of_type(t, "AWS::Scheduler::ScheduleGroup") {
        let resolved = evaluate(t, &g["Properties"]["Name"]);
        if resolved.starts_with(prefix) {
            v.push(format!(
                "{name}: {resolved} is inside the tenants' namespace {prefix}*"
            ));
        }
    }
    v
}

fn pass_role_is_scoped(t: &Value) -> Vec<String> {
    let allowed = [
        (
            "JobsRole",
            "${SchedulerRole.Arn}",
            "scheduler.amazonaws.com",
        ),
        (
            "TriggerRole",
            "${FlinkRunnerRole.Arn}",
            "kinesisanalytics.amazonaws.com",
        ),
    ];
    let mut v = vec![];
    for s in role_statements(t).iter().filter(|s| s.allow) {
        if !s.actions.iter().any(|a| a == "iam:PassRole") {
            continue;
        }
        let to = s.condition["StringEquals"]["iam:PassedToService"]
            .as_str()
            .unwrap_or("");
        for r in &s.resources {
            if !allowed.contains(&(s.owner.as_str(), r.as_str(), to)) {
                v.push(format!(
                    "{} {}: iam:PassRole of {r} to {to:?} is not allowed",
                    s.owner, s.sid
                ));
            }
        }
    }
    v
}

/// S3: the functions and the runner touch the managed runs' objects
/// (`sluice/runs/`); only the runner reads its jar, and nobody may write it
/// (MSF runs it with the right to decrypt).
fn s3_only_run_objects(t: &Value) -> Vec<String> {
    let runs = "${ArtifactBucket.Arn}/sluice/runs/*";
    let jar = "${ArtifactBucket.Arn}/${RunnerJarKey}";
    let allowed = |role: &str, action: &str, resource: &str| match role {
        // The jobs function cancels through the trigger: no S3.
        "TriggerRole" | "ReconcilerRole" => {
            resource == runs && ["s3:GetObject", "s3:PutObject"].contains(&action)
        }
        "FlinkRunnerRole" => {
            (resource == runs && ["s3:GetObject", "s3:PutObject"].contains(&action))
                || (resource == jar && ["s3:GetObject", "s3:GetObjectVersion"].contains(&action))
        }
        _ => false,
    };
    let mut v = vec![];
    for s in role_statements(t).iter().filter(|s| s.allow) {
        for a in s.actions.iter().filter(|a| service(a) == "s3") {
            for r in &s.resources {
                if !allowed(&s.owner, a, r) {
                    v.push(format!("{} {}: {a} on {r}", s.owner, s.sid));
                }
            }
        }
    }
    v
}

/// Managed Flink: only the trigger (submits, adopts, cancels, also for the
/// jobs API) and the reconciler (follows, stops) touch applications.
fn msf_only_where_runs_are_run(t: &Value) -> Vec<String> {
    let mut v = vec![];
    for s in role_statements(t).iter().filter(|s| s.allow) {
        let allowed =
            ["TriggerRole", "ReconcilerRole", "FlinkRunnerRole"].contains(&s.owner.as_str());
        for a in s
            .actions
            .iter()
            .filter(|a| service(a) == "kinesisanalytics")
        {
            if !allowed {
                v.push(format!("{} {}: {a}", s.owner, s.sid));
            }
        }
    }
    v
}

/// Run events: the functions that change runs (jobs, trigger, reconciler)
/// may put events on the deployment's bus, nothing else on EventBridge, and
/// each is told which bus.
fn run_events_only_to_the_bus(t: &Value) -> Vec<String> {
    let bus =
        "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/${EventBusName}";
    let publishers = ["JobsRole", "TriggerRole", "ReconcilerRole"];
    let mut v = vec![];
    let mut granted = BTreeSet::new();
    for s in role_statements(t).iter().filter(|s| s.allow) {
        for a in s.actions.iter().filter(|a| service(a) == "events") {
            for r in &s.resources {
                if a == "events:PutEvents" && r == bus && publishers.contains(&s.owner.as_str()) {
                    granted.insert(s.owner.clone());
                } else {
                    v.push(format!("{} {}: {a} on {r}", s.owner, s.sid));
                }
            }
        }
    }
    let roles = function_roles(t);
    for (function, role) in &roles {
        if !publishers.contains(&role.as_str()) {
            continue;
        }
        if !granted.contains(role) {
            v.push(format!("{role}: may not publish run events to {bus}"));
        }
        let env = &t["Resources"][function.as_str()]["Properties"]["Environment"]["Variables"];
        if env["SLUICE_EVENT_BUS"] != json!({ "Ref": "EventBusName" }) {
            v.push(format!(
                "{function}: SLUICE_EVENT_BUS must be the EventBusName parameter"
            ));
        }
    }
    if t["Parameters"]["EventBusName"]["Default"] != "default" {
        v.push("EventBusName: the default must be the account's default bus".into());
    }
    v
}

/// Notices go to the deployer's topics only: `sns:Publish`, by the notifier alone, on the topics
/// of the stack's account and region named with the `NotificationTopicPrefix` parameter, which
/// the sources function checks topic ARNs against (`SLUICE_NOTIFY_TOPIC_ARN_PREFIX`).
fn sns_only_to_the_named_topics(t: &Value) -> Vec<String> {
    let topics =
        "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:${NotificationTopicPrefix}*";
    let mut v = vec![];
    let mut granted = false;
    for s in role_statements(t).iter().filter(|s| s.allow) {
        for a in s.actions.iter().filter(|a| service(a) == "sns") {
            for r in &s.resources {
                if a == "sns:Publish" && r == topics && s.owner == "NotifierRole" {
                    granted = true;
                } else {
                    v.push(format!("{} {}: {a} on {r}", s.owner, s.sid));
                }
            }
        }
    }
    if !granted {
        v.push(format!("NotifierRole: may not publish to {topics}"));
    }
    let prefix = &t["Resources"]["SourcesFunction"]["Properties"]["Environment"]["Variables"]["SLUICE_NOTIFY_TOPIC_ARN_PREFIX"];
    if render(prefix) != topics.trim_end_matches('*') {
        v.push(format!(
            "SourcesFunction: SLUICE_NOTIFY_TOPIC_ARN_PREFIX must name the topics the notifier may publish to, got {prefix}"
        ));
    }
    v
}

/// Run metrics go through the logs (embedded metric format): no role may call CloudWatch, and
/// every alarm notifies the deployer's `AlarmTopicArn` only.
fn metrics_without_grants(t: &Value) -> Vec<String> {
    let mut v: Vec<String> = role_statements(t)
        .iter()
        .filter(|s| s.allow && s.actions.iter().any(|a| service(a) == "cloudwatch"))
        .map(|s| {
            format!(
                "{}: may not call CloudWatch (metrics are EMF log lines)",
                s.owner
            )
        })
        .collect();
    for (name, alarm) in of_type(t, "AWS::CloudWatch::Alarm") {
        for field in ["AlarmActions", "OKActions"] {
            let actions = &alarm["Properties"][field];
            let expected = json!({"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]});
            if *actions != expected {
                v.push(format!(
                    "{name}: {field} must be the AlarmTopicArn when set, got {actions}"
                ));
            }
        }
    }
    if of_type(t, "AWS::CloudWatch::Alarm").len() < 3 {
        v.push(
            "the alarms on trigger errors, undelivered fires and failed runs are missing".into(),
        );
    }
    v
}

fn tenant_mode_is_not_configurable(t: &Value) -> Vec<String> {
    let mut v = vec![];
    let mut envs = vec![(
        "Globals",
        &t["Globals"]["Function"]["Environment"]["Variables"],
    )];
    for (name, f) in of_type(t, "AWS::Serverless::Function") {
        envs.push((name, &f["Properties"]["Environment"]["Variables"]));
    }
    for (name, vars) in envs {
        let mode = &vars["SLUICE_TENANT_MODE"];
        if !(mode.is_null() || mode == "jwt") {
            v.push(format!(
                "{name}: SLUICE_TENANT_MODE must be absent or the literal jwt"
            ));
        }
        if !vars["SLUICE_TENANT_HEADER"].is_null() {
            v.push(format!("{name}: sets SLUICE_TENANT_HEADER"));
        }
    }
    for (name, binary) in [("SourcesFunction", "sources"), ("JobsFunction", "jobs")] {
        let vars = &t["Resources"][name]["Properties"]["Environment"]["Variables"];
        if vars["SLUICE_TENANT_CLAIM"] != json!({ "Ref": "TenantClaim" }) {
            v.push(format!(
                "{name} ({binary}): the tenant comes from the TenantClaim JWT claim"
            ));
        }
    }
    if let Some(params) = t["Parameters"].as_object() {
        for p in params.keys() {
            let lower = p.to_ascii_lowercase();
            if lower.contains("tenantmode") || lower.contains("tenantheader") {
                v.push(format!(
                    "parameter {p} would let a deployment choose the tenant mode"
                ));
            }
        }
    }
    // The feature that compiles header mode in is never a default one.
    for manifest in [
        "functions/sources/Cargo.toml",
        "functions/jobs/Cargo.toml",
        "shared/http/Cargo.toml",
    ] {
        let text = std::fs::read_to_string(repo().join(manifest)).unwrap();
        let defaults = text
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("default") && l.contains('='));
        for line in defaults {
            if line.contains("local-dev") {
                v.push(format!("{manifest}: local-dev is a default feature"));
            }
        }
    }
    v
}

fn data_is_protected(t: &Value) -> Vec<String> {
    let mut v = vec![];
    let table = &t["Resources"]["Table"]["Properties"];
    if table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] != true {
        v.push("Table: point-in-time recovery must be enabled".into());
    }
    if table["SSESpecification"]["SSEEnabled"] != true {
        v.push("Table: server-side encryption must be enabled".into());
    }
    if table["TimeToLiveSpecification"] != json!({ "AttributeName": "expires_at", "Enabled": true })
    {
        v.push("Table: TTL on expires_at must be enabled".into());
    }
    let indexes: BTreeSet<&str> = list(&table["GlobalSecondaryIndexes"])
        .iter()
        .filter_map(|i| i["IndexName"].as_str())
        .collect();
    if indexes != BTreeSet::from(["by_job", "active"]) {
        v.push(format!(
            "Table: indexes {indexes:?}, expected by_job and active"
        ));
    }
    let bucket = &t["Resources"]["ArtifactBucket"]["Properties"];
    if list(&bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]).is_empty() {
        v.push("ArtifactBucket: must be encrypted".into());
    }
    for flag in [
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ] {
        if bucket["PublicAccessBlockConfiguration"][flag] != true {
            v.push(format!("ArtifactBucket: {flag} must be true"));
        }
    }
    let denies_plain_http = of_type(t, "AWS::S3::BucketPolicy").iter().any(|(_, p)| {
        p["Properties"]["Bucket"] == json!({ "Ref": "ArtifactBucket" })
            && list(&p["Properties"]["PolicyDocument"]["Statement"])
                .iter()
                .any(|s| {
                    s["Effect"] == "Deny"
                        && s["Principal"] == "*"
                        && s["Condition"]["Bool"]["aws:SecureTransport"] == "false"
                        && list(&s["Resource"]).len() == 2
                })
    });
    if !denies_plain_http {
        v.push("ArtifactBucket: its policy must deny requests without TLS".into());
    }
    let queue = &t["Resources"]["SchedulerDeadLetterQueue"]["Properties"];
    if queue["SqsManagedSseEnabled"] != true && queue["KmsMasterKeyId"].is_null() {
        v.push("SchedulerDeadLetterQueue: must be encrypted".into());
    }
    v
}

/// Routes documented in infra/openapi.json, as "METHOD /path".
fn documented_routes() -> BTreeSet<String> {
    let text = std::fs::read_to_string(repo().join("infra/openapi.json")).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    let mut routes = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "put", "post", "delete", "patch"].contains(&method.as_str()) {
                routes.insert(format!("{} {path}", method.to_ascii_uppercase()));
            }
        }
    }
    routes
}

/// The local emulator's route table: path -> function crate.
fn watch_router() -> BTreeMap<String, String> {
    let manifest = std::fs::read_to_string(repo().join("Cargo.toml")).unwrap();
    let mut in_router = false;
    let mut routes = BTreeMap::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_router = line == "[workspace.metadata.lambda.watch.router]";
        } else if line.starts_with('#') {
            continue;
        } else if in_router && let Some((path, function)) = line.split_once('=') {
            routes.insert(
                path.trim().trim_matches('"').to_owned(),
                function.trim().trim_matches('"').to_owned(),
            );
        }
    }
    routes
}

fn routes_match_the_document(t: &Value) -> Vec<String> {
    let mut v = vec![];
    let api = &t["Resources"]["HttpApi"];
    if api["Type"] != "AWS::Serverless::HttpApi" {
        v.push("HttpApi: expected an AWS::Serverless::HttpApi".into());
    }
    let auth = &api["Properties"]["Auth"];
    let default = auth["DefaultAuthorizer"].as_str().unwrap_or_default();
    let jwt = &auth["Authorizers"][default]["JwtConfiguration"];
    if jwt["issuer"] != json!({ "Ref": "JwtIssuer" })
        || jwt["audience"] != json!({ "Ref": "JwtAudience" })
    {
        v.push(
            "HttpApi: the default authorizer must be the JWT one (JwtIssuer, JwtAudience)".into(),
        );
    }
    let binaries: BTreeMap<&str, &str> = FUNCTIONS.into_iter().collect();
    let router = watch_router();
    let mut routed = BTreeMap::new();
    for (name, f) in of_type(t, "AWS::Serverless::Function") {
        let Some(events) = f["Properties"]["Events"].as_object() else {
            continue;
        };
        for (event, e) in events {
            if e["Type"] != "HttpApi" {
                continue;
            }
            let p = &e["Properties"];
            if p["ApiId"] != json!({ "Ref": "HttpApi" }) {
                v.push(format!("{name}.{event}: must be on HttpApi"));
            }
            if !p["Auth"].is_null() {
                v.push(format!(
                    "{name}.{event}: must keep the default (JWT) authorizer"
                ));
            }
            let route = format!(
                "{} {}",
                p["Method"].as_str().unwrap_or("?").to_ascii_uppercase(),
                p["Path"].as_str().unwrap_or("?")
            );
            let path = p["Path"].as_str().unwrap_or("?");
            match (router.get(path).map(String::as_str), binaries.get(name)) {
                (Some(serving), Some(binary)) if serving == *binary => {}
                (Some(serving), _) => v.push(format!(
                    "{route}: routed to {name}, but {serving} serves it"
                )),
                (None, _) => v.push(format!(
                    "{route}: not in the emulator's route table (Cargo.toml)"
                )),
            }
            if routed.insert(route.clone(), name.to_owned()).is_some() {
                v.push(format!("{route}: routed twice"));
            }
        }
    }
    let documented = documented_routes();
    let routed: BTreeSet<String> = routed.into_keys().collect();
    for missing in documented.difference(&routed) {
        v.push(format!(
            "{missing}: documented but not routed by the template"
        ));
    }
    for extra in routed.difference(&documented) {
        v.push(format!(
            "{extra}: routed by the template but not documented"
        ));
    }
    v
}

const RULES: [(&str, Rule); 16] = [
    ("functions_build_for_lambda", functions_build_for_lambda),
    ("no_wildcard_actions", no_wildcard_actions),
    ("no_wildcard_resources", no_wildcard_resources),
    ("grants_only_in_roles_and_key", grants_only_in_roles_and_key),
    ("key_policy", key_policy),
    ("dynamodb_per_function", dynamodb_per_function),
    ("only_the_trigger_is_invoked", only_the_trigger_is_invoked),
    (
        "scheduler_only_on_tenant_groups",
        scheduler_only_on_tenant_groups,
    ),
    ("pass_role_is_scoped", pass_role_is_scoped),
    ("s3_only_run_objects", s3_only_run_objects),
    ("msf_only_where_runs_are_run", msf_only_where_runs_are_run),
    ("run_events_only_to_the_bus", run_events_only_to_the_bus),
    ("sns_only_to_the_named_topics", sns_only_to_the_named_topics),
    ("metrics_without_grants", metrics_without_grants),
    (
        "tenant_mode_is_not_configurable",
        tenant_mode_is_not_configurable,
    ),
    ("data_is_protected", data_is_protected),
];

fn violations(t: &Value) -> Vec<String> {
    let mut all: Vec<String> = RULES
        .iter()
        .flat_map(|(name, rule)| rule(t).into_iter().map(move |m| format!("[{name}] {m}")))
        .collect();
    all.extend(
        routes_match_the_document(t)
            .into_iter()
            .map(|m| format!("[routes_match_the_document] {m}")),
    );
    all
}

// ------------------------------------------------------------------ tests

#[test]
fn the_template_keeps_every_rule() {
    let found = violations(&template());
    assert!(
        found.is_empty(),
        "least-privilege violations:\n{}",
        found.join("\n")
    );
}

#[test]
fn short_form_tags_are_read_as_long_forms() {
    let t = parse(
        "A: !Ref X\nB: !GetAtt R.Arn\nC: !Sub '${R.Arn}/x'\nD: !If [C, 1, !Ref AWS::NoValue]\n",
    );
    assert_eq!(t["A"], json!({ "Ref": "X" }));
    assert_eq!(t["B"], json!({ "Fn::GetAtt": ["R", "Arn"] }));
    assert_eq!(render(&t["C"]), "${R.Arn}/x");
    assert_eq!(branches(&t["D"]), vec![&json!(1)]);
}

/// A statement of `role`'s first inline policy, by Sid.
fn role_statement<'a>(t: &'a mut Value, role: &str, sid: &str) -> &'a mut Value {
    let statements =
        t["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
            .as_array_mut()
            .unwrap();
    statements
        .iter_mut()
        .find(|s| s["Sid"] == sid)
        .unwrap_or_else(|| panic!("{role} has no statement {sid}"))
}

fn key_statement<'a>(t: &'a mut Value, sid: &str) -> &'a mut Value {
    t["Resources"]["Key"]["Properties"]["KeyPolicy"]["Statement"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .flat_map(|s| {
            if s.get("Fn::If").is_some() {
                let branch = &mut s["Fn::If"][1];
                vec![branch]
            } else {
                vec![s]
            }
        })
        .find(|s| s["Sid"] == sid)
        .unwrap_or_else(|| panic!("the key policy has no statement {sid}"))
}

fn push_statement(t: &mut Value, role: &str, s: Value) {
    t["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        .as_array_mut()
        .unwrap()
        .push(s);
}

type Breakage = (&'static str, fn(&mut Value), &'static str);

/// Each breaks one rule; the message each must produce.
const BREAKAGES: [Breakage; 35] = [
    (
        "the sources function may decrypt",
        |t| {
            key_statement(t, "TriggerOpensSourceSecrets")["Principal"] =
                json!({ "AWS": { "Fn::GetAtt": ["SourcesRole", "Arn"] } })
        },
        "SourcesRole.Arn} may not kms:Decrypt",
    ),
    (
        "the jobs function may generate data keys",
        |t| {
            key_statement(t, "SourcesSealSourceSecrets")["Principal"] =
                json!({ "AWS": { "Fn::GetAtt": ["JobsRole", "Arn"] } })
        },
        "JobsRole.Arn} may not kms:GenerateDataKey",
    ),
    (
        "the trigger decrypts without a context condition",
        |t| {
            key_statement(t, "TriggerOpensSourceSecrets")
                .as_object_mut()
                .unwrap()
                .remove("Condition");
        },
        "needs a StringEquals condition on kms:EncryptionContext:purpose",
    ),
    (
        "the runner may open source secrets",
        |t| {
            key_statement(t, "ManagedRunnerOpensRunScripts")["Condition"]["StringEquals"]["kms:EncryptionContext:purpose"] =
                json!("source-secrets")
        },
        "may not kms:Decrypt with purpose source-secrets",
    ),
    (
        "the context keys are not pinned",
        |t| {
            key_statement(t, "TriggerSealsRunScripts")["Condition"]["ForAllValues:StringEquals"]["kms:EncryptionContextKeys"] =
                json!(["tenant", "purpose", "anything"])
        },
        "kms:EncryptionContextKeys must be exactly",
    ),
    (
        "the account may decrypt",
        |t| {
            key_statement(t, "AdministerTheKey")["Action"]
                .as_array_mut()
                .unwrap()
                .push(json!("kms:Decrypt"))
        },
        "the account statement may not kms:Decrypt",
    ),
    (
        "the account may create grants",
        |t| {
            key_statement(t, "AdministerTheKey")["Action"]
                .as_array_mut()
                .unwrap()
                .push(json!("kms:CreateGrant"))
        },
        "the account statement may not kms:CreateGrant",
    ),
    (
        "a role is granted KMS directly",
        |t| {
            push_statement(
                t,
                "ReconcilerRole",
                json!({ "Sid": "Sneaky", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": { "Fn::GetAtt": ["Key", "Arn"] } }),
            )
        },
        "ReconcilerRole Sneaky: KMS is granted in the key policy only",
    ),
    (
        "kms:* in a role",
        |t| {
            push_statement(
                t,
                "TriggerRole",
                json!({ "Sid": "All", "Effect": "Allow", "Action": "kms:*", "Resource": { "Fn::GetAtt": ["Key", "Arn"] } }),
            )
        },
        "TriggerRole All: wildcard action kms:*",
    ),
    (
        "dynamodb:* in a role",
        |t| role_statement(t, "SourcesRole", "SourceRecords")["Action"] = json!("dynamodb:*"),
        "SourcesRole SourceRecords: wildcard action dynamodb:*",
    ),
    (
        "the reconciler may scan",
        |t| {
            role_statement(t, "ReconcilerRole", "RunRecords")["Action"]
                .as_array_mut()
                .unwrap()
                .push(json!("dynamodb:Scan"))
        },
        "ReconcilerRole: dynamodb:Scan on ${Table.Arn} is more than its code uses",
    ),
    (
        "the reconciler queries every index",
        |t| {
            role_statement(t, "ReconcilerRole", "ActiveRuns")["Resource"] =
                json!({ "Fn::Sub": "${Table.Arn}/index/*" })
        },
        "ReconcilerRole: dynamodb:Query on ${Table.Arn}/index/* is more than its code uses",
    ),
    (
        "scheduler:* for the jobs function",
        |t| role_statement(t, "JobsRole", "TenantSchedules")["Action"] = json!("scheduler:*"),
        "JobsRole TenantSchedules: wildcard action scheduler:*",
    ),
    (
        "schedules anywhere",
        |t| role_statement(t, "JobsRole", "TenantSchedules")["Resource"] = json!("*"),
        "JobsRole TenantSchedules: Resource \"*\"",
    ),
    (
        "the scheduler may invoke the jobs function",
        |t| {
            role_statement(t, "SchedulerRole", "InvokeTheTrigger")["Resource"] =
                json!({ "Fn::GetAtt": ["JobsFunction", "Arn"] })
        },
        "SchedulerRole InvokeTheTrigger: lambda:InvokeFunction on ${JobsFunction.Arn}",
    ),
    (
        "any role may be passed",
        |t| {
            role_statement(t, "JobsRole", "SchedulesAssumeTheSchedulerRole")["Resource"] =
                json!("*")
        },
        "iam:PassRole of * to \"scheduler.amazonaws.com\" is not allowed",
    ),
    (
        "header tenant mode from a parameter",
        |t| {
            t["Parameters"]["TenantMode"] = json!({ "Type": "String", "Default": "jwt" });
            t["Resources"]["SourcesFunction"]["Properties"]["Environment"]["Variables"]["SLUICE_TENANT_MODE"] =
                json!({ "Ref": "TenantMode" });
        },
        "SourcesFunction: SLUICE_TENANT_MODE must be absent or the literal jwt",
    ),
    (
        "a function with SAM policy templates",
        |t| {
            t["Resources"]["TriggerFunction"]["Properties"]["Policies"] =
                json!(["AWSLambdaBasicExecutionRole"])
        },
        "TriggerFunction: no SAM Policies",
    ),
    (
        "a build with extra features",
        |t| {
            t["Resources"]["JobsFunction"]["Metadata"]["BuildProperties"]["Features"] =
                json!("local-dev")
        },
        "JobsFunction: BuildProperties must be exactly {Binary: jobs}",
    ),
    (
        "the trigger may replace the runner jar",
        |t| {
            let s = &mut t["Resources"]["TriggerRole"]["Properties"]["Policies"][0]["PolicyDocument"]
                ["Statement"];
            let managed = s
                .as_array_mut()
                .unwrap()
                .iter_mut()
                .find(|s| s["Fn::If"][1]["Sid"] == "ManagedRunObjects")
                .unwrap();
            managed["Fn::If"][1]["Resource"] = json!({ "Fn::Sub": "${ArtifactBucket.Arn}/*" });
        },
        "TriggerRole ManagedRunObjects: s3:PutObject on ${ArtifactBucket.Arn}/*",
    ),
    (
        "the jobs function stops applications itself",
        |t| {
            push_statement(
                t,
                "JobsRole",
                json!({"Sid": "CancelManagedRuns", "Effect": "Allow",
                       "Action": ["kinesisanalytics:StopApplication"],
                       "Resource": {"Fn::Sub": "arn:${AWS::Partition}:kinesisanalytics:${AWS::Region}:${AWS::AccountId}:application/sluice-*"}}),
            )
        },
        "JobsRole CancelManagedRuns: kinesisanalytics:StopApplication",
    ),
    (
        "the jobs function writes run objects",
        |t| {
            push_statement(
                t,
                "JobsRole",
                json!({"Sid": "ManagedRunObjects", "Effect": "Allow",
                       "Action": ["s3:PutObject"],
                       "Resource": {"Fn::Sub": "${ArtifactBucket.Arn}/sluice/runs/*"}}),
            )
        },
        "JobsRole ManagedRunObjects: s3:PutObject",
    ),
    (
        "the reconciler puts metric data",
        |t| {
            push_statement(
                t,
                "ReconcilerRole",
                json!({"Sid": "Metrics", "Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*"}),
            )
        },
        "ReconcilerRole: may not call CloudWatch",
    ),
    (
        "an alarm notifies a hard-coded topic",
        |t| {
            t["Resources"]["FailedRunsAlarm"]["Properties"]["AlarmActions"] =
                json!(["arn:aws:sns:us-east-1:123456789012:somebody-else"])
        },
        "FailedRunsAlarm: AlarmActions must be the AlarmTopicArn",
    ),
    (
        "run events on any bus",
        |t| role_statement(t, "TriggerRole", "RunEvents")["Resource"] = json!("*"),
        "TriggerRole RunEvents: events:PutEvents on *",
    ),
    (
        "the sources function publishes run events",
        |t| {
            let s = role_statement(t, "TriggerRole", "RunEvents").clone();
            push_statement(t, "SourcesRole", s)
        },
        "SourcesRole RunEvents: events:PutEvents on arn:",
    ),
    (
        "the reconciler may not publish",
        |t| role_statement(t, "ReconcilerRole", "RunEvents")["Action"] = json!("events:PutRule"),
        "ReconcilerRole: may not publish run events",
    ),
    (
        "the trigger is not told the bus",
        |t| {
            t["Resources"]["TriggerFunction"]["Properties"]["Environment"]["Variables"]
                .as_object_mut()
                .unwrap()
                .remove("SLUICE_EVENT_BUS");
        },
        "TriggerFunction: SLUICE_EVENT_BUS must be the EventBusName parameter",
    ),
    (
        "the notifier may publish to any topic",
        |t| {
            role_statement(t, "NotifierRole", "PublishToTheDeployersTopics")["Resource"] =
                json!({"Fn::Sub": "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:*"})
        },
        "NotifierRole PublishToTheDeployersTopics: sns:Publish on arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:*",
    ),
    (
        "another function may publish to the topics",
        |t| {
            let s = role_statement(t, "NotifierRole", "PublishToTheDeployersTopics").clone();
            push_statement(t, "JobsRole", s)
        },
        "JobsRole PublishToTheDeployersTopics: sns:Publish",
    ),
    (
        "the API checks topics against another prefix",
        |t| {
            t["Resources"]["SourcesFunction"]["Properties"]["Environment"]["Variables"]["SLUICE_NOTIFY_TOPIC_ARN_PREFIX"] =
                json!("arn:aws:sns:us-east-1:123456789012:")
        },
        "SourcesFunction: SLUICE_NOTIFY_TOPIC_ARN_PREFIX must name the topics",
    ),
    (
        "the notifier opens source secrets",
        |t| {
            key_statement(t, "NotifierOpensNotificationSecrets")["Condition"]["StringEquals"]["kms:EncryptionContext:purpose"] =
                json!("source-secrets")
        },
        "may not kms:Decrypt with purpose source-secrets",
    ),
    (
        "no point-in-time recovery",
        |t| {
            t["Resources"]["Table"]["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] =
                json!(false)
        },
        "Table: point-in-time recovery must be enabled",
    ),
    (
        "a documented route left out",
        |t| {
            t["Resources"]["JobsFunction"]["Properties"]["Events"]
                .as_object_mut()
                .unwrap()
                .remove("CancelRun");
        },
        "POST /runs/{id}/cancel: documented but not routed by the template",
    ),
    (
        "a route without the authorizer",
        |t| {
            t["Resources"]["SourcesFunction"]["Properties"]["Events"]["ListSources"]["Properties"]
                ["Auth"] = json!({ "Authorizer": "NONE" })
        },
        "SourcesFunction.ListSources: must keep the default (JWT) authorizer",
    ),
];

#[test]
fn every_rule_fails_on_a_template_that_breaks_it() {
    let original = template();
    for (what, breaks, expected) in BREAKAGES {
        let mut broken = original.clone();
        breaks(&mut broken);
        let found = violations(&broken);
        assert!(
            found.iter().any(|m| m.contains(expected)),
            "{what}: expected a violation containing {expected:?}, found:\n{}",
            found.join("\n")
        );
    }
}

#[test]
fn the_system_schedule_group_is_outside_the_tenants_namespace() {
    let t = template();
    let name = &t["Resources"]["SystemScheduleGroup"]["Properties"]["Name"];
    assert_eq!(evaluate(&t, name), "sluice_system");
    let mut under_prefix = t.clone();
    under_prefix["Resources"]["SystemScheduleGroup"]["Properties"]["Name"] = json!({
        "Fn::Join": ["", [{ "Ref": "ScheduleGroupPrefix" }, "system"]]
    });
    let found = scheduler_only_on_tenant_groups(&under_prefix);
    assert!(
        found.iter().any(|m| m.contains("sluice-system is inside")),
        "{found:?}"
    );
}
