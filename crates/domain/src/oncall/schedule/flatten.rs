//! Flattening: layers and overrides painted into one timeline of who is on
//! call, by a sweep over every boundary in the range.

use jiff::Timestamp;

use super::layer::Piece;
use super::{CompiledSchedule, Shift, ShiftSource, MAX_SHIFTS};

impl CompiledSchedule {
    /// The flattened timeline over [from, to), which the caller has already
    /// checked is non-empty and at most `MAX_RANGE` long.
    pub(super) fn flatten(&self, from: Timestamp, to: Timestamp) -> Vec<Shift> {
        let layers: Vec<Vec<Piece>> = self
            .layers
            .iter()
            .map(|layer| layer.pieces(&self.tz, from, to, true))
            .collect();
        let mut bounds: Vec<Timestamp> = vec![from, to];
        for piece in layers.iter().flatten() {
            bounds.extend([piece.start, piece.end]);
        }
        for o in &self.overrides {
            if o.start < to && o.end > from {
                bounds.extend([o.start.max(from), o.end.min(to)]);
            }
        }
        bounds.sort_unstable();
        bounds.dedup();

        let mut next = vec![0usize; layers.len()];
        // Overrides covering the current boundary, in (start, input order):
        // the last one wins.
        let mut active: Vec<usize> = Vec::new();
        let mut next_override = 0;
        let mut out: Vec<Shift> = Vec::new();
        for pair in bounds.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            while let Some(o) = self.overrides.get(next_override) {
                if o.start > a {
                    break;
                }
                if o.end > a {
                    active.push(next_override);
                }
                next_override += 1;
            }
            active.retain(|&i| self.overrides[i].end > a);
            let (user, source) = if let Some(&i) = active.last() {
                let o = &self.overrides[i];
                (
                    Some(o.user.as_str()),
                    Some(ShiftSource::Override { id: o.id.clone() }),
                )
            } else {
                let mut found = (None, None);
                for (l, pieces) in layers.iter().enumerate().rev() {
                    while pieces.get(next[l]).is_some_and(|p| p.end <= a) {
                        next[l] += 1;
                    }
                    if let Some(p) = pieces.get(next[l]).filter(|p| p.start <= a) {
                        let layer = &self.layers[l];
                        found = (Some(layer.user(p.k)), Some(layer.source.clone()));
                        break;
                    }
                }
                found
            };
            match out.last_mut() {
                Some(last) if last.user.as_deref() == user && last.source == source => last.end = b,
                _ => {
                    if out.len() >= MAX_SHIFTS {
                        break;
                    }
                    out.push(Shift {
                        user: user.map(str::to_owned),
                        start: a,
                        end: b,
                        source,
                    });
                }
            }
        }
        out
    }
}
