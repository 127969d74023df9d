//! Who is on call when, table-driven across the 2026 DST transitions of
//! New York, London and Lord Howe (a 30-minute shift).

use jiff::civil::{DateTime, Time};
use jiff::{SignedDuration, Timestamp};

use super::*;
use crate::DomainError;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn dt(s: &str) -> DateTime {
    s.parse().unwrap()
}

fn time(s: &str) -> Time {
    s.parse().unwrap()
}

fn layer(name: &str, users: &[&str], shift: ShiftLength, start: &str) -> Layer {
    Layer {
        name: name.into(),
        users: users.iter().map(|u| (*u).to_owned()).collect(),
        shift,
        start: dt(start),
        end: None,
        restrictions: Vec::new(),
    }
}

fn schedule(zone: &str, layers: Vec<Layer>) -> Schedule {
    Schedule {
        name: "primary".into(),
        description: String::new(),
        time_zone: zone.into(),
        layers,
    }
}

fn ov(id: &str, user: &str, start: &str, end: &str) -> Override {
    Override {
        id: id.into(),
        user: user.into(),
        start: ts(start),
        end: ts(end),
    }
}

fn restriction(days: &[Day], from: &str, to: &str) -> Restriction {
    Restriction {
        days: days.to_vec(),
        from: time(from),
        to: time(to),
    }
}

/// Checks who is on call at each instant: `(instant, user or "-" for a gap)`.
fn check(compiled: &CompiledSchedule, table: &[(&str, &str)]) {
    for (at, want) in table {
        let got = compiled.on_call_at(ts(at));
        let got = got.as_ref().map_or("-", |o| o.user.as_str());
        assert_eq!(got, *want, "on call at {at}");
        // The flattened timeline agrees.
        let t = ts(at);
        let shifts = compiled.shifts(
            t - SignedDuration::from_hours(30),
            t + SignedDuration::from_hours(30),
        );
        let shift = shifts.iter().find(|s| s.start <= t && t < s.end).unwrap();
        assert_eq!(
            shift.user.as_deref().unwrap_or("-"),
            *want,
            "shifts at {at}"
        );
    }
}

/// Checks a layer's hand-offs: the starts of its shifts in [from, to).
fn check_handoffs(
    compiled: &CompiledSchedule,
    layer: usize,
    from: &str,
    to: &str,
    want: &[(&str, &str)],
) {
    let got: Vec<(String, String)> = compiled
        .layer_shifts(layer, ts(from), ts(to))
        .into_iter()
        .map(|s| (s.start.to_string(), s.user.unwrap()))
        .collect();
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(t, u)| (ts(t).to_string(), (*u).to_owned()))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn new_york_daily_0900_stays_at_0900_local() {
    let s = schedule(
        "America/New_York",
        vec![layer(
            "daily",
            &["a", "b", "c"],
            ShiftLength::Days(1),
            "2026-03-01T09:00",
        )],
    )
    .compile(vec![])
    .unwrap();
    // Day 6 (a) to day 7 (b): 2026-03-07 09:00 EST, 2026-03-08 09:00 EDT: 23 hours.
    check_handoffs(
        &s,
        0,
        "2026-03-07T12:00Z",
        "2026-03-09T12:00Z",
        &[
            ("2026-03-06T14:00Z", "c"),
            ("2026-03-07T14:00Z", "a"),
            ("2026-03-08T13:00Z", "b"),
        ],
    );
    let short = &s.layer_shifts(0, ts("2026-03-07T15:00Z"), ts("2026-03-07T16:00Z"))[0];
    assert_eq!(
        short.end.duration_since(short.start),
        SignedDuration::from_hours(23)
    );
    // Day 244 (b) lasts 25 hours: 2026-10-31 09:00 EDT to 2026-11-01 09:00 EST.
    let long = &s.layer_shifts(0, ts("2026-10-31T15:00Z"), ts("2026-10-31T16:00Z"))[0];
    assert_eq!(
        (long.start, long.end),
        (ts("2026-10-31T13:00Z"), ts("2026-11-01T14:00Z"))
    );
    assert_eq!(long.user.as_deref(), Some("b"));
    check(
        &s,
        &[
            ("2026-03-01T13:59:59Z", "-"),
            ("2026-03-01T14:00Z", "a"),
            ("2026-03-07T13:59:59Z", "c"),
            ("2026-03-07T14:00Z", "a"),
            ("2026-03-08T12:59:59Z", "a"),
            ("2026-03-08T13:00Z", "b"),
            ("2026-11-01T13:59:59Z", "b"),
            ("2026-11-01T14:00Z", "c"),
        ],
    );
}

