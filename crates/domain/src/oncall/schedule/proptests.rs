//! Property tests: random layers in three DST zones, random overrides; the
//! flattened timeline, the layers' shifts and `on_call_at` agree.

use jiff::civil::{date, time, DateTime};
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

use super::*;

const ZONES: [&str; 3] = ["America/New_York", "Europe/London", "Australia/Lord_Howe"];
const DAYS: [Day; 7] = [
    Day::Mon,
    Day::Tue,
    Day::Wed,
    Day::Thu,
    Day::Fri,
    Day::Sat,
    Day::Sun,
];

/// Local datetimes in 2026 biased towards the transitions' dates and hours.
fn local() -> impl Strategy<Value = DateTime> {
    let near = prop_oneof![
        Just(date(2026, 3, 8)),
        Just(date(2026, 3, 29)),
        Just(date(2026, 4, 5)),
        Just(date(2026, 10, 4)),
        Just(date(2026, 10, 25)),
        Just(date(2026, 11, 1)),
    ];
    (
        near,
        -9i64..3,
        0i8..24,
        prop_oneof![Just(0i8), Just(15), Just(30), Just(45)],
    )
        .prop_map(|(d, shift, h, m)| {
            super::local::add_days(d.to_datetime(time(h, m, 0, 0)), shift).unwrap()
        })
}

fn shift_length() -> impl Strategy<Value = ShiftLength> {
    prop_oneof![
        (1u32..50).prop_map(ShiftLength::Hours),
        (1u32..4).prop_map(ShiftLength::Days),
        (1u32..3).prop_map(ShiftLength::Weeks),
    ]
}

fn restriction() -> impl Strategy<Value = Restriction> {
    let quarter = (
        0i8..24,
        prop_oneof![Just(0i8), Just(15), Just(30), Just(45)],
    )
        .prop_map(|(h, m)| time(h, m, 0, 0));
    (
        proptest::sample::subsequence(DAYS.to_vec(), 0..=7),
        quarter.clone(),
        quarter,
    )
        .prop_map(|(days, from, to)| Restriction { days, from, to })
}

fn layer() -> impl Strategy<Value = Layer> {
    (
        proptest::collection::vec(
            prop_oneof![Just("a"), Just("b"), Just("c"), Just("d")],
            1..4,
        ),
        shift_length(),
        local(),
        proptest::option::weighted(0.2, 1i64..20),
        proptest::collection::vec(restriction(), 0..3),
        any::<bool>(),
    )
        .prop_map(
            |(users, shift, start, end_days, restrictions, restricted)| Layer {
                name: "layer".into(),
                users: users.into_iter().map(str::to_owned).collect(),
                shift,
                start,
                end: end_days.and_then(|d| super::local::add_days(start, d)),
                restrictions: if restricted { restrictions } else { Vec::new() },
            },
        )
}

fn instant() -> impl Strategy<Value = Timestamp> {
    // 2026-02-20 to 2026-11-20, to the minute.
    (0i64..(273 * 24 * 60)).prop_map(|m| {
        "2026-02-20T00:00Z".parse::<Timestamp>().unwrap() + SignedDuration::from_mins(m)
    })
}

fn range() -> impl Strategy<Value = (Timestamp, Timestamp)> {
    (instant(), 1i64..(21 * 24 * 60))
        .prop_map(|(from, mins)| (from, from + SignedDuration::from_mins(mins)))
}

