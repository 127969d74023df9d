//! Slows password guessing at the sign-in form: failed sign-ins are counted
//! in memory per (account, address), per address and per account, and past
//! a limit the form answers 429 without checking the password.
//!
//! The rule (an account is its email, case-insensitive; an address is the
//! client's IP, an IPv6 client's /64):
//!
//! - **Per account and address (the hard block).** An address may fail 5
//!   times in a row for one account. Then that account is locked *for that
//!   address* for 1 minute after the last failure; each further failure
//!   after a lock doubles it (2, 4, 8 minutes), up to 15 minutes. Failures
//!   are forgotten an hour after the last one, or when the address signs in
//!   to the account.
//! - **Per address.** An address may fail 20 times in 5 minutes, whatever
//!   the accounts; then it waits until the oldest of those is 5 minutes old.
//! - **Per account across addresses (under attack).** Once an account has
//!   failed 20 times in a row from any addresses (forgotten an hour after
//!   the last), each address gets 1 failure for it instead of 5 before its
//!   lock, so many addresses together still guess slowly.
//!
//! An attacker therefore cannot lock the real owner out: the owner's
//! address has no failures of its own, so the right password from it
//! signs in even while the attacker's addresses are locked.
//!
//! An attempt is counted as a failure when it starts and taken back when it
//! succeeds, so many parallel guesses cannot all pass the check before the
//! first one fails. Time is an argument (`now`), so tests use a manual clock.
//! The state is a guard, not data: it is in memory, forgotten on restart,
//! and each table holds at most `MAX_ENTRIES`: when full, stale entries go,
//! then those with the fewest failures, so flooding the table with new
//! names and addresses does not free a locked pair.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;

use jiff::{SignedDuration, Timestamp};

/// Failures in a row an address may have for one account before its lock.
pub const FREE_FAILURES: u32 = 5;
/// The same while the account is under attack from many addresses.
pub const FREE_FAILURES_UNDER_ATTACK: u32 = 1;
/// Failures in a row, from any addresses, that put an account under attack.
pub const UNDER_ATTACK: u32 = 20;
/// The first lock; each failure after it doubles the lock.
pub const FIRST_LOCK: SignedDuration = SignedDuration::from_mins(1);
/// The longest lock.
pub const MAX_LOCK: SignedDuration = SignedDuration::from_mins(15);
/// Failures are forgotten this long after the last one; longer than
/// `MAX_LOCK`, so a lock that ran out is not also a fresh start.
pub const FORGET_AFTER: SignedDuration = SignedDuration::from_hours(1);
/// Failures an address may have in `ADDRESS_WINDOW`, whatever the accounts.
pub const ADDRESS_FAILURES: usize = 20;
pub const ADDRESS_WINDOW: SignedDuration = SignedDuration::from_mins(5);
/// Entries per table; past it the stalest are dropped.
pub const MAX_ENTRIES: usize = 10_000;
/// Longest email kept as a key (the longest valid one).
const MAX_EMAIL_CHARS: usize = 254;

/// Why an attempt was refused, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// This address failed too often for this account.
    Account { retry_after: SignedDuration },
    /// This address failed too often, whatever the accounts.
    Address { retry_after: SignedDuration },
}

impl Refusal {
    pub fn retry_after(&self) -> SignedDuration {
        match self {
            Refusal::Account { retry_after } | Refusal::Address { retry_after } => *retry_after,
        }
    }

    /// What the sign-in page says.
    pub fn message(&self) -> String {
        let wait = in_minutes(self.retry_after());
        match self {
            Refusal::Account { .. } => {
                format!("Too many failed sign-ins for this account; try again in {wait}.")
            }
            Refusal::Address { .. } => {
                format!("Too many failed sign-ins from your address; try again in {wait}.")
            }
        }
    }
}

/// "1 minute", "3 minutes": whole minutes, rounded up.
fn in_minutes(wait: SignedDuration) -> String {
    let minutes = (wait.as_secs() + 59).div_euclid(60).max(1);
    if minutes == 1 {
        "1 minute".to_owned()
    } else {
        format!("{minutes} minutes")
    }
}

/// A sign-in under way, counted as failed until `succeeded`.
#[derive(Debug)]
#[must_use = "report how the attempt ended"]
pub struct Attempt {
    account: String,
    address: Option<IpAddr>,
    at: Timestamp,
    /// The lock this failure starts, if it starts one.
    locks_for: Option<SignedDuration>,
}