#[test]
fn new_york_gap_and_fold_handoffs() {
    let s = schedule(
        "America/New_York",
        vec![
            layer("gap", &["a", "b"], ShiftLength::Days(1), "2026-03-01T02:30"),
            layer(
                "fold",
                &["c", "d"],
                ShiftLength::Days(1),
                "2026-10-01T01:30",
            ),
        ],
    )
    .compile(vec![])
    .unwrap();
    // 02:30 does not exist on 2026-03-08: the hand-off is at 03:00 EDT, 07:00Z.
    check_handoffs(
        &s,
        0,
        "2026-03-07T12:00Z",
        "2026-03-09T12:00Z",
        &[
            ("2026-03-07T07:30Z", "a"),
            ("2026-03-08T07:00Z", "b"),
            ("2026-03-09T06:30Z", "a"),
        ],
    );
    // 01:30 happens twice on 2026-11-01: the first one, EDT, 05:30Z; that shift is 25 hours.
    check_handoffs(
        &s,
        1,
        "2026-10-31T12:00Z",
        "2026-11-02T12:00Z",
        &[
            ("2026-10-31T05:30Z", "c"),
            ("2026-11-01T05:30Z", "d"),
            ("2026-11-02T06:30Z", "c"),
        ],
    );
    let s = schedule(
        "America/New_York",
        vec![layer(
            "gap",
            &["a", "b"],
            ShiftLength::Days(1),
            "2026-03-01T02:30",
        )],
    )
    .compile(vec![])
    .unwrap();
    check(
        &s,
        &[
            ("2026-03-08T06:59:59Z", "a"),
            ("2026-03-08T07:00Z", "b"),
            ("2026-03-09T06:29:59Z", "b"),
            ("2026-03-09T06:30Z", "a"),
        ],
    );
}

#[test]
fn hours_shifts_are_elapsed_time() {
    let s = schedule(
        "America/New_York",
        vec![layer(
            "twelve",
            &["a", "b"],
            ShiftLength::Hours(12),
            "2026-03-07T20:00",
        )],
    )
    .compile(vec![])
    .unwrap();
    // 2026-03-08 01:00Z + 12h, + 24h: 09:00 EDT is 13:00Z, so this one is at 09:00 EDT.
    check_handoffs(
        &s,
        0,
        "2026-03-08T01:00Z",
        "2026-03-09T02:00Z",
        &[
            ("2026-03-08T01:00Z", "a"),
            ("2026-03-08T13:00Z", "b"),
            ("2026-03-09T01:00Z", "a"),
        ],
    );
}

#[test]
fn london_weekly_keeps_weekday_across_both_transitions() {
    // 2026-03-01 is a Sunday; 01:30 is in the gap on 2026-03-29 and the fold on 2026-10-25.
    let s = schedule(
        "Europe/London",
        vec![layer(
            "weekly",
            &["a", "b", "c"],
            ShiftLength::Weeks(1),
            "2026-03-01T01:30",
        )],
    )
    .compile(vec![])
    .unwrap();
    check_handoffs(
        &s,
        0,
        "2026-03-23T00:00Z",
        "2026-04-06T00:00Z",
        &[
            ("2026-03-22T01:30Z", "a"),
            // The gap 01:00-02:00: at the transition, 01:00Z.
            ("2026-03-29T01:00Z", "b"),
            ("2026-04-05T00:30Z", "c"),
        ],
    );
    // Week 34 (b) starts at the first 01:30 (BST, 00:30Z) and lasts 7 days and an hour.
    check_handoffs(
        &s,
        0,
        "2026-10-20T00:00Z",
        "2026-11-02T00:00Z",
        &[
            ("2026-10-18T00:30Z", "a"),
            ("2026-10-25T00:30Z", "b"),
            ("2026-11-01T01:30Z", "c"),
        ],
    );
    for shift in s.layer_shifts(0, ts("2026-03-01T00:00Z"), ts("2026-12-31T00:00Z")) {
        let local = s.time_zone().to_datetime(shift.start);
        assert_eq!(local.weekday(), jiff::civil::Weekday::Sunday, "{shift:?}");
    }
}

