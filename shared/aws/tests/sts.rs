//! The caller's identity against moto: GetCallerIdentity answers the ARN the
//! CLI records beside the name of whoever starts, cancels or approves.

#[tokio::test]
async fn the_caller_arn_is_the_credentials_principal() {
    let Some(moto) = ripcord_aws::testing::moto().await else {
        return;
    };
    let arn = ripcord_aws::sts::caller_arn(&moto.settings)
        .await
        .expect("GetCallerIdentity in moto");
    assert!(arn.starts_with("arn:aws:"), "{arn}");
    assert!(
        arn.contains(":user/") || arn.contains(":assumed-role/"),
        "{arn}"
    );
}
