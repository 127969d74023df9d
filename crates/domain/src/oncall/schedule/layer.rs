//! One compiled layer: where its hand-offs fall, who holds shift k, and the
//! restriction windows that cut its shifts.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::local::{add_days, instant};
use super::{Day, Restriction, ShiftLength, ShiftSource, MAX_SHIFTS};

/// How hand-offs advance.
#[derive(Debug, Clone, Copy)]
enum Step {
    /// Elapsed time: hand-off k = instant(start) + k * len.
    Elapsed(SignedDuration),
    /// Calendar days in the zone: hand-off k = instant(civil(start) + k * n days).
    Days(i64),
}

/// A restriction window: starts at `from` on the days in `days` (bit 0 =
/// Monday), ends at `to` the same day, or the next day when `to <= from`.
#[derive(Debug, Clone, Copy)]
struct Window {
    days: u8,
    from: Time,
    to: Time,
}

impl Window {
    fn new(restriction: &Restriction) -> Window {
        let days = if restriction.days.is_empty() {
            0x7f
        } else {
            restriction
                .days
                .iter()
                .fold(0, |mask, day| mask | 1 << day_bit(*day))
        };
        Window {
            days,
            from: restriction.from,
            to: restriction.to,
        }
    }

    /// The window starting on `date`, as instants, if it starts on that
    /// weekday and is not empty once mapped (both ends in one gap).
    fn on(&self, tz: &TimeZone, date: Date) -> Option<(Timestamp, Timestamp)> {
        if self.days & (1 << date.weekday().to_monday_zero_offset()) == 0 {
            return None;
        }
        let end_date = if self.to <= self.from {
            date.tomorrow().ok()?
        } else {
            date
        };
        let start = instant(tz, date.to_datetime(self.from));
        let end = instant(tz, end_date.to_datetime(self.to));
        (end > start).then_some((start, end))
    }
}

fn day_bit(day: Day) -> u8 {
    match day {
        Day::Mon => 0,
        Day::Tue => 1,
        Day::Wed => 2,
        Day::Thu => 3,
        Day::Fri => 4,
        Day::Sat => 5,
        Day::Sun => 6,
    }
}

/// A stretch of one layer's shift `k` in which its user is on call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Piece {
    pub(super) start: Timestamp,
    pub(super) end: Timestamp,
    pub(super) k: i64,
}

#[derive(Debug, Clone)]
pub(super) struct CompiledLayer {
    pub(super) source: ShiftSource,
    users: Vec<String>,
    step: Step,
    start_civil: DateTime,
    start: Timestamp,
    /// `Timestamp::MAX` when the layer never ends.
    end: Timestamp,
    windows: Vec<Window>,
}

impl CompiledLayer {
    /// Compiles a validated layer.
    pub(super) fn new(tz: &TimeZone, index: usize, layer: &super::Layer) -> CompiledLayer {
        let step = match layer.shift {
            ShiftLength::Hours(h) => Step::Elapsed(SignedDuration::from_hours(i64::from(h))),
            ShiftLength::Days(d) => Step::Days(i64::from(d)),
            ShiftLength::Weeks(w) => Step::Days(7 * i64::from(w)),
        };
        CompiledLayer {
            source: ShiftSource::Layer {
                index,
                name: layer.name.clone(),
            },
            users: layer.users.clone(),
            step,
            start_civil: layer.start,
            start: instant(tz, layer.start),
            end: layer.end.map_or(Timestamp::MAX, |end| instant(tz, end)),
            windows: layer.restrictions.iter().map(Window::new).collect(),
        }
    }

    /// The user holding shift `k`.
    pub(super) fn user(&self, k: i64) -> &str {
        let n = self.users.len() as i64;
        self.users
            .get(k.rem_euclid(n.max(1)) as usize)
            .map_or("", String::as_str)
    }

    /// Hand-off `k` (the start of shift `k`), saturating at `Timestamp::MAX`.
    fn handoff(&self, tz: &TimeZone, k: i64) -> Timestamp {
        match self.step {
            Step::Elapsed(len) => i32::try_from(k)
                .ok()
                .and_then(|k| len.checked_mul(k))
                .and_then(|offset| self.start.checked_add(offset).ok())
                .unwrap_or(Timestamp::MAX),
            Step::Days(n) => k
                .checked_mul(n)
                .and_then(|days| add_days(self.start_civil, days))
                .map_or(Timestamp::MAX, |dt| instant(tz, dt)),
        }
    }

    /// The shift containing `t` as (k, start, end), its end cut at the
    /// layer's end; `None` before the layer starts or after it ends.
    ///
    /// The index is estimated from the elapsed time (hours) or elapsed civil
    /// days (days, weeks) and corrected by a step or two: never a walk from
    /// the start.
    pub(super) fn shift_at(
        &self,
        tz: &TimeZone,
        t: Timestamp,
    ) -> Option<(i64, Timestamp, Timestamp)> {
        if t < self.start || t >= self.end {
            return None;
        }
        let mut k = match self.step {
            Step::Elapsed(len) => t.duration_since(self.start).as_secs() / len.as_secs().max(1),
            Step::Days(n) => tz
                .to_datetime(t)
                .duration_since(self.start_civil)
                .as_secs()
                .div_euclid(86_400 * n.max(1)),
        }
        .max(0);
        let mut start = self.handoff(tz, k);
        // The estimate is off by at most one (a DST offset is far less than a
        // day); the bounds below only guard against an endless loop.
        for _ in 0..4 {
            if k == 0 || start <= t {
                break;
            }
            k -= 1;
            start = self.handoff(tz, k);
        }
        let mut end = self.handoff(tz, k + 1);
        for _ in 0..4 {
            if end > t {
                break;
            }
            k += 1;
            start = end;
            end = self.handoff(tz, k + 1);
        }
        Some((k, start.max(self.start), end.min(self.end)))
    }