#[test]
fn lord_howe_half_hour_transitions() {
    // +10:30 standard, +11 summer. 2026-04-05 02:00 -> 01:30 (fold 01:30-02:00);
    // 2026-10-04 02:00 -> 02:30 (gap).
    let s = schedule(
        "Australia/Lord_Howe",
        vec![
            layer(
                "april",
                &["a", "b"],
                ShiftLength::Days(1),
                "2026-04-01T01:45",
            ),
            layer(
                "october",
                &["c", "d"],
                ShiftLength::Days(1),
                "2026-09-28T02:15",
            ),
        ],
    )
    .compile(vec![])
    .unwrap();
    // 01:45 on 04-05 (day 4, a) happens twice: the first, at +11, 04-04T14:45Z;
    // that shift is 24h30 long.
    check_handoffs(
        &s,
        0,
        "2026-04-04T00:00Z",
        "2026-04-06T00:00Z",
        &[
            ("2026-04-03T14:45Z", "b"),
            ("2026-04-04T14:45Z", "a"),
            ("2026-04-05T15:15Z", "b"),
        ],
    );
    // 02:15 on 10-04 does not exist: the transition, 02:30 +11, 10-03T15:30Z.
    check_handoffs(
        &s,
        1,
        "2026-10-03T00:00Z",
        "2026-10-05T00:00Z",
        &[
            ("2026-10-02T15:45Z", "d"),
            ("2026-10-03T15:30Z", "c"),
            ("2026-10-04T15:15Z", "d"),
        ],
    );
    let april = schedule(
        "Australia/Lord_Howe",
        vec![layer(
            "april",
            &["a", "b"],
            ShiftLength::Days(1),
            "2026-04-01T01:45",
        )],
    )
    .compile(vec![ov(
        "cover",
        "z",
        "2026-04-05T15:00Z",
        "2026-04-05T16:00Z",
    )])
    .unwrap();
    check(
        &april,
        &[
            ("2026-04-04T14:44:59Z", "b"),
            ("2026-04-04T14:45Z", "a"),
            // The second 01:45 (+10:30) is not a hand-off.
            ("2026-04-04T15:15Z", "a"),
            ("2026-04-05T14:59:59Z", "a"),
            ("2026-04-05T15:00Z", "z"),
            ("2026-04-05T16:00Z", "b"),
        ],
    );
}

#[test]
fn restrictions_run_overnight_and_fall_through_to_lower_layers() {
    // Weekdays 17:00 to 09:00 the next morning, on top of a daily layer.
    let mut nights = layer("nights", &["n"], ShiftLength::Weeks(1), "2026-03-02T00:00");
    nights.restrictions = vec![restriction(
        &[Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri],
        "17:00",
        "09:00",
    )];
    let s = schedule(
        "America/New_York",
        vec![
            layer("days", &["d"], ShiftLength::Days(1), "2026-03-01T00:00"),
            nights,
        ],
    )
    .compile(vec![])
    .unwrap();
    check(
        &s,
        &[
            // Friday 2026-03-06 16:59 EST, 17:00 EST.
            ("2026-03-06T21:59:59Z", "d"),
            ("2026-03-06T22:00Z", "n"),
            // Saturday 08:59 EST: still Friday's window; 09:00: no window starts on Saturday.
            ("2026-03-07T13:59:59Z", "n"),
            ("2026-03-07T14:00Z", "d"),
            // Sunday night 2026-03-08 (EDT): no window.
            ("2026-03-09T01:00Z", "d"),
            // Monday 2026-03-09 17:00 EDT = 21:00Z.
            ("2026-03-09T20:59:59Z", "d"),
            ("2026-03-09T21:00Z", "n"),
        ],
    );
    // Without a lower layer, outside the windows is a gap.
    let mut nights = layer("nights", &["n"], ShiftLength::Weeks(1), "2026-03-02T00:00");
    nights.restrictions = vec![restriction(&[Day::Fri], "17:00", "09:00")];
    let s = schedule("America/New_York", vec![nights])
        .compile(vec![])
        .unwrap();
    assert_eq!(
        s.gaps(ts("2026-03-06T00:00Z"), ts("2026-03-08T00:00Z")),
        vec![
            (ts("2026-03-06T00:00Z"), ts("2026-03-06T22:00Z")),
            (ts("2026-03-07T14:00Z"), ts("2026-03-08T00:00Z")),
        ]
    );
    // The layer's own shift is cut to the window, with full bounds.
    let pieces = s.layer_shifts(0, ts("2026-03-07T00:00Z"), ts("2026-03-07T01:00Z"));
    assert_eq!(pieces.len(), 1);
    assert_eq!(
        (pieces[0].start, pieces[0].end),
        (ts("2026-03-06T22:00Z"), ts("2026-03-07T14:00Z"))
    );
}

