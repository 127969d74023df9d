//! Benchmarks of on-call schedule questions: who is on call now, and the
//! flattened timeline over a month.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use jiff::{SignedDuration, Timestamp};
use warroom_domain::oncall::{
    CompiledSchedule, Day, Layer, Override, Restriction, Schedule, ShiftLength,
};

fn layer(name: &str, users: &[&str], shift: ShiftLength, start: &str) -> Layer {
    Layer {
        name: name.into(),
        users: users.iter().map(|u| (*u).to_owned()).collect(),
        shift,
        start: start.parse().unwrap(),
        end: None,
        restrictions: Vec::new(),
    }
}

/// Five layers (daily and weekly, two restricted) and 50 overrides in
/// New York, the year before the instants asked about.
fn schedule() -> CompiledSchedule {
    let users = ["ann", "bob", "cat", "dan", "eve", "fay", "gus"];
    let mut business = layer(
        "business",
        &users[..4],
        ShiftLength::Weeks(1),
        "2025-01-06T09:00",
    );
    business.restrictions = vec![Restriction {
        days: vec![Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri],
        from: "09:00".parse().unwrap(),
        to: "17:00".parse().unwrap(),
    }];
    let mut nights = layer(
        "nights",
        &users[3..],
        ShiftLength::Days(1),
        "2025-01-01T18:00",
    );
    nights.restrictions = vec![Restriction {
        days: Vec::new(),
        from: "22:00".parse().unwrap(),
        to: "06:00".parse().unwrap(),
    }];
    let base = "2026-02-01T00:00Z".parse::<Timestamp>().unwrap();
    let overrides = (0..50)
        .map(|i| {
            let start = base + SignedDuration::from_hours(i * 19);
            Override {
                id: format!("o{i}"),
                user: users[i as usize % users.len()].into(),
                start,
                end: start + SignedDuration::from_hours(6),
            }
        })
        .collect();
    Schedule {
        name: "primary".into(),
        description: String::new(),
        time_zone: "America/New_York".into(),
        layers: vec![
            layer("primary", &users, ShiftLength::Weeks(1), "2025-01-06T09:00"),
            layer(
                "secondary",
                &users[1..],
                ShiftLength::Days(1),
                "2025-01-01T09:00",
            ),
            layer(
                "follow",
                &users[2..],
                ShiftLength::Days(2),
                "2025-01-01T08:30",
            ),
            business,
            nights,
        ],
    }
    .compile(overrides)
    .unwrap()
}

fn bench(c: &mut Criterion) {
    let s = schedule();
    let start = "2026-03-01T00:00Z".parse::<Timestamp>().unwrap();
    // A spread of instants over March 2026 (DST included), some in overrides.
    let instants: Vec<Timestamp> = (0..64)
        .map(|i| start + SignedDuration::from_mins(i * 697))
        .collect();
    let mut i = 0;
    c.bench_function("on_call_at, 5 layers + 50 overrides", |b| {
        b.iter(|| {
            i = (i + 1) % instants.len();
            black_box(s.on_call_at(black_box(instants[i])))
        })
    });
    c.bench_function("shifts over 30 days", |b| {
        b.iter(|| {
            black_box(s.shifts(
                black_box(start),
                start + SignedDuration::from_hours(30 * 24),
            ))
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
