//! Conversions between the SDKs' ways of writing time and the core's
//! `Timestamp`: DRS sends and takes ISO-8601 strings, SSM, EC2, CloudWatch
//! and EventBridge use the SDK's `DateTime`.

use aws_smithy_types::DateTime as SdkDateTime;
use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use ripcord::time::Timestamp;

/// Reads a DRS time string. DRS writes `2024-05-01T12:00:00Z`, sometimes
/// with fractional seconds or an offset; a string without a zone is taken
/// as UTC. Anything else is `None` (and logged): a time the core cannot read
/// must not fail a whole poll.
pub fn parse_drs_time(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text.trim_end_matches('Z'), format) {
            return Some(t.and_utc());
        }
    }
    tracing::warn!(
        time = text,
        "DRS answered a time that is not ISO-8601; ignoring it"
    );
    None
}

/// Writes a time as DRS' `fromDate` (an `ISO8601DatetimeString`) and SSM's
/// `InvokedAfter` filters take it: `YYYY-MM-DDTHH:MM:SSZ`. Truncated to the
/// second, so the filter still includes the instant itself.
pub fn format_iso8601(t: Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The SDK's `DateTime` as the core's `Timestamp`; `None` out of chrono's range.
pub fn from_sdk(t: &SdkDateTime) -> Option<Timestamp> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

pub fn to_sdk(t: Timestamp) -> SdkDateTime {
    SdkDateTime::from_secs_and_nanos(t.timestamp(), t.timestamp_subsec_nanos())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn drs_times_are_read_with_or_without_fractions() {
        let whole = Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 7).unwrap();
        assert_eq!(parse_drs_time("2024-05-01T12:00:07Z"), Some(whole));
        assert_eq!(
            parse_drs_time("2024-05-01T12:00:07.250Z"),
            Some(whole + chrono::Duration::milliseconds(250))
        );
        assert_eq!(
            parse_drs_time("2024-05-01T12:00:07.123456+00:00"),
            Some(whole + chrono::Duration::microseconds(123_456))
        );
        assert_eq!(parse_drs_time("2024-05-01T14:00:07+02:00"), Some(whole));
        assert_eq!(parse_drs_time("2024-05-01T12:00:07"), Some(whole));
        assert_eq!(parse_drs_time(""), None);
        assert_eq!(parse_drs_time("yesterday"), None);
    }

    #[test]
    fn filters_get_whole_seconds_in_utc() {
        let t = Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 7).unwrap()
            + chrono::Duration::milliseconds(900);
        assert_eq!(format_iso8601(t), "2024-05-01T12:00:07Z");
        assert_eq!(format_iso8601(t).len(), 20);
    }

    #[test]
    fn sdk_times_round_trip() {
        let t = Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 7).unwrap()
            + chrono::Duration::nanoseconds(123_456_789);
        assert_eq!(from_sdk(&to_sdk(t)), Some(t));
    }
}