#[test]
fn restriction_windows_in_gaps_and_folds() {
    // A window from 02:30 to 04:00 every day in New York.
    let mut l = layer("early", &["e"], ShiftLength::Days(1), "2026-03-01T00:00");
    l.restrictions = vec![restriction(&[], "02:30", "04:00")];
    let s = schedule("America/New_York", vec![l.clone()])
        .compile(vec![])
        .unwrap();
    let pieces = s.layer_shifts(0, ts("2026-03-08T00:00Z"), ts("2026-03-08T23:00Z"));
    // 02:30 does not exist: the window opens at the transition (07:00Z) and closes at 04:00 EDT.
    assert_eq!(
        pieces.iter().map(|p| (p.start, p.end)).collect::<Vec<_>>(),
        vec![(ts("2026-03-08T07:00Z"), ts("2026-03-08T08:00Z"))]
    );
    // A window from 01:15 to 01:45 on 2026-11-01: the first occurrences, EDT.
    l.restrictions = vec![restriction(&[Day::Sun], "01:15", "01:45")];
    let s = schedule("America/New_York", vec![l])
        .compile(vec![])
        .unwrap();
    check(
        &s,
        &[
            ("2026-11-01T05:14:59Z", "-"),
            ("2026-11-01T05:15Z", "e"),
            ("2026-11-01T05:44:59Z", "e"),
            ("2026-11-01T05:45Z", "-"),
            // The second 01:30 (EST) is outside the window.
            ("2026-11-01T06:30Z", "-"),
        ],
    );
    // Lord Howe business hours 02:15-03:00: on 2026-10-04 02:15 is in the gap.
    let mut l = layer("lh", &["h"], ShiftLength::Days(1), "2026-09-01T00:00");
    l.restrictions = vec![restriction(&[], "02:15", "03:00")];
    let s = schedule("Australia/Lord_Howe", vec![l])
        .compile(vec![])
        .unwrap();
    let pieces = s.layer_shifts(0, ts("2026-10-03T12:00Z"), ts("2026-10-04T12:00Z"));
    assert_eq!(
        pieces.iter().map(|p| (p.start, p.end)).collect::<Vec<_>>(),
        vec![(ts("2026-10-03T15:30Z"), ts("2026-10-03T16:00Z"))]
    );
}