    /// Whether `t` falls in one of the restriction windows (always, without restrictions).
    fn in_window(&self, tz: &TimeZone, t: Timestamp) -> bool {
        if self.windows.is_empty() {
            return true;
        }
        let date = tz.to_datetime(t).date();
        window_dates(date, date)
            .flat_map(|d| self.windows.iter().filter_map(move |w| w.on(tz, d)))
            .any(|(start, end)| start <= t && t < end)
    }

    /// Who of this layer is on call at `t`, with restrictions applied.
    pub(super) fn user_at(&self, tz: &TimeZone, t: Timestamp) -> Option<&str> {
        let (k, _, _) = self.shift_at(tz, t)?;
        self.in_window(tz, t).then(|| self.user(k))
    }

    /// The restriction windows intersecting [from, to), merged where they
    /// touch or overlap, in order.
    fn windows_between(
        &self,
        tz: &TimeZone,
        from: Timestamp,
        to: Timestamp,
    ) -> Vec<(Timestamp, Timestamp)> {
        let first = tz.to_datetime(from).date();
        let last = tz.to_datetime(to).date();
        let mut windows: Vec<(Timestamp, Timestamp)> = window_dates(first, last)
            .flat_map(|d| self.windows.iter().filter_map(move |w| w.on(tz, d)))
            .filter(|&(start, end)| start < to && end > from)
            .collect();
        windows.sort();
        let mut merged: Vec<(Timestamp, Timestamp)> = Vec::with_capacity(windows.len());
        for (start, end) in windows {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        merged
    }

    /// The pieces of this layer's shifts (shifts cut by restriction windows)
    /// that intersect [from, to), in order. With `clip`, pieces are cut to
    /// [from, to); without, they keep their full bounds. At most
    /// `MAX_SHIFTS` pieces.
    pub(super) fn pieces(
        &self,
        tz: &TimeZone,
        from: Timestamp,
        to: Timestamp,
        clip: bool,
    ) -> Vec<Piece> {
        let lo = from.max(self.start);
        let hi = to.min(self.end);
        let mut pieces = Vec::new();
        if lo >= hi {
            return pieces;
        }
        let Some((mut k, mut start, mut end)) = self.shift_at(tz, lo) else {
            return pieces;
        };
        let windows = if self.windows.is_empty() {
            None
        } else if clip {
            Some(self.windows_between(tz, lo, hi))
        } else {
            // Whole shifts are reported: read the windows over all of them.
            let last_end = hi
                .checked_sub(SignedDuration::from_nanos(1))
                .ok()
                .and_then(|t| self.shift_at(tz, t))
                .map_or(hi, |(_, _, end)| end);
            Some(self.windows_between(tz, start, last_end))
        };
        let (bound_lo, bound_hi) = if clip {
            (lo, hi)
        } else {
            (Timestamp::MIN, Timestamp::MAX)
        };
        let mut next_window = 0;
        let push = |pieces: &mut Vec<Piece>, k: i64, s: Timestamp, e: Timestamp| {
            let (s, e) = (s.max(bound_lo), e.min(bound_hi));
            if s < e && s < to && e > from {
                pieces.push(Piece {
                    start: s,
                    end: e,
                    k,
                });
            }
        };
        for _ in 0..2 * MAX_SHIFTS {
            match &windows {
                None => push(&mut pieces, k, start, end),
                Some(windows) => {
                    while windows.get(next_window).is_some_and(|w| w.1 <= start) {
                        next_window += 1;
                    }
                    for &(ws, we) in windows[next_window..].iter().take_while(|w| w.0 < end) {
                        push(&mut pieces, k, ws.max(start), we.min(end));
                    }
                }
            }
            if end >= hi || pieces.len() >= MAX_SHIFTS {
                break;
            }
            k += 1;
            start = end;
            end = self.handoff(tz, k + 1).min(self.end);
        }
        pieces.truncate(MAX_SHIFTS);
        pieces
    }
}

/// Most local dates whose windows are read at once: a 400-day range plus a
/// 366-day shift on each side, with margin.
const MAX_WINDOW_DATES: usize = 1_200;

/// The local dates on which a window touching local dates first..=last may
/// start: a window lasts at most a day and a bit, and a fold can put an
/// instant's local date before a window's start date, so one day of margin on
/// each side, two before. At most `MAX_WINDOW_DATES`.
fn window_dates(first: Date, last: Date) -> impl Iterator<Item = Date> {
    let start = first.yesterday().and_then(Date::yesterday).unwrap_or(first);
    let stop = last.tomorrow().unwrap_or(last);
    std::iter::successors(Some(start), move |d| {
        if *d >= stop {
            None
        } else {
            d.tomorrow().ok()
        }
    })
    .take(MAX_WINDOW_DATES)
}