/// Failures in a row (less than `FORGET_AFTER` apart).
#[derive(Debug, Clone, Copy)]
struct Streak {
    failures: u32,
    last: Timestamp,
}

impl Streak {
    fn stale(&self, now: Timestamp) -> bool {
        now.duration_since(self.last) >= FORGET_AFTER
    }
}

#[derive(Default)]
struct Tables {
    pairs: HashMap<(String, Option<IpAddr>), Streak>,
    accounts: HashMap<String, Streak>,
    addresses: HashMap<IpAddr, VecDeque<Timestamp>>,
}

#[derive(Default)]
pub struct SignInLimiter {
    tables: Mutex<Tables>,
}

impl SignInLimiter {
    /// Counts a sign-in to `email` from `address` (`None`: unknown) as
    /// failed, unless a limit refuses it.
    pub fn attempt(
        &self,
        email: &str,
        address: Option<IpAddr>,
        now: Timestamp,
    ) -> Result<Attempt, Refusal> {
        let account = account_key(email);
        let address = address.map(address_key);
        let mut t = self.tables.lock().expect("sign-in limiter lock");
        let Tables {
            pairs,
            accounts,
            addresses,
        } = &mut *t;

        // An unknown address is every client of a server that does not say
        // who is connected: a budget for it would lock everyone out at once.
        if let Some(ip) = address {
            if let Some(log) = addresses.get_mut(&ip) {
                while log
                    .front()
                    .is_some_and(|&at| now.duration_since(at) >= ADDRESS_WINDOW)
                {
                    log.pop_front();
                }
                if log.len() >= ADDRESS_FAILURES {
                    let oldest = log[0];
                    return Err(Refusal::Address {
                        retry_after: (oldest + ADDRESS_WINDOW).duration_since(now),
                    });
                }
            }
        }
        let under_attack = accounts
            .get(&account)
            .is_some_and(|s| !s.stale(now) && s.failures >= UNDER_ATTACK);
        let free = if under_attack {
            FREE_FAILURES_UNDER_ATTACK
        } else {
            FREE_FAILURES
        };
        let pair_key = (account.clone(), address);
        let pair = pairs
            .get(&pair_key)
            .copied()
            .filter(|s| !s.stale(now))
            .map_or(Ok(0), |s| {
                let until = s.last + lock(s.failures, free);
                if s.failures >= free && now < until {
                    return Err(Refusal::Account {
                        retry_after: until.duration_since(now),
                    });
                }
                Ok(s.failures)
            });
        let failures = pair? + 1;

        insert_bounded(
            pairs,
            pair_key,
            Streak {
                failures,
                last: now,
            },
            now,
        );
        let across = accounts
            .get(&account)
            .filter(|s| !s.stale(now))
            .map_or(0, |s| s.failures);
        insert_bounded(
            accounts,
            account.clone(),
            Streak {
                failures: across + 1,
                last: now,
            },
            now,
        );
        if let Some(ip) = address {
            if !addresses.contains_key(&ip) && addresses.len() >= MAX_ENTRIES {
                evict_addresses(addresses, now);
            }
            addresses.entry(ip).or_default().push_back(now);
        }
        Ok(Attempt {
            account,
            address,
            at: now,
            locks_for: (failures >= free).then(|| lock(failures, free)),
        })
    }

    /// The password was right: forget this address's failures for the
    /// account, and take back the failure `attempt` counted.
    pub fn succeeded(&self, attempt: Attempt) {
        let mut t = self.tables.lock().expect("sign-in limiter lock");
        t.pairs.remove(&(attempt.account.clone(), attempt.address));
        if let Some(s) = t.accounts.get_mut(&attempt.account) {
            s.failures = s.failures.saturating_sub(1);
        }
        if let Some(log) = attempt.address.and_then(|ip| t.addresses.get_mut(&ip)) {
            if let Some(i) = log.iter().rposition(|&at| at == attempt.at) {
                log.remove(i);
            }
        }
    }

    /// The password was wrong: the failure stays counted; a warning is
    /// logged when it starts a lock (never the password).
    pub fn failed(&self, attempt: Attempt) {
        if let Some(lock) = attempt.locks_for {
            let address = attempt
                .address
                .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
            tracing::warn!(
                account = %attempt.account,
                %address,
                lock_secs = lock.as_secs(),
                "too many failed sign-ins; this account is locked for this address"
            );
        }
    }