#[test]
fn overrides_win_latest_start_first_and_fill_gaps() {
    let mut l = layer(
        "days",
        &["a", "b"],
        ShiftLength::Days(1),
        "2026-03-01T09:00",
    );
    l.end = Some(dt("2026-03-10T09:00"));
    let s = schedule("America/New_York", vec![l])
        .compile(vec![
            ov("long", "x", "2026-03-08T10:00Z", "2026-03-08T20:00Z"),
            ov("inner", "y", "2026-03-08T12:00Z", "2026-03-08T14:00Z"),
            ov("after-end", "z", "2026-03-10T12:00Z", "2026-03-10T14:00Z"),
        ])
        .unwrap();
    check(
        &s,
        &[
            ("2026-03-08T09:59:59Z", "a"),
            ("2026-03-08T10:00Z", "x"),
            ("2026-03-08T12:00Z", "y"),
            ("2026-03-08T14:00Z", "x"),
            ("2026-03-08T20:00Z", "b"),
            // The layer ends at 2026-03-10 09:00 EDT, 13:00Z, inside an override.
            ("2026-03-10T12:59:59Z", "z"),
            ("2026-03-10T13:30Z", "z"),
            ("2026-03-10T14:00Z", "-"),
        ],
    );
    let on = s.on_call_at(ts("2026-03-08T13:00Z")).unwrap();
    assert_eq!(on.source, ShiftSource::Override { id: "inner".into() });
    let shifts = s.shifts(ts("2026-03-08T00:00Z"), ts("2026-03-08T23:00Z"));
    let summary: Vec<(Option<&str>, Timestamp)> = shifts
        .iter()
        .map(|s| (s.user.as_deref(), s.start))
        .collect();
    assert_eq!(
        summary,
        vec![
            (Some("a"), ts("2026-03-08T00:00Z")),
            (Some("x"), ts("2026-03-08T10:00Z")),
            (Some("y"), ts("2026-03-08T12:00Z")),
            (Some("x"), ts("2026-03-08T14:00Z")),
            (Some("b"), ts("2026-03-08T20:00Z")),
        ]
    );
    assert_eq!(shifts.last().unwrap().end, ts("2026-03-08T23:00Z"));
    assert_eq!(
        s.user_shifts("x", ts("2026-03-08T00:00Z"), ts("2026-03-09T00:00Z"))
            .iter()
            .map(|s| (s.start, s.end))
            .collect::<Vec<_>>(),
        vec![
            (ts("2026-03-08T10:00Z"), ts("2026-03-08T12:00Z")),
            (ts("2026-03-08T14:00Z"), ts("2026-03-08T20:00Z")),
        ]
    );
}

#[test]
fn higher_layers_win_and_same_user_pieces_merge() {
    let mut top = layer("weekend", &["w"], ShiftLength::Days(1), "2026-03-01T00:00");
    top.restrictions = vec![restriction(&[Day::Sat, Day::Sun], "00:00", "00:00")];
    let s = schedule(
        "Europe/London",
        vec![
            layer("base", &["solo"], ShiftLength::Days(1), "2026-03-01T09:00"),
            top,
        ],
    )
    .compile(vec![])
    .unwrap();
    let shifts = s.shifts(ts("2026-03-02T00:00Z"), ts("2026-03-16T00:00Z"));
    let summary: Vec<(Option<&str>, Timestamp)> = shifts
        .iter()
        .map(|s| (s.user.as_deref(), s.start))
        .collect();
    // The one-user base layer's daily shifts merge; the weekend windows merge.
    assert_eq!(
        summary,
        vec![
            (Some("solo"), ts("2026-03-02T00:00Z")),
            (Some("w"), ts("2026-03-07T00:00Z")),
            (Some("solo"), ts("2026-03-09T00:00Z")),
            (Some("w"), ts("2026-03-14T00:00Z")),
        ]
    );
}

#[test]
fn ranges_reversed_empty_and_long() {
    let s = schedule(
        "UTC",
        vec![layer(
            "hourly",
            &["a", "b"],
            ShiftLength::Hours(1),
            "2026-01-01T00:00",
        )],
    )
    .compile(vec![])
    .unwrap();
    let t = ts("2026-03-01T00:00Z");
    assert!(s.shifts(t, t).is_empty());
    assert!(s.shifts(t, ts("2026-02-01T00:00Z")).is_empty());
    assert!(s.layer_shifts(1, t, ts("2026-03-02T00:00Z")).is_empty());
    // Two years asked: 400 days answered, 9,600 hourly shifts.
    let shifts = s.layer_shifts(0, t, ts("2028-03-01T00:00Z"));
    assert_eq!(shifts.len(), 9_600);
    let flat = s.shifts(t, ts("2028-03-01T00:00Z"));
    assert_eq!(flat.last().unwrap().end, t + MAX_RANGE);
    // Far from the start, the answer is computed directly.
    assert_eq!(s.on_call_at(ts("9000-01-01T00:00Z")).unwrap().user, "a");
    assert_eq!(s.on_call_at(ts("9000-01-01T01:00Z")).unwrap().user, "b");
}

