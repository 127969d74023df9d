//! The on-call directory service: users, teams, vendors, schedules and
//! escalation policies (from the playbook and the API), overrides, the
//! questions asked of schedules, calendar feeds, contact-method
//! verification, and the warnings that save pages.

use std::collections::BTreeSet;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use rand::Rng;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};
use warroom_domain::oncall::{
    ical, CompiledSchedule, EscalationPolicy, OnCall, Schedule, Shift, Target, Team, User, Vendor,
};
use warroom_domain::{DomainError, Playbook};
use warroom_store::{
    DirectoryEntry, DirectoryKind, DirectoryStore, FeedRecord, OverrideRecord, StoreError, TxStore,
    SOURCE_API, SOURCE_PLAYBOOK,
};

use crate::clock::Clock;
use crate::paging::targets::override_from;

mod verification;

pub use verification::{CODE_TTL, MAX_CODE_ATTEMPTS};

/// A directory document type: how it is stored, named and checked.
pub trait DirectoryDoc: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    const KIND: DirectoryKind;
    fn name(&self) -> &str;
    /// Checks the document on its own (references are checked by the service).
    fn check(&self) -> Result<(), DomainError>;

    /// The names this document refers to: (field, kind, name).
    fn references(&self) -> Vec<(String, DirectoryKind, String)> {
        Vec::new()
    }

    /// Before an API write: what the API may not assert by itself (a user's
    /// contact methods are verified only by a code; `old` is the stored version).
    fn restrict_api_write(&mut self, _old: Option<&Self>) {}
}

impl DirectoryDoc for User {
    const KIND: DirectoryKind = DirectoryKind::User;
    fn name(&self) -> &str {
        &self.name
    }
    fn check(&self) -> Result<(), DomainError> {
        self.validate()
    }
    /// A new or changed method (kind or address) starts unverified; an
    /// unchanged one keeps its state.
    fn restrict_api_write(&mut self, old: Option<&User>) {
        for m in &mut self.contact_methods {
            m.verified = old
                .and_then(|o| o.contact_method(&m.id))
                .is_some_and(|o| o.verified && o.kind == m.kind && o.address == m.address);
        }
    }
}

impl DirectoryDoc for Team {
    const KIND: DirectoryKind = DirectoryKind::Team;
    fn name(&self) -> &str {
        &self.name
    }
    fn check(&self) -> Result<(), DomainError> {
        self.validate()
    }
    fn references(&self) -> Vec<(String, DirectoryKind, String)> {
        self.members
            .iter()
            .enumerate()
            .map(|(i, m)| (format!("members[{i}]"), DirectoryKind::User, m.clone()))
            .collect()
    }
}

impl DirectoryDoc for Vendor {
    const KIND: DirectoryKind = DirectoryKind::Vendor;
    fn name(&self) -> &str {
        &self.name
    }
    fn check(&self) -> Result<(), DomainError> {
        self.validate()
    }
}

impl DirectoryDoc for Schedule {
    const KIND: DirectoryKind = DirectoryKind::Schedule;
    fn name(&self) -> &str {
        &self.name
    }
    fn check(&self) -> Result<(), DomainError> {
        self.compile(Vec::new()).map(|_| ())
    }
    fn references(&self) -> Vec<(String, DirectoryKind, String)> {
        let mut refs = Vec::new();
        for (l, layer) in self.layers.iter().enumerate() {
            for (i, u) in layer.users.iter().enumerate() {
                refs.push((
                    format!("layers[{l}].users[{i}]"),
                    DirectoryKind::User,
                    u.clone(),
                ));
            }
        }
        refs
    }
}