    /// How many entries the tables hold, for tests of the bound.
    pub fn entries(&self) -> usize {
        let t = self.tables.lock().expect("sign-in limiter lock");
        t.pairs.len() + t.accounts.len() + t.addresses.len()
    }
}

/// The lock after `failures` in a row when `free` were allowed.
fn lock(failures: u32, free: u32) -> SignedDuration {
    let doublings = failures.saturating_sub(free).min(8);
    (FIRST_LOCK * 2i32.pow(doublings)).min(MAX_LOCK)
}

fn account_key(email: &str) -> String {
    email
        .trim()
        .chars()
        .take(MAX_EMAIL_CHARS)
        .collect::<String>()
        .to_lowercase()
}

/// IPv4 as is (also when mapped into IPv6); IPv6 by its /64, which is what
/// one subscriber usually gets.
fn address_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
        v4 => v4,
    }
}

/// Inserts, first making room when the table is full: stale streaks go,
/// then the one with the fewest failures (the oldest of those).
fn insert_bounded<K: Eq + Hash + Clone>(
    map: &mut HashMap<K, Streak>,
    key: K,
    value: Streak,
    now: Timestamp,
) {
    if !map.contains_key(&key) && map.len() >= MAX_ENTRIES {
        map.retain(|_, s| !s.stale(now));
        if map.len() >= MAX_ENTRIES {
            let oldest = map
                .iter()
                .min_by_key(|(_, s)| (s.failures, s.last))
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                map.remove(&oldest);
            }
        }
    }
    map.insert(key, value);
}