#[test]
fn validation_names_the_field() {
    let good = || {
        schedule(
            "Europe/London",
            vec![
                layer("one", &["a"], ShiftLength::Days(1), "2026-03-01T09:00"),
                layer("two", &["b"], ShiftLength::Weeks(1), "2026-03-01T09:00"),
            ],
        )
    };
    let field = |s: Schedule, overrides: Vec<Override>| match s.compile(overrides) {
        Err(DomainError::Invalid { field, .. }) => field,
        other => panic!("expected an error, got {other:?}"),
    };
    assert!(good().compile(vec![]).is_ok());
    let mut s = good();
    s.name = "Primary".into();
    assert_eq!(field(s, vec![]), "name");
    let mut s = good();
    s.time_zone = "Mars/Olympus".into();
    assert_eq!(field(s, vec![]), "time_zone");
    let mut s = good();
    s.layers.clear();
    assert_eq!(field(s, vec![]), "layers");
    let mut s = good();
    s.layers[1].users[0] = "Bob Smith".into();
    assert_eq!(field(s, vec![]), "layers[1].users[0]");
    let mut s = good();
    s.layers[1].users.clear();
    assert_eq!(field(s, vec![]), "layers[1].users");
    let mut s = good();
    s.layers[0].shift = ShiftLength::Hours(0);
    assert_eq!(field(s, vec![]), "layers[0].shift");
    let mut s = good();
    s.layers[0].shift = ShiftLength::Weeks(53);
    assert_eq!(field(s, vec![]), "layers[0].shift");
    let mut s = good();
    s.layers[0].end = Some(dt("2026-03-01T09:00"));
    assert_eq!(field(s, vec![]), "layers[0].end");
    let mut s = good();
    s.layers[1].restrictions = vec![
        restriction(&[], "09:00", "17:00"),
        restriction(&[Day::Mon, Day::Mon], "09:00", "17:00"),
    ];
    assert_eq!(field(s, vec![]), "layers[1].restrictions[1].days");
    let ok = ov("o1", "a", "2026-03-01T00:00Z", "2026-03-02T00:00Z");
    let backwards = ov("o2", "a", "2026-03-02T00:00Z", "2026-03-02T00:00Z");
    assert_eq!(
        field(good(), vec![ok.clone(), ok.clone()]),
        "overrides[1].id"
    );
    assert_eq!(
        field(
            good(),
            vec![ok.clone(), ok.clone(), ok.clone(), backwards.clone()]
        ),
        "overrides[1].id"
    );
    assert_eq!(
        field(good(), vec![ok.clone(), backwards]),
        "overrides[1].end"
    );
    let mut bad_user = ok.clone();
    bad_user.user = "A".into();
    assert_eq!(field(good(), vec![bad_user]), "overrides[0].user");
    let many: Vec<Override> = (0..1001)
        .map(|i| Override {
            id: format!("o{i}"),
            ..ok.clone()
        })
        .collect();
    assert_eq!(field(good(), many), "overrides");
}

#[test]
fn serde_shapes_are_unchanged() {
    let json = r#"{"name":"primary","time_zone":"America/New_York","layers":[{"name":"L","users":["a"],"shift":{"weeks":1},"start":"2026-03-01T09:00:00","restrictions":[{"days":["mon","fri"],"from":"09:00","to":"17:00"}]}]}"#;
    let s: Schedule = serde_json::from_str(json).unwrap();
    assert_eq!(s.layers[0].shift, ShiftLength::Weeks(1));
    assert_eq!(s.layers[0].restrictions[0].days, vec![Day::Mon, Day::Fri]);
    let shift = Shift {
        user: Some("a".into()),
        start: ts("2026-03-01T14:00Z"),
        end: ts("2026-03-08T13:00Z"),
        source: Some(ShiftSource::Layer {
            index: 0,
            name: "L".into(),
        }),
    };
    assert_eq!(
        serde_json::to_string(&shift).unwrap(),
        r#"{"user":"a","start":"2026-03-01T14:00:00Z","end":"2026-03-08T13:00:00Z","source":{"type":"layer","index":0,"name":"L"}}"#
    );
}