impl DirectoryDoc for EscalationPolicy {
    const KIND: DirectoryKind = DirectoryKind::Policy;
    fn name(&self) -> &str {
        &self.name
    }
    fn check(&self) -> Result<(), DomainError> {
        self.validate()
    }
    fn references(&self) -> Vec<(String, DirectoryKind, String)> {
        let mut refs = Vec::new();
        for (s, step) in self.steps.iter().enumerate() {
            for (t, target) in step.targets.iter().enumerate() {
                let kind = match target {
                    Target::User { .. } => DirectoryKind::User,
                    Target::Schedule { .. } => DirectoryKind::Schedule,
                    Target::Team { .. } => DirectoryKind::Team,
                };
                refs.push((
                    format!("steps[{s}].targets[{t}].name"),
                    kind,
                    target.name().to_owned(),
                ));
            }
        }
        refs
    }
}

/// A document with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored<T> {
    pub doc: T,
    /// `playbook` (read-only through the API) or `api`.
    pub source: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Something that will make a page go nowhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// `unreachable_user`, `unknown_reference`, `empty_step`, `schedule_gap`, `no_policy`.
    pub kind: String,
    /// `user:alice`, `schedule:primary`, `policy:default step 2`, `service:api`.
    pub subject: String,
    pub message: String,
}

/// How far ahead `warnings` looks for schedule gaps.
pub const GAP_HORIZON: SignedDuration = SignedDuration::from_hours(14 * 24);

fn decode<T: DeserializeOwned>(entry: &DirectoryEntry) -> Result<T, StoreError> {
    serde_json::from_str(&entry.doc)
        .map_err(|e| StoreError::Corrupt(format!("{} {}: {e}", entry.kind.as_str(), entry.name)))
}

fn encode<T: Serialize>(doc: &T) -> Result<String, StoreError> {
    serde_json::to_string(doc).map_err(|e| StoreError::Database(format!("encoding: {e}")))
}

pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The service. Cheap to clone.
#[derive(Clone)]
pub struct Oncall<S> {
    store: S,
    playbook: Arc<Playbook>,
    clock: Arc<dyn Clock>,
    /// Whether a channel can carry a message to a contact kind (`sms`, ...).
    carrier: Arc<dyn Fn(&str) -> bool + Send + Sync>,
}

impl<S: DirectoryStore + TxStore> Oncall<S> {
    pub fn new(store: S, playbook: Arc<Playbook>, clock: Arc<dyn Clock>) -> Oncall<S> {
        Oncall {
            store,
            playbook,
            clock,
            carrier: Arc::new(|_| true),
        }
    }

