//! Who reads which partition of `auren.beats`: the server processes of one consumer group share the
//! partitions through PostgreSQL advisory locks, so more processes read in parallel and a process that dies
//! gives its partitions up the moment its connection goes.
//!
//! Each process is a [`Member`]: one connection, kept while the process runs, that holds a lock of the
//! group's member space under a key of its own. `pg_locks` then counts the live members exactly (a killed
//! process leaves the count with its connection, with no heartbeat to time out). A member claims its share,
//! ⌈partitions / members⌉, by taking free partition locks on the same connection (starting from a place of
//! its own, so members do not all try the same first); a member whose share is taken stands by. While it
//! reads, it takes a census every second (beside its offsets write): holding less than the share while some
//! partition is free (a member left) makes it claim more and read them too; holding more than the share (a
//! member joined) makes it give the extra partitions away — their queued chunks fed, their sessions dropped
//! unfinished, their offsets written, then their locks released. Either way the sessions it goes on feeding
//! are kept.
//! Its offsets are written on that connection, so only a partition's holder writes them (see
//! [`super::OffsetBook`]); a new term of any member goes on from them.
//!
//! A server of before this module led the whole group under one 64-bit lock; while one holds it (a rolling
//! upgrade), members claim nothing, so no partition is read by an old and a new server at once.

use sqlx::{Connection, PgConnection, PgPool};
use uuid::Uuid;

/// The lock keys of one consumer group: the first key of each two-key lock space, and the whole-group lock
/// of servers before partition claims.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct GroupKeys {
    members: i32,
    partitions: i32,
    legacy: i64,
}

impl GroupKeys {
    pub(super) fn of(group: &str) -> Self {
        let positive = |text: String| (fnv1a(&text) & 0x7fff_ffff) as i32;
        Self {
            members: positive(format!("auren consumer members {group}")),
            partitions: positive(format!("auren consumer partitions {group}")),
            legacy: fnv1a(&format!("auren consumer group {group}")).cast_signed(),
        }
    }
}

/// A stable 64-bit FNV-1a hash, so every server process finds the same keys.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// What the group looks like now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Census {
    /// Live members, this one included.
    pub members: i64,
    /// Partitions some member holds.
    pub locked: i64,
    /// A server of before partition claims leads the whole group.
    pub legacy_leader: bool,
}

/// The most partitions one member of `members` may hold: ⌈partitions / members⌉.
pub(super) fn share(partitions: i32, members: i64) -> usize {
    let partitions = usize::try_from(partitions).unwrap_or(0);
    let members = usize::try_from(members.max(1)).unwrap_or(1);
    partitions.div_ceil(members)
}

/// What a member holding `held` of `partitions` does after a census.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Step {
    /// Its share is what it holds, or no partition is free: it reads on.
    Keep,
    /// A member left, so its share grew and a partition is free: it claims more without ending its term.
    Grow,
    /// A member joined, so its share shrank: it keeps this many partitions and gives the rest away without
    /// ending its term.
    Shrink { keep: usize },
    /// A server of before partition claims leads the whole group: it gives everything back.
    Release,
}

pub(super) fn step(held: usize, partitions: i32, census: Census) -> Step {
    let share = share(partitions, census.members);
    if census.legacy_leader {
        Step::Release
    } else if held > share {
        Step::Shrink { keep: share }
    } else if held < share && census.locked < i64::from(partitions) {
        Step::Grow
    } else {
        Step::Keep
    }
}

/// This process in its group: the connection holding its member lock, and, during a term, its partitions'.
#[derive(Debug)]
pub(super) struct Member {
    conn: PgConnection,
    keys: GroupKeys,
    /// This member's key in the member space (also where its claims start).
    id: i32,
}

