//! The template's services, scaling and alarms, checked statically (moto
//! ignores Application Auto Scaling and keeps alarms without evaluating
//! them): a Fargate service per worker kind running `ripcord worker KIND`
//! on AWS with the liveness health check of the shared contract, scaled on
//! its queue's visible messages per running task; `ripcord serve` behind a
//! load balancer; every alarm the deployment promises, on the metric and
//! dimensions its publisher uses, notifying the alarm topic.

use ripcord::ports::QueueName;
use ripcord_aws::ResourceNames;
use ripcord_tests::template::{PREFIX, Template, get_att, reference, resolve};
use serde_json::{Value, json};

fn names() -> ResourceNames {
    ResourceNames::new(PREFIX)
}

/// `launch` → `Launch`, `post-actions` → `PostActions`: the logical ids'
/// stem.
fn stem(queue: QueueName) -> String {
    queue
        .as_str()
        .split('-')
        .map(|w| w[..1].to_uppercase() + &w[1..])
        .collect()
}

fn queue_id(template: &Template, queue: QueueName) -> String {
    template
        .named("AWS::SQS::Queue", "QueueName", &names().queue(queue))
        .0
        .to_owned()
}

/// The environment of a container definition, name → value.
fn environment(container: &Value) -> Vec<(String, Value)> {
    container["Environment"]
        .as_array()
        .expect("Environment")
        .iter()
        .filter_map(|e| {
            e.get("Name")
                .map(|n| (n.as_str().unwrap_or("").to_owned(), e["Value"].clone()))
        })
        .collect()
}

fn env_value<'a>(env: &'a [(String, Value)], name: &str) -> Option<&'a Value> {
    env.iter().find(|(n, _)| n == name).map(|(_, v)| v)
}

#[test]
fn each_worker_kind_runs_on_aws_with_the_liveness_health_check() {
    let template = Template::load();
    for queue in QueueName::ALL {
        let (service_id, service) =
            template.named("AWS::ECS::Service", "ServiceName", &names().queue(queue));
        let service = &service["Properties"];
        assert_eq!(service["LaunchType"], "FARGATE");
        assert_eq!(service["Cluster"], reference("Cluster"));
        let task_id = service["TaskDefinition"]["Ref"]
            .as_str()
            .unwrap_or_else(|| panic!("{service_id}: TaskDefinition is a Ref"));
        let task = &template.resource(task_id)["Properties"];
        assert_eq!(
            task["TaskRoleArn"],
            get_att(&format!("{}TaskRole", stem(queue)), "Arn")
        );
        assert_eq!(task["RequiresCompatibilities"], json!(["FARGATE"]));
        let container = &task["ContainerDefinitions"][0];
        assert_eq!(container["Image"], reference("ImageUri"));
        assert_eq!(
            container["Command"],
            json!([
                "worker",
                queue.as_str(),
                "--liveness-file",
                "/tmp/ripcord-live"
            ]),
            "{task_id}"
        );
        assert_eq!(
            container["HealthCheck"]["Command"],
            json!([
                "CMD",
                "/usr/local/bin/ripcord",
                "healthcheck",
                "--liveness-file",
                "/tmp/ripcord-live",
                "--max-age",
                "6m"
            ]),
            "{task_id}: the image has no shell, so CMD form"
        );
        let env = environment(container);
        assert_eq!(env_value(&env, "RIPCORD_BACKEND"), Some(&json!("aws")));
        assert_eq!(
            env_value(&env, "RIPCORD_PREFIX").map(resolve),
            Some(json!(PREFIX))
        );
        for quota in [
            "RIPCORD_DRS_CONCURRENT_JOBS",
            "RIPCORD_DRS_SERVERS_IN_ACTIVE_JOBS",
        ] {
            assert!(env_value(&env, quota).is_some(), "{task_id}: {quota}");
        }
        let triggers = env_value(&env, "RIPCORD_TRIGGER_SOURCES");
        assert_eq!(triggers.is_some(), queue == QueueName::Launch, "{task_id}");
    }
}

#[test]
fn the_runbooks_source_is_always_on_the_launch_workers_allow_list() {
    let template = Template::load();
    let task = &template.resource("LaunchTaskDefinition")["Properties"];
    let env = environment(&task["ContainerDefinitions"][0]);
    let sources = env_value(&env, "RIPCORD_TRIGGER_SOURCES").expect("sources");
    let branches = &sources["Fn::If"];
    assert_eq!(branches[0], "HasTriggerSources");
    assert_eq!(
        branches[1],
        json!({ "Fn::Sub": "${RunbookEventSource},${TriggerSources}" })
    );
    assert_eq!(branches[2], reference("RunbookEventSource"));
    let runbook = &template.resource("Runbook")["Properties"]["Content"];
    assert_eq!(
        runbook["mainSteps"][0]["inputs"]["InputPayload"]["source"],
        reference("RunbookEventSource")
    );
    assert_eq!(
        env_value(&env, "RIPCORD_PLANS_DIR"),
        Some(&reference("PlansDir"))
    );
}

