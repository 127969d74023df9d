//! Turns an escalation step's targets (users, schedules, teams) into the
//! people to page at `now`, reading the directory inside the paging
//! transaction so a step sees one consistent picture.

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};
use warroom_domain::oncall::{Override, Schedule, Target, Team, TeamMode, User};
use warroom_store::{DirectoryKind, OverrideRecord, StoreError, WriteTx};

/// Who a step reaches, and what could not be resolved (for the timeline).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Resolved {
    /// Each user once, in target order.
    pub users: Vec<User>,
    /// `schedule:primary has no one on call`, `user:bob is not in the directory`...
    pub problems: Vec<String>,
}

impl Resolved {
    fn add(&mut self, user: User) {
        if !self.users.iter().any(|u| u.name == user.name) {
            self.users.push(user);
        }
    }
}

/// What the jobs of one paging round have already read. They run at the
/// same `now` in one transaction and never write the directory, so a
/// schedule's on-call user and a user's document are the same for all of
/// them: each is read (and a schedule compiled) once per round.
#[derive(Debug, Default)]
pub(crate) struct Lookups {
    users: HashMap<String, Option<User>>,
    on_call: HashMap<(String, Timestamp), Result<String, String>>,
}

pub(crate) fn decode<T: serde::de::DeserializeOwned>(
    what: &str,
    doc: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(doc).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

pub(crate) async fn load_user<T: WriteTx>(
    tx: &mut T,
    name: &str,
) -> Result<Option<User>, StoreError> {
    match tx.directory_doc(DirectoryKind::User, name).await? {
        Some(doc) => Ok(Some(decode(&format!("user {name}"), &doc)?)),
        None => Ok(None),
    }
}

/// Who is on call on `schedule` at `now` (`Ok(None)`: a gap or no such schedule).
pub(crate) async fn on_call<T: WriteTx>(
    tx: &mut T,
    schedule: &str,
    now: Timestamp,
) -> Result<Result<String, String>, StoreError> {
    let Some(doc) = tx.directory_doc(DirectoryKind::Schedule, schedule).await? else {
        return Ok(Err(format!("schedule:{schedule} does not exist")));
    };
    let definition: Schedule = decode(&format!("schedule {schedule}"), &doc)?;
    let overrides = tx
        .overrides_in(schedule, now, now + SignedDuration::from_millis(1))
        .await?
        .into_iter()
        .map(override_from)
        .collect();
    let compiled = definition
        .compile(overrides)
        .map_err(|e| StoreError::Corrupt(format!("schedule {schedule}: {e}")))?;
    Ok(match compiled.on_call_at(now) {
        Some(on_call) => Ok(on_call.user),
        None => Err(format!("schedule:{schedule} has no one on call")),
    })
}

async fn on_call_cached<T: WriteTx>(
    tx: &mut T,
    lookups: &mut Lookups,
    schedule: &str,
    now: Timestamp,
) -> Result<Result<String, String>, StoreError> {
    let key = (schedule.to_owned(), now);
    if let Some(known) = lookups.on_call.get(&key) {
        return Ok(known.clone());
    }
    let found = on_call(tx, schedule, now).await?;
    lookups.on_call.insert(key, found.clone());
    Ok(found)
}

async fn load_user_cached<T: WriteTx>(
    tx: &mut T,
    lookups: &mut Lookups,
    name: &str,
) -> Result<Option<User>, StoreError> {
    if let Some(known) = lookups.users.get(name) {
        return Ok(known.clone());
    }
    let user = load_user(tx, name).await?;
    lookups.users.insert(name.to_owned(), user.clone());
    Ok(user)
}

pub fn override_from(r: OverrideRecord) -> Override {
    Override {
        id: r.id,
        user: r.user,
        start: r.starts_at,
        end: r.ends_at,
    }
}

/// Resolves every target of a step at `now`. A team in round-robin mode
/// advances its shared cursor, so each page of that step goes to the next member.
pub async fn resolve<T: WriteTx>(
    tx: &mut T,
    targets: &[Target],
    now: Timestamp,
) -> Result<Resolved, StoreError> {
    resolve_with(tx, &mut Lookups::default(), targets, now).await
}

/// `resolve`, reusing (and filling) what this round already read.
pub(crate) async fn resolve_with<T: WriteTx>(
    tx: &mut T,
    lookups: &mut Lookups,
    targets: &[Target],
    now: Timestamp,
) -> Result<Resolved, StoreError> {
    let mut resolved = Resolved::default();
    for target in targets {
        let names: Vec<String> = match target {
            Target::User { name } => vec![name.clone()],
            Target::Schedule { name } => match on_call_cached(tx, lookups, name, now).await? {
                Ok(user) => vec![user],
                Err(problem) => {
                    resolved.problems.push(problem);
                    continue;
                }
            },
            Target::Team { name, mode } => {
                let Some(doc) = tx.directory_doc(DirectoryKind::Team, name).await? else {
                    resolved
                        .problems
                        .push(format!("team:{name} does not exist"));
                    continue;
                };
                let team: Team = decode(&format!("team {name}"), &doc)?;
                if team.members.is_empty() {
                    resolved
                        .problems
                        .push(format!("team:{name} has no members"));
                    continue;
                }
                match mode {
                    TeamMode::All => team.members.clone(),
                    TeamMode::RoundRobin => {
                        let next = tx.next_team_index(name).await?;
                        let index = usize::try_from(next).unwrap_or(0) % team.members.len();
                        vec![team.members[index].clone()]
                    }
                }
            }
        };
        for name in names {
            match load_user_cached(tx, lookups, &name).await? {
                Some(user) if user.is_reachable() => resolved.add(user),
                Some(_) => resolved
                    .problems
                    .push(format!("user:{name} has no verified contact method")),
                None => resolved
                    .problems
                    .push(format!("user:{name} is not in the directory")),
            }
        }
    }
    Ok(resolved)
}