impl Member {
    /// Joins the group: a connection of its own (it leaves the pool; closing it releases every lock).
    pub(super) async fn join(pool: &PgPool, keys: GroupKeys) -> Result<Self, sqlx::Error> {
        let mut conn = pool.acquire().await?.detach();
        loop {
            // A random key; another member's (1 in 2^31) is simply drawn again.
            let id = (Uuid::new_v4().as_u128() & 0x7fff_ffff) as i32;
            let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, $2)")
                .bind(keys.members)
                .bind(id)
                .fetch_one(&mut conn)
                .await?;
            if locked {
                return Ok(Self { conn, keys, id });
            }
        }
    }

    /// The connection, for the offsets (written where the locks are held).
    pub(super) fn conn(&mut self) -> &mut PgConnection {
        &mut self.conn
    }

    pub(super) async fn census(&mut self) -> Result<Census, sqlx::Error> {
        let (members, locked, legacy): (i64, i64, i64) = sqlx::query_as(
            "SELECT count(*) FILTER (WHERE objsubid = 2 AND classid = $1::bigint::oid), \
                    count(*) FILTER (WHERE objsubid = 2 AND classid = $2::bigint::oid), \
                    count(*) FILTER (WHERE objsubid = 1 AND classid = $3::bigint::oid AND objid = $4::bigint::oid) \
             FROM pg_locks WHERE locktype = 'advisory' AND granted \
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        )
        .bind(i64::from(self.keys.members))
        .bind(i64::from(self.keys.partitions))
        .bind((self.keys.legacy >> 32) & 0xffff_ffff)
        .bind(self.keys.legacy & 0xffff_ffff)
        .fetch_one(&mut self.conn)
        .await?;
        Ok(Census {
            members,
            locked,
            legacy_leader: legacy > 0,
        })
    }

    /// Takes free partitions of `partitions` up to this member's share; returns them, ascending (none: stand by).
    pub(super) async fn claim(&mut self, partitions: i32) -> Result<Vec<i32>, sqlx::Error> {
        let census = self.census().await?;
        self.claim_more(partitions, census, &[]).await
    }

    /// Takes free partitions of `partitions` beside `held` until it holds its share as of `census`; returns
    /// the new ones, ascending. (An advisory lock taken twice in one session stacks, so the held ones are
    /// never asked for.)
    pub(super) async fn claim_more(
        &mut self,
        partitions: i32,
        census: Census,
        held: &[i32],
    ) -> Result<Vec<i32>, sqlx::Error> {
        if census.legacy_leader || partitions <= 0 {
            return Ok(Vec::new());
        }
        let wanted = share(partitions, census.members).saturating_sub(held.len());
        let mut taken = Vec::with_capacity(wanted);
        for step in 0..partitions {
            if taken.len() >= wanted {
                break;
            }
            let partition = (self.id % partitions + step) % partitions;
            if held.contains(&partition) {
                continue;
            }
            let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, $2)")
                .bind(self.keys.partitions)
                .bind(partition)
                .fetch_one(&mut self.conn)
                .await?;
            if locked {
                taken.push(partition);
            }
        }
        taken.sort_unstable();
        Ok(taken)
    }

    /// Gives `held` back (the member lock stays).
    pub(super) async fn unclaim(&mut self, held: &[i32]) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT pg_advisory_unlock($1, p) FROM unnest($2::int[]) AS p")
            .bind(self.keys.partitions)
            .bind(held)
            .execute(&mut self.conn)
            .await?;
        Ok(())
    }

    /// Leaves the group (closing the connection releases its locks at once).
    pub(super) async fn leave(self) {
        if let Err(e) = self.conn.close().await {
            tracing::debug!(error = %e, "closing the consumer's member connection failed (its locks go with it)");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_grows_when_a_partition_is_free_and_shrinks_when_it_holds_more_than_its_share() {
        let census = |members, locked, legacy_leader| Census {
            members,
            locked,
            legacy_leader,
        };
        // (held, partitions, census, share, step)
        let cases = [
            (3, 3, census(1, 3, false), 3, Step::Keep),
            (3, 3, census(2, 3, false), 2, Step::Shrink { keep: 2 }),
            (2, 3, census(2, 3, false), 2, Step::Keep),
            (1, 3, census(2, 3, false), 2, Step::Keep),
            (1, 3, census(1, 1, false), 3, Step::Grow),
            (2, 3, census(1, 2, false), 3, Step::Grow),
            (1, 3, census(3, 3, false), 1, Step::Keep),
            (0, 3, census(4, 3, false), 1, Step::Keep),
            (0, 3, census(2, 2, false), 2, Step::Grow),
            (2, 3, census(2, 3, true), 2, Step::Release),
            (1, 3, census(1, 1, true), 3, Step::Release),
            (3, 3, census(3, 3, false), 1, Step::Shrink { keep: 1 }),
            (6, 12, census(2, 12, false), 6, Step::Keep),
        ];
        for (held, partitions, census, expected_share, expected) in cases {
            assert_eq!(share(partitions, census.members), expected_share, "{census:?}");
            assert_eq!(
                step(held, partitions, census),
                expected,
                "held {held} of {partitions}, {census:?}"
            );
        }
    }

    #[test]
    fn the_group_keys_are_stable_and_positive_where_postgres_reads_them_as_oids() {
        let keys = GroupKeys::of("auren-server-cep");
        assert_eq!(keys, GroupKeys::of("auren-server-cep"));
        assert!(keys.members > 0 && keys.partitions > 0 && keys.members != keys.partitions);
        assert_ne!(keys, GroupKeys::of("another group"));
    }
}