#[test]
fn serve_answers_behind_the_load_balancer_whatever_the_workers_health() {
    let template = Template::load();
    let (_, service) = template.named(
        "AWS::ECS::Service",
        "ServiceName",
        &format!("{PREFIX}-serve"),
    );
    let service = &service["Properties"];
    assert_eq!(
        service["LoadBalancers"],
        json!([{ "ContainerName": "serve", "ContainerPort": 8080, "TargetGroupArn": reference("ApiTargetGroup") }])
    );
    let task = &template.resource("ServeTaskDefinition")["Properties"];
    assert_eq!(task["TaskRoleArn"], get_att("ServeTaskRole", "Arn"));
    assert_eq!(
        task["ContainerDefinitions"][0]["Command"],
        json!(["serve", "--host", "0.0.0.0", "--port", "8080"])
    );
    let listener = &template.resource("ApiListener")["Properties"];
    assert_eq!(
        listener["Protocol"],
        json!({ "Fn::If": ["HasApiCertificate", "HTTPS", "HTTP"] }),
        "HTTPS whenever a certificate is given: the API token crosses it"
    );
    let group = &template.resource("ApiTargetGroup")["Properties"];
    assert_eq!(group["HealthCheckPath"], "/healthz");
    // 503 means a worker kind is unhealthy, not serve: the alarms say that.
    assert_eq!(group["Matcher"], json!({ "HttpCode": "200,503" }));
    assert_eq!(
        template.resource("Cluster")["Properties"]["ClusterSettings"],
        json!([{ "Name": "containerInsights", "Value": "enabled" }]),
        "RunningTaskCount, the scaling metric's divisor, comes from Container Insights"
    );
}

#[test]
fn each_worker_kind_scales_on_its_queues_backlog_per_running_task() {
    let template = Template::load();
    let targets = template.of_type("AWS::ApplicationAutoScaling::ScalableTarget");
    assert_eq!(targets.len(), QueueName::ALL.len());
    for queue in QueueName::ALL {
        let (service_id, _) =
            template.named("AWS::ECS::Service", "ServiceName", &names().queue(queue));
        let (target_id, target) = targets
            .iter()
            .find(|(_, t)| {
                t["Properties"]["ResourceId"]
                    == json!({ "Fn::Sub": format!("service/${{Cluster}}/${{{service_id}.Name}}") })
            })
            .unwrap_or_else(|| panic!("no scalable target for {service_id}"));
        let target = &target["Properties"];
        assert_eq!(target["ScalableDimension"], "ecs:service:DesiredCount");
        assert_eq!(target["MinCapacity"], reference("WorkerMinTasks"));
        assert_eq!(target["MaxCapacity"], reference("WorkerMaxTasks"));
        let (_, policy) = template
            .of_type("AWS::ApplicationAutoScaling::ScalingPolicy")
            .into_iter()
            .find(|(_, p)| p["Properties"]["ScalingTargetId"] == reference(target_id))
            .unwrap_or_else(|| panic!("no scaling policy for {target_id}"));
        let policy = &policy["Properties"];
        assert_eq!(policy["PolicyType"], "TargetTrackingScaling");
        let tracking = &policy["TargetTrackingScalingPolicyConfiguration"];
        assert_eq!(tracking["TargetValue"], reference("BacklogPerTaskTarget"));
        let metrics = tracking["CustomizedMetricSpecification"]["Metrics"]
            .as_array()
            .expect("metric math");
        let by_id = |id: &str| {
            metrics
                .iter()
                .find(|m| m["Id"] == id)
                .unwrap_or_else(|| panic!("{service_id}: no metric {id}"))
        };
        assert_eq!(
            by_id("visible")["MetricStat"]["Metric"],
            json!({
                "Namespace": "AWS/SQS",
                "MetricName": "ApproximateNumberOfMessagesVisible",
                "Dimensions": [{ "Name": "QueueName", "Value": get_att(&queue_id(&template, queue), "QueueName") }],
            })
        );
        assert_eq!(
            by_id("tasks")["MetricStat"]["Metric"],
            json!({
                "Namespace": "ECS/ContainerInsights",
                "MetricName": "RunningTaskCount",
                "Dimensions": [
                    { "Name": "ClusterName", "Value": reference("Cluster") },
                    { "Name": "ServiceName", "Value": get_att(service_id, "Name") },
                ],
            })
        );
        let returned: Vec<&Value> = metrics.iter().filter(|m| m["ReturnData"] == true).collect();
        assert_eq!(returned.len(), 1, "{service_id}: one metric tracked");
        assert_eq!(
            returned[0]["Expression"], "IF(tasks > 0, visible / tasks, visible)",
            "{service_id}: backlog per task (the whole backlog while no task runs)"
        );
    }
}

