//! The EC2 instance directory against moto: instances run there are
//! described (type, zone, addresses, launch time) and their status checks
//! read, over several batches; unknown ids are left out, not an error.

mod support;

use aws_sdk_ec2::types::{InstanceType, Placement};
use ripcord::ports::InstanceDirectory;
use ripcord::service_error::ErrorClass;
use ripcord_aws::Ec2Directory;

/// Runs `count` t3.medium instances in us-east-1b and returns their ids.
async fn run_instances(client: &aws_sdk_ec2::Client, count: i32) -> Vec<String> {
    let started = client
        .run_instances()
        .image_id("ami-12c6146b")
        .instance_type(InstanceType::T3Medium)
        .placement(Placement::builder().availability_zone("us-east-1b").build())
        .min_count(count)
        .max_count(count)
        .send()
        .await
        .expect("RunInstances in moto");
    started
        .instances()
        .iter()
        .map(|i| i.instance_id().expect("an instance id").to_owned())
        .collect()
}

#[tokio::test]
async fn launched_instances_are_described_over_several_batches() {
    let Some(url) = ripcord_aws::testing::moto_url() else {
        return;
    };
    let clients = support::clients(&url).await;
    let ids = run_instances(&clients.ec2, 5).await;
    // Two ids per call: three DescribeInstances calls for five instances.
    let directory = Ec2Directory::new(clients.ec2.clone()).with_batch_size(2);
    let before = chrono::Utc::now() - chrono::Duration::minutes(5);

    let mut found = directory
        .describe_instances(&ids)
        .await
        .expect("DescribeInstances");

    found.sort_by(|a, b| a.instance_id.cmp(&b.instance_id));
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(
        found
            .iter()
            .map(|i| i.instance_id.clone())
            .collect::<Vec<_>>(),
        expected
    );
    for instance in &found {
        assert_eq!(instance.instance_type, "t3.medium");
        assert_eq!(instance.availability_zone.as_deref(), Some("us-east-1b"));
        assert!(
            instance
                .private_ip_address
                .as_deref()
                .is_some_and(|ip| ip.parse::<std::net::Ipv4Addr>().is_ok()),
            "{instance:?}"
        );
        if let Some(ip) = &instance.public_ip_address {
            assert!(ip.parse::<std::net::Ipv4Addr>().is_ok(), "{ip}");
        }
        assert!(
            matches!(instance.state.as_str(), "pending" | "running"),
            "{}",
            instance.state
        );
        assert!(
            instance.launch_time.is_some_and(|t| t > before),
            "{instance:?}"
        );
    }
}

#[tokio::test]
async fn status_checks_are_read_and_unknown_ids_left_out() {
    let Some(url) = ripcord_aws::testing::moto_url() else {
        return;
    };
    let clients = support::clients(&url).await;
    let ids = run_instances(&clients.ec2, 3).await;
    let directory = Ec2Directory::new(clients.ec2.clone()).with_batch_size(2);
    // Well-formed but unknown: EC2 (and moto) refuse the whole call with
    // InvalidInstanceID.NotFound, which the adapter must read by its code
    // and answer without the unknown id.
    let mut asked = ids.clone();
    asked.insert(1, "i-0123456789abcdef0".to_owned());

    let statuses = directory
        .describe_instance_status(&asked)
        .await
        .expect("DescribeInstanceStatus");

    let mut got: Vec<String> = statuses.iter().map(|s| s.instance_id.clone()).collect();
    got.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(got, expected);
    for status in &statuses {
        for summary in [&status.instance_status, &status.system_status] {
            assert!(
                [
                    "ok",
                    "initializing",
                    "impaired",
                    "insufficient-data",
                    "not-applicable"
                ]
                .contains(&summary.as_str()),
                "{status:?}"
            );
        }
    }

    let described = directory
        .describe_instances(&asked)
        .await
        .expect("DescribeInstances");
    assert_eq!(described.len(), ids.len());
}

#[tokio::test]
async fn a_refused_connection_is_a_transient_network_error() {
    let url = support::closed_port_url().await;
    let directory = Ec2Directory::new(support::clients(&url).await.ec2);
    let e = directory
        .describe_instances(&["i-0123456789abcdef0".to_owned()])
        .await
        .unwrap_err();
    assert_eq!(
        (
            e.service.as_str(),
            e.operation.as_str(),
            e.code.as_str(),
            e.class
        ),
        (
            "ec2",
            "DescribeInstances",
            "NetworkError",
            ErrorClass::Transient
        ),
        "{e}"
    );
}