fn evict_addresses(map: &mut HashMap<IpAddr, VecDeque<Timestamp>>, now: Timestamp) {
    map.retain(|_, log| {
        log.back()
            .is_some_and(|&at| now.duration_since(at) < ADDRESS_WINDOW)
    });
    if map.len() >= MAX_ENTRIES {
        let oldest = map
            .iter()
            .min_by_key(|(_, log)| (log.len(), log.back().copied()))
            .map(|(ip, _)| *ip);
        if let Some(oldest) = oldest {
            map.remove(&oldest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> Timestamp {
        "2026-11-25T14:00:00Z".parse().unwrap()
    }

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    const MIN: SignedDuration = SignedDuration::from_mins(1);

    /// Fails `n` sign-ins, all allowed.
    fn fail(limiter: &SignInLimiter, email: &str, address: Option<IpAddr>, at: Timestamp, n: u32) {
        for i in 0..n {
            let attempt = limiter
                .attempt(email, address, at)
                .unwrap_or_else(|r| panic!("attempt {i} for {email} refused: {r:?}"));
            limiter.failed(attempt);
        }
    }

    fn refused_for(
        limiter: &SignInLimiter,
        email: &str,
        address: Option<IpAddr>,
        at: Timestamp,
    ) -> Refusal {
        limiter
            .attempt(email, address, at)
            .expect_err("the attempt should be refused")
    }

    #[test]
    fn five_failures_lock_the_account_for_that_address_and_the_lock_grows_to_15_minutes() {
        let limiter = SignInLimiter::default();
        let attacker = ip("203.0.113.9");
        fail(&limiter, "admin@localhost", attacker, t0(), 5);
        let refusal = refused_for(&limiter, "ADMIN@localhost", attacker, t0());
        assert_eq!(refusal, Refusal::Account { retry_after: MIN });
        assert_eq!(
            refusal.message(),
            "Too many failed sign-ins for this account; try again in 1 minute."
        );
        // Refused attempts do not count: the lock does not move.
        let later = t0() + SignedDuration::from_secs(30);
        assert_eq!(
            refused_for(&limiter, "admin@localhost", attacker, later).retry_after(),
            SignedDuration::from_secs(30)
        );
        // Each failure after a lock doubles it, up to 15 minutes.
        let mut now = t0();
        for lock_mins in [1, 2, 4, 8, 15, 15] {
            now += SignedDuration::from_mins(lock_mins);
            refused_for(
                &limiter,
                "admin@localhost",
                attacker,
                now - SignedDuration::from_secs(1),
            );
            fail(&limiter, "admin@localhost", attacker, now, 1);
        }
        assert_eq!(
            refused_for(&limiter, "admin@localhost", attacker, now).retry_after(),
            MAX_LOCK
        );
        // 15 minutes without failures and all is forgotten.
        fail(&limiter, "admin@localhost", attacker, now + FORGET_AFTER, 5);
    }

    #[test]
    fn the_owner_signs_in_from_an_address_without_failures() {
        let limiter = SignInLimiter::default();
        fail(&limiter, "admin@localhost", ip("203.0.113.9"), t0(), 5);
        refused_for(&limiter, "admin@localhost", ip("203.0.113.9"), t0());
        let owner = limiter
            .attempt("admin@localhost", ip("198.51.100.7"), t0())
            .unwrap();
        limiter.succeeded(owner);
        // A success forgets that address's failures for the account.
        let limiter = SignInLimiter::default();
        let me = ip("198.51.100.7");
        fail(&limiter, "ada@example.com", me, t0(), 4);
        limiter.succeeded(limiter.attempt("ada@example.com", me, t0()).unwrap());
        fail(&limiter, "ada@example.com", me, t0(), 5);
    }

    #[test]
    fn an_address_gets_20_failures_in_5_minutes_whatever_the_accounts() {
        let limiter = SignInLimiter::default();
        let spray = ip("203.0.113.9");
        for i in 0..20 {
            let at = t0() + SignedDuration::from_secs(i);
            fail(&limiter, &format!("user{i}@example.com"), spray, at, 1);
        }
        let refusal = refused_for(&limiter, "new@example.com", spray, t0() + MIN);
        assert_eq!(
            refusal,
            Refusal::Address {
                retry_after: SignedDuration::from_mins(4)
            }
        );
        assert!(refusal
            .message()
            .contains("from your address; try again in 4 minutes"));
        // The oldest failure leaves the window: one more may be tried.
        fail(&limiter, "new@example.com", spray, t0() + ADDRESS_WINDOW, 1);
        // IPv6 addresses count by their /64.
        let limiter = SignInLimiter::default();
        for i in 0..20 {
            fail(
                &limiter,
                &format!("u{i}@x"),
                ip(&format!("2001:db8::{i:x}")),
                t0(),
                1,
            );
        }
        refused_for(&limiter, "u@x", ip("2001:db8::ffff:1"), t0());
        fail(&limiter, "u@x", ip("2001:db8:0:1::1"), t0(), 1);
        // No budget for the unknown address, which is every client at once.
        let limiter = SignInLimiter::default();
        for i in 0..40 {
            fail(&limiter, &format!("u{i}@x"), None, t0(), 1);
        }
    }

    #[test]
    fn an_account_failing_from_many_addresses_gives_each_address_one_failure() {
        let limiter = SignInLimiter::default();
        for i in 0..20 {
            fail(
                &limiter,
                "admin@localhost",
                ip(&format!("203.0.113.{i}")),
                t0(),
                1,
            );
        }
        let bot = ip("198.51.100.1");
        fail(&limiter, "admin@localhost", bot, t0(), 1);
        assert_eq!(
            refused_for(&limiter, "admin@localhost", bot, t0()),
            Refusal::Account { retry_after: MIN }
        );
        // The owner, from a clean address, still gets in.
        let owner = limiter
            .attempt("admin@localhost", ip("192.0.2.1"), t0())
            .unwrap();
        limiter.succeeded(owner);
    }

    #[test]
    fn the_tables_stay_bounded() {
        let limiter = SignInLimiter::default();
        for i in 0..(MAX_ENTRIES as u32 + 500) {
            let address = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            fail(
                &limiter,
                &format!("{i}@example.com"),
                Some(address),
                t0(),
                1,
            );
        }
        assert_eq!(limiter.entries(), 3 * MAX_ENTRIES);
        // Flooding a full table with new names and addresses does not free
        // a locked pair: those with the fewest failures go first.
        let limiter = SignInLimiter::default();
        let attacker = ip("203.0.113.9");
        fail(&limiter, "admin@localhost", attacker, t0(), 5);
        for i in 0..(MAX_ENTRIES as u32 + 100) {
            let address = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            fail(
                &limiter,
                &format!("{i}@example.com"),
                Some(address),
                t0() + SignedDuration::from_secs(1),
                1,
            );
        }
        refused_for(
            &limiter,
            "admin@localhost",
            attacker,
            t0() + SignedDuration::from_secs(2),
        );
    }
}