/// An alarm the deployment promises: its namespace, metric, dimensions and
/// how missing data counts (serve down must alarm on its gauges).
struct Promised {
    namespace: &'static str,
    metric: &'static str,
    dimensions: Value,
    missing: &'static str,
}

fn promised_alarms(template: &Template) -> Vec<Promised> {
    let deployment = json!({ "Name": "Deployment", "Value": reference("NamePrefix") });
    let mut alarms = vec![
        Promised {
            namespace: "DRS/Orchestration",
            metric: "FailedServers",
            dimensions: json!([deployment]),
            missing: "notBreaching",
        },
        Promised {
            namespace: "DRS/Orchestration",
            metric: "StuckExecutions",
            dimensions: json!([deployment]),
            missing: "breaching",
        },
        Promised {
            namespace: "DRS/Orchestration",
            metric: "LongestCapacityWait",
            dimensions: json!([deployment]),
            missing: "notBreaching",
        },
        // The worst service's error rate; serve down is the alarms above.
        Promised {
            namespace: "DRS/Orchestration",
            metric: "ServiceErrorRate",
            dimensions: json!([deployment]),
            missing: "notBreaching",
        },
    ];
    for queue in QueueName::ALL {
        alarms.push(Promised {
            namespace: "DRS/Orchestration",
            metric: "WorkerPollAge",
            dimensions: json!([deployment, { "Name": "WorkerKind", "Value": queue.as_str() }]),
            missing: "breaching",
        });
        let (dlq, _) = template.named(
            "AWS::SQS::Queue",
            "QueueName",
            &names().dead_letter_queue(queue),
        );
        alarms.push(Promised {
            namespace: "AWS/SQS",
            metric: "ApproximateNumberOfMessagesVisible",
            dimensions: json!([{ "Name": "QueueName", "Value": get_att(dlq, "QueueName") }]),
            missing: "notBreaching",
        });
    }
    alarms
}

#[test]
fn every_promised_alarm_watches_its_metric_and_notifies_the_topic() {
    let template = Template::load();
    let alarms = template.of_type("AWS::CloudWatch::Alarm");
    let promised = promised_alarms(&template);
    assert_eq!(alarms.len(), promised.len(), "an alarm no test names");
    let topic = json!([{ "Fn::If": ["CreateAlarmTopic", reference("AlarmTopic"), reference("AlarmTopicArn")] }]);
    for want in promised {
        let (id, alarm) = alarms
            .iter()
            .find(|(_, a)| {
                let p = &a["Properties"];
                p["Namespace"] == want.namespace
                    && p["MetricName"] == want.metric
                    && p["Dimensions"] == want.dimensions
            })
            .unwrap_or_else(|| {
                panic!(
                    "no alarm on {} {} {}",
                    want.namespace, want.metric, want.dimensions
                )
            });
        let alarm = &alarm["Properties"];
        assert_eq!(alarm["TreatMissingData"], want.missing, "{id}");
        assert_eq!(alarm["AlarmActions"], topic, "{id}");
        assert_eq!(alarm["OKActions"], topic, "{id}");
        assert_eq!(alarm["ComparisonOperator"], "GreaterThanThreshold", "{id}");
        assert!(
            alarm["AlarmDescription"].is_string(),
            "{id}: say what to do"
        );
    }
}

/// Every `.rs` file under `dir`, read.
fn sources(dir: &std::path::Path, into: &mut String) {
    for entry in std::fs::read_dir(dir).expect("a source directory") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            sources(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push_str(&std::fs::read_to_string(&path).expect("a source file"));
        }
    }
}

#[test]
fn every_ripcord_variable_the_template_sets_is_one_the_binary_reads() {
    let template = Template::load();
    let mut code = String::new();
    sources(
        &ripcord_tests::template::repository().join("workers/src"),
        &mut code,
    );
    let mut checked = 0;
    for (id, task) in template.of_type("AWS::ECS::TaskDefinition") {
        let container = &task["Properties"]["ContainerDefinitions"][0];
        let mut set: Vec<String> = environment(container).into_iter().map(|(n, _)| n).collect();
        let secrets = &container["Secrets"]["Fn::If"][1];
        set.extend(
            secrets
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s["Name"].as_str().map(str::to_owned)),
        );
        for name in set.into_iter().filter(|n| n.starts_with("RIPCORD_")) {
            assert!(
                code.contains(&format!("\"{name}\"")),
                "{id} sets {name}, which nothing in workers/src reads"
            );
            checked += 1;
        }
    }
    assert!(checked >= 5 * 4, "the variables were found: {checked}");
}