/// A compiled schedule of 1 to 3 layers and a range with 0 to 5 overrides
/// placed in (and a little around) it, so that they overlap often.
fn case() -> impl Strategy<Value = (CompiledSchedule, Timestamp, Timestamp)> {
    let overrides = proptest::collection::vec((-0.2f64..1.1, 0.01f64..0.6, 0usize..3), 0..6);
    (
        0usize..3,
        proptest::collection::vec(layer(), 1..4),
        range(),
        overrides,
    )
        .prop_map(|(zone, layers, (from, to), overrides)| {
            let span = to.duration_since(from).as_secs_f64();
            let overrides = overrides
                .into_iter()
                .enumerate()
                .map(|(i, (at, len, user))| {
                    let start = from + SignedDuration::from_secs((span * at) as i64);
                    Override {
                        id: format!("o{i}"),
                        user: ["x", "y", "a"][user].into(),
                        start,
                        end: start + SignedDuration::from_secs((span * len) as i64 + 1),
                    }
                })
                .collect();
            let s = Schedule {
                name: "primary".into(),
                description: String::new(),
                time_zone: ZONES[zone].into(),
                layers,
            }
            .compile(overrides)
            .unwrap();
            (s, from, to)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// `shifts` are contiguous, ordered, cover [from, to) exactly, merge
    /// neighbours, and at every sampled instant agree with `on_call_at`.
    #[test]
    fn shifts_cover_the_range_and_agree_with_on_call_at(
        (s, from, to) in case(),
        samples in proptest::collection::vec(0.0f64..1.0, 20),
    ) {
        let shifts = s.shifts(from, to);
        prop_assert_eq!(shifts.first().map(|x| x.start), Some(from));
        prop_assert_eq!(shifts.last().map(|x| x.end), Some(to));
        for pair in shifts.windows(2) {
            prop_assert_eq!(pair[0].end, pair[1].start);
            prop_assert!(
                pair[0].user != pair[1].user || pair[0].source != pair[1].source,
                "unmerged neighbours {:?}", pair
            );
        }
        for shift in &shifts {
            prop_assert!(shift.start < shift.end);
            prop_assert_eq!(shift.user.is_none(), shift.source.is_none());
        }
        // Sample random instants and every boundary, a nanosecond either side.
        let span = to.duration_since(from).as_secs_f64();
        let mut instants: Vec<Timestamp> = samples
            .iter()
            .map(|f| from + SignedDuration::from_secs_f64(span * f))
            .collect();
        for shift in &shifts {
            instants.push(shift.start);
            instants.push(shift.start - SignedDuration::from_nanos(1));
            instants.push(shift.end - SignedDuration::from_nanos(1));
        }
        for t in instants.into_iter().filter(|t| *t >= from && *t < to) {
            let shift = shifts.iter().find(|x| x.start <= t && t < x.end).unwrap();
            let on_call = s.on_call_at(t);
            prop_assert_eq!(
                on_call.as_ref().map(|o| (&o.user, &o.source)),
                shift.user.as_ref().zip(shift.source.as_ref()),
                "at {} in {:?}", t, shift
            );
        }
    }

    /// A layer's shifts never overlap; without restrictions they leave no
    /// hole between max(from, start) and min(to, end).
    #[test]
    fn layer_shifts_do_not_overlap_and_cover_without_restrictions(
        (s, from, to) in case(),
    ) {
        for (i, layer) in s.schedule().layers.iter().enumerate() {
            let shifts = s.layer_shifts(i, from, to);
            for pair in shifts.windows(2) {
                prop_assert!(pair[0].end <= pair[1].start, "overlap {:?}", pair);
            }
            for shift in &shifts {
                prop_assert!(shift.start < shift.end && shift.start < to && shift.end > from);
            }
            if !layer.restrictions.is_empty() {
                continue;
            }
            let tz = s.time_zone();
            let start = super::local::instant(tz, layer.start);
            let end = layer.end.map_or(Timestamp::MAX, |e| super::local::instant(tz, e));
            let (lo, hi) = (from.max(start), to.min(end));
            if lo >= hi {
                prop_assert!(shifts.is_empty());
                continue;
            }
            prop_assert!(shifts.first().unwrap().start <= lo);
            prop_assert!(shifts.last().unwrap().end >= hi);
            for pair in shifts.windows(2) {
                prop_assert_eq!(pair[0].end, pair[1].start);
            }
        }
    }

    /// With one unrestricted layer and no overrides, the flattened timeline
    /// is the layer's shifts cut to the range.
    #[test]
    fn one_layer_flattens_to_its_shifts(
        zone in 0usize..3,
        l in layer(),
        (from, to) in range(),
    ) {
        let l = Layer { restrictions: Vec::new(), ..l };
        let s = Schedule {
            name: "primary".into(),
            description: String::new(),
            time_zone: ZONES[zone].into(),
            layers: vec![l],
        }
        .compile(vec![])
        .unwrap();
        let layer: Vec<(Option<String>, Timestamp, Timestamp)> = s
            .layer_shifts(0, from, to)
            .into_iter()
            .map(|x| (x.user, x.start.max(from), x.end.min(to)))
            .collect();
        let flat: Vec<(Option<String>, Timestamp, Timestamp)> = s
            .shifts(from, to)
            .into_iter()
            .filter(|x| x.user.is_some())
            .map(|x| (x.user, x.start, x.end))
            .collect();
        // Merge the layer's neighbours with the same user, as `shifts` does.
        let mut merged: Vec<(Option<String>, Timestamp, Timestamp)> = Vec::new();
        for piece in layer {
            match merged.last_mut() {
                Some(last) if last.0 == piece.0 && last.2 == piece.1 => last.2 = piece.2,
                _ => merged.push(piece),
            }
        }
        prop_assert_eq!(flat, merged);
    }
}