    /// Verification codes are refused for contact kinds `carries` says no
    /// channel can deliver to (by default every kind is carried).
    pub fn with_carrier(mut self, carries: impl Fn(&str) -> bool + Send + Sync + 'static) -> Self {
        self.carrier = Arc::new(carries);
        self
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Makes the directory's playbook entries exactly the playbook's `oncall:`
    /// section. Run at start-up, before serving.
    ///
    /// Refused (`Conflict`, nothing changed) when the playbook defines a name
    /// that an entry made through the API already has: the playbook would
    /// replace that entry, and removing the name from the playbook later
    /// would lose it for good. The message lists every such name and how to
    /// settle it.
    pub async fn sync_playbook(&self) -> Result<(), StoreError> {
        let now = self.clock.now();
        let oncall = &self.playbook.oncall;
        let mut entries = Vec::new();
        let mut add = |kind: DirectoryKind, name: &str, doc: String| {
            entries.push(DirectoryEntry {
                kind,
                name: name.to_owned(),
                doc,
                source: SOURCE_PLAYBOOK.to_owned(),
                created_at: now,
                updated_at: now,
            });
        };
        for u in &oncall.users {
            add(DirectoryKind::User, &u.name, encode(u)?);
        }
        for t in &oncall.teams {
            add(DirectoryKind::Team, &t.name, encode(t)?);
        }
        for v in &oncall.vendors {
            add(DirectoryKind::Vendor, &v.name, encode(v)?);
        }
        for s in &oncall.schedules {
            add(DirectoryKind::Schedule, &s.name, encode(s)?);
        }
        for p in &oncall.escalation_policies {
            add(DirectoryKind::Policy, &p.name, encode(p)?);
        }
        self.refuse_api_collisions(&entries).await?;
        self.store.sync_playbook_directory(&entries).await
    }

    /// `Conflict` naming every playbook entry whose kind and name an API
    /// entry already has.
    async fn refuse_api_collisions(&self, entries: &[DirectoryEntry]) -> Result<(), StoreError> {
        let mut collisions = Vec::new();
        for kind in [
            DirectoryKind::User,
            DirectoryKind::Team,
            DirectoryKind::Vendor,
            DirectoryKind::Schedule,
            DirectoryKind::Policy,
        ] {
            let from_api: BTreeSet<String> = self
                .store
                .list_directory(kind)
                .await?
                .into_iter()
                .filter(|e| e.source == SOURCE_API)
                .map(|e| e.name)
                .collect();
            collisions.extend(
                entries
                    .iter()
                    .filter(|e| e.kind == kind && from_api.contains(&e.name))
                    .map(|e| (kind, e.name.clone())),
            );
        }
        let Some((kind, name)) = collisions.first() else {
            return Ok(());
        };
        let listed: Vec<String> = collisions
            .iter()
            .map(|(kind, name)| format!("{} {name:?}", kind.as_str()))
            .collect();
        Err(StoreError::Conflict(format!(
            "the playbook's oncall section defines {}, which already exist{} as created through the API; \
             the playbook would take {} over, and a later playbook without {} would lose {} for good. \
             Nothing was changed. Rename each in the playbook, or delete the API-made entry first \
             (e.g. `warroom oncall {} delete {name}`) so that the playbook's definition is the only one",
            listed.join(", "),
            if collisions.len() == 1 { "s" } else { "" },
            them(collisions.len()),
            them(collisions.len()),
            them(collisions.len()),
            kind.as_str(),
        )))
    }

    pub async fn list<T: DirectoryDoc>(&self) -> Result<Vec<Stored<T>>, StoreError> {
        self.store
            .list_directory(T::KIND)
            .await?
            .iter()
            .map(|e| {
                Ok(Stored {
                    doc: decode(e)?,
                    source: e.source.clone(),
                    created_at: e.created_at,
                    updated_at: e.updated_at,
                })
            })
            .collect()
    }

    pub async fn get<T: DirectoryDoc>(&self, name: &str) -> Result<Stored<T>, StoreError> {
        let entry = self
            .store
            .get_directory(T::KIND, name)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("{} {name}", T::KIND.as_str())))?;
        Ok(Stored {
            doc: decode(&entry)?,
            source: entry.source,
            created_at: entry.created_at,
            updated_at: entry.updated_at,
        })
    }

    async fn exists(&self, kind: DirectoryKind, name: &str) -> Result<bool, StoreError> {
        Ok(self.store.get_directory(kind, name).await?.is_some())
    }

    /// Checks that every name a document refers to exists.
    async fn check_references<T: DirectoryDoc>(&self, doc: &T) -> Result<(), StoreError> {
        let refs = doc.references();
        for (field, kind, name) in refs {
            if !self.exists(kind, &name).await? {
                return Err(DomainError::invalid(
                    field,
                    format!("no {} named {name:?}; create it first", kind.as_str()),
                )
                .into());
            }
        }
        Ok(())
    }

    /// Creates an API-defined entry. Contact methods start unverified.
    pub async fn create<T: DirectoryDoc>(&self, mut doc: T) -> Result<Stored<T>, StoreError> {
        doc.check()?;
        self.check_references(&doc).await?;
        doc.restrict_api_write(None);
        let now = self.clock.now();
        self.store
            .insert_directory(&DirectoryEntry {
                kind: T::KIND,
                name: doc.name().to_owned(),
                doc: encode(&doc)?,
                source: SOURCE_API.to_owned(),
                created_at: now,
                updated_at: now,
            })
            .await?;
        self.get(doc.name()).await
    }

    /// Replaces an API-defined entry; the name in the path must match the document's.
    /// A contact method keeps its verification only if its kind and address are unchanged.
    pub async fn replace<T: DirectoryDoc>(
        &self,
        name: &str,
        mut doc: T,
    ) -> Result<Stored<T>, StoreError> {
        if doc.name() != name {
            return Err(DomainError::invalid(
                "name",
                format!(
                    "is {:?} but the URL names {name:?}; names cannot change",
                    doc.name()
                ),
            )
            .into());
        }
        doc.check()?;
        self.check_references(&doc).await?;
        let old: Stored<T> = self.get(name).await?;
        doc.restrict_api_write(Some(&old.doc));
        self.store
            .update_directory(&DirectoryEntry {
                kind: T::KIND,
                name: name.to_owned(),
                doc: encode(&doc)?,
                source: SOURCE_API.to_owned(),
                created_at: old.created_at,
                updated_at: self.clock.now(),
            })
            .await?;
        self.get(name).await
    }

    pub async fn delete<T: DirectoryDoc>(&self, name: &str) -> Result<(), StoreError> {
        self.store.delete_directory(T::KIND, name).await
    }

    async fn compiled(
        &self,
        name: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<CompiledSchedule, StoreError> {
        let schedule: Stored<Schedule> = self.get(name).await?;
        let overrides = self
            .store
            .list_overrides(name, from, to)
            .await?
            .into_iter()
            .map(override_from)
            .collect();
        schedule
            .doc
            .compile(overrides)
            .map_err(|e| StoreError::Corrupt(format!("schedule {name}: {e}")))
    }

    /// Who is on call on `schedule` at `at` (`None`: a gap).
    pub async fn on_call_at(
        &self,
        schedule: &str,
        at: Timestamp,
    ) -> Result<Option<OnCall>, StoreError> {
        let compiled = self
            .compiled(schedule, at, at + SignedDuration::from_millis(1))
            .await?;
        Ok(compiled.on_call_at(at))
    }

    /// The final shifts of a schedule in [from, to), gaps included.
    pub async fn shifts(
        &self,
        schedule: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<Shift>, StoreError> {
        check_range(from, to)?;
        Ok(self.compiled(schedule, from, to).await?.shifts(from, to))
    }

    /// A user's shifts on every schedule in [from, to), by start.
    pub async fn user_shifts(
        &self,
        user: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<(String, Shift)>, StoreError> {
        check_range(from, to)?;
        let _: Stored<User> = self.get(user).await?;
        let mut all = Vec::new();
        for schedule in self.list::<Schedule>().await? {
            let name = schedule.doc.name.clone();
            let compiled = self.compiled(&name, from, to).await?;
            all.extend(
                compiled
                    .user_shifts(user, from, to)
                    .into_iter()
                    .map(|s| (name.clone(), s)),
            );
        }
        all.sort_by_key(|(_, s)| s.start);
        Ok(all)
    }

    pub async fn create_override(
        &self,
        schedule: &str,
        user: &str,
        start: Timestamp,
        end: Timestamp,
        actor: &str,
    ) -> Result<OverrideRecord, StoreError> {
        if end <= start {
            return Err(DomainError::invalid("end", "must be after start").into());
        }
        if end.duration_since(start) > SignedDuration::from_hours(366 * 24) {
            return Err(DomainError::invalid("end", "an override lasts at most a year").into());
        }
        let _: Stored<Schedule> = self.get(schedule).await?;
        if !self.exists(DirectoryKind::User, user).await? {
            return Err(DomainError::invalid("user", format!("no user named {user:?}")).into());
        }
        let record = OverrideRecord {
            id: format!("ovr_{}", hex::encode(rand::rng().random::<[u8; 6]>())),
            schedule: schedule.to_owned(),
            user: user.to_owned(),
            starts_at: start,
            ends_at: end,
            created_by: actor.to_owned(),
            created_at: self.clock.now(),
        };
        self.store.insert_override(&record).await?;
        Ok(record)
    }

    pub async fn list_overrides(
        &self,
        schedule: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<OverrideRecord>, StoreError> {
        let _: Stored<Schedule> = self.get(schedule).await?;
        self.store.list_overrides(schedule, from, to).await
    }

    pub async fn delete_override(&self, schedule: &str, id: &str) -> Result<(), StoreError> {
        self.store.delete_override(schedule, id).await
    }

    /// Everything that would make a page reach nobody: unreachable users on
    /// schedules, teams or policies; references to missing entries; policy
    /// steps that resolve to nobody now; gaps in the next 14 days; services
    /// without a policy.
    pub async fn warnings(&self, now: Timestamp) -> Result<Vec<Warning>, StoreError> {
        let mut warnings = Vec::new();
        let users = self.list::<User>().await?;
        let teams = self.list::<Team>().await?;
        let schedules = self.list::<Schedule>().await?;
        let policies = self.list::<EscalationPolicy>().await?;
        let user = |name: &str| users.iter().find(|u| u.doc.name == name).map(|u| &u.doc);
        let mut paged_users: BTreeSet<String> = BTreeSet::new();
        for s in &schedules {
            for layer in &s.doc.layers {
                paged_users.extend(layer.users.iter().cloned());
            }
        }
        for t in &teams {
            paged_users.extend(t.doc.members.iter().cloned());
        }
        for p in &policies {
            for step in &p.doc.steps {
                for target in &step.targets {
                    if let Target::User { name } = target {
                        paged_users.insert(name.clone());
                    }
                }
            }
        }
        for name in &paged_users {
            match user(name) {
                None => warnings.push(Warning {
                    kind: "unknown_reference".into(),
                    subject: format!("user:{name}"),
                    message: format!("{name} is on a schedule, team or policy but not in the directory"),
                }),
                Some(u) if !u.is_reachable() => warnings.push(Warning {
                    kind: "unreachable_user".into(),
                    subject: format!("user:{name}"),
                    message: format!(
                        "{name} has no verified contact method: pages to them reach no one; add one and verify it"
                    ),
                }),
                Some(_) => {}
            }
        }
        let horizon = now + GAP_HORIZON;
        for s in &schedules {
            let compiled = self.compiled(&s.doc.name, now, horizon).await?;
            for (start, end) in compiled.gaps(now, horizon) {
                warnings.push(Warning {
                    kind: "schedule_gap".into(),
                    subject: format!("schedule:{}", s.doc.name),
                    message: format!("no one is on call from {start} to {end}"),
                });
            }
        }
        for p in &policies {
            for (i, step) in p.doc.steps.iter().enumerate() {
                let reachable = self
                    .step_reaches_someone(&step.targets, &users, &teams, now)
                    .await?;
                if !reachable {
                    warnings.push(Warning {
                        kind: "empty_step".into(),
                        subject: format!("policy:{} step {}", p.doc.name, i + 1),
                        message: "this step resolves to nobody reachable right now".into(),
                    });
                }
            }
        }
        for service in &self.playbook.services {
            if self.playbook.escalation_policy_for(&service.id).is_none() {
                warnings.push(Warning {
                    kind: "no_policy".into(),
                    subject: format!("service:{}", service.id),
                    message: "no escalation policy: its incidents page no one; set escalation_policy or oncall.default_escalation_policy".into(),
                });
            }
        }
        Ok(warnings)
    }

    async fn step_reaches_someone(
        &self,
        targets: &[Target],
        users: &[Stored<User>],
        teams: &[Stored<Team>],
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let reachable = |name: &str| {
            users
                .iter()
                .any(|u| u.doc.name == name && u.doc.is_reachable())
        };
        for target in targets {
            let ok = match target {
                Target::User { name } => reachable(name),
                Target::Team { name, .. } => teams
                    .iter()
                    .find(|t| &t.doc.name == name)
                    .is_some_and(|t| t.doc.members.iter().any(|m| reachable(m))),
                Target::Schedule { name } => match self.on_call_at(name, now).await {
                    Ok(Some(on_call)) => reachable(&on_call.user),
                    Ok(None) | Err(StoreError::NotFound(_)) => false,
                    Err(e) => return Err(e),
                },
            };
            if ok {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Creates a secret calendar URL token for a schedule or user; the
    /// token is returned only now.
    pub async fn create_feed(
        &self,
        kind: &str,
        name: &str,
    ) -> Result<(FeedRecord, String), StoreError> {
        let exists = match kind {
            "schedule" => self.exists(DirectoryKind::Schedule, name).await?,
            "user" => self.exists(DirectoryKind::User, name).await?,
            _ => return Err(DomainError::invalid("kind", "must be schedule or user").into()),
        };
        if !exists {
            return Err(StoreError::NotFound(format!("{kind} {name}")));
        }
        let token = format!("wrcal_{}", hex::encode(rand::rng().random::<[u8; 24]>()));
        let feed = FeedRecord {
            id: format!("cal_{}", hex::encode(rand::rng().random::<[u8; 6]>())),
            kind: kind.to_owned(),
            name: name.to_owned(),
            created_at: self.clock.now(),
            revoked_at: None,
        };
        self.store.insert_feed(&feed, &hash_secret(&token)).await?;
        Ok((feed, token))
    }

    pub async fn list_feeds(&self) -> Result<Vec<FeedRecord>, StoreError> {
        self.store.list_feeds().await
    }

    pub async fn revoke_feed(&self, id: &str) -> Result<(), StoreError> {
        self.store.revoke_feed(id, self.clock.now()).await
    }

    /// The calendar behind a feed token: whole UTC days, from
    /// [`ical::DAYS_BACK`] days back to `days_ahead` (default
    /// [`ical::DAYS_AHEAD`]) ahead; see [`ical::window`].
    pub async fn calendar(
        &self,
        token: &str,
        days_ahead: Option<i64>,
    ) -> Result<String, StoreError> {
        let feed = self
            .store
            .find_feed(&hash_secret(token))
            .await?
            .ok_or_else(|| StoreError::NotFound("calendar feed".into()))?;
        let now = self.clock.now();
        let (from, to) = ical::window(now, days_ahead)?;
        let title = if feed.kind == "schedule" {
            format!("On call: {}", feed.name)
        } else {
            format!("On-call shifts of {}", feed.name)
        };
        let shifts = self.feed_shifts(&feed, from, to).await?;
        Ok(ical::render_calendar(&title, &shifts, now))
    }

    /// A feed's shifts that overlap [from, to), asked in pieces a schedule
    /// answers (at most `MAX_RANGE` each) and joined again, starting
    /// [`ical::LOOKBACK`] early so a shift under way at `from` keeps its start.
    async fn feed_shifts(
        &self,
        feed: &FeedRecord,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<(String, Shift)>, StoreError> {
        let mut shifts = Vec::new();
        let mut start = from - ical::LOOKBACK;
        while start < to {
            let end = to.min(start + warroom_domain::oncall::schedule::MAX_RANGE);
            let piece = if feed.kind == "schedule" {
                self.shifts(&feed.name, start, end)
                    .await?
                    .into_iter()
                    .map(|s| (feed.name.clone(), s))
                    .collect()
            } else {
                self.user_shifts(&feed.name, start, end).await?
            };
            for shift in piece {
                ical::append_joined(&mut shifts, shift);
            }
            start = end;
        }
        shifts.retain(|(_, s)| s.end > from);
        Ok(shifts)
    }
}

/// `it` or `them`.
fn them(count: usize) -> &'static str {
    if count == 1 {
        "it"
    } else {
        "them"
    }
}

fn check_range(from: Timestamp, to: Timestamp) -> Result<(), StoreError> {
    if to <= from {
        return Err(DomainError::invalid("to", "must be after from").into());
    }
    if to.duration_since(from) > warroom_domain::oncall::schedule::MAX_RANGE {
        return Err(DomainError::invalid("to", "a range spans at most 400 days").into());
    }
    Ok(())
}
